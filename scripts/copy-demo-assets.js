// Copies the demo web chat's static files (src/relay/demo: HTML, CSS, the page's script) next to the compiled relay
// in dist/, so that the published package serves the page (tsc copies only what it compiles).
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const from = path.join(__dirname, '..', 'src', 'relay', 'demo')
const to = path.join(__dirname, '..', 'dist', 'relay', 'demo')
fs.cpSync(from, to, { recursive: true, filter: (file) => !file.endsWith('.ts') })
