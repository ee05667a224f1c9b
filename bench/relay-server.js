// Our relay in a process of its own for bench/relay.js, as `rx-msrp relay` would run it (without logs): one TCP
// listener on loopback, one user. Answers { port } over IPC once listening, { rss } when asked, exits on 'stop'.
'use strict'
const { MsrpRelay, createAuthHandler, createRegistry, memoryCredentials } = require('../dist/relay')
const { listenTcp } = require('../dist/transport/tcp')

process.once('message', (cmd) => {
  const registry = createRegistry()
  const auth = createAuthHandler({ realm: '127.0.0.1', credentials: memoryCredentials(cmd.users), registry })
  const relay = new MsrpRelay({ auth, registry })
  listenTcp({ host: '127.0.0.1', port: 0 }).subscribe((listener) => {
    const port = listener.address.port
    relay.serve(listener, `msrp://127.0.0.1:${port};tcp`)
    process.send({ port })
  })
  process.on('message', (m) => {
    if (m === 'rss') process.send({ rss: process.memoryUsage.rss() })
    if (m === 'stop') relay.close().finally(() => process.exit(0))
  })
})
