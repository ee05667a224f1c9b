// `npm run bench`: every benchmark of the project, each reported next to a baseline measured in the same
// run. Figures only: nothing here asserts a time (the machine is shared and noisy).
'use strict'
const benches = {
  framer: require('./framer'),
  transfer: require('./transfer'),
  relay: require('./relay'),
  'idle-sessions': require('./idle-sessions')
}
const only = process.argv[2]

async function main() {
  for (const [name, run] of Object.entries(benches)) {
    if (only !== undefined && only !== name) continue
    console.log(`# ${name}`)
    for (const row of await run()) {
      const cells = Object.entries(row).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`)
      console.log(cells.join('  '))
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
