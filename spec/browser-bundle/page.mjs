// What a page does with the browser bundle, run by Node for exchange.spec.ts: the bundle is imported as an ES module
// and given the `ws` client as its WebSocket constructor (a browser has its own). One JSON line per step on stdout;
// it reads Bob's path from RX_BOB_PATH and a line from stdin once Bob may answer.
import { createInterface } from 'node:readline'
import { WebSocket } from 'ws'

const print = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)
const input = createInterface({ input: process.stdin })
const lines = input[Symbol.asyncIterator]()

/** Resolves with the last event of an Observable of send events, or rejects with its error. */
const sent = (events$) =>
  new Promise((resolve, reject) => {
    let last
    events$.subscribe({ next: (e) => (last = e), error: reject, complete: () => resolve(last) })
  })

/** The same bytes as bytesOf in exchange.spec.ts. */
const bytesOf = (n, seed) => {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

const m = await import(process.env.RX_BUNDLE)
const endpoint = new m.BrowserEndpoint({ dial: { WebSocket } })
try {
  const session = endpoint.createSession(m.newWebSocketClientUri({ secure: false }))
  const firstMessage = new Promise((resolve) => {
    const sub = session.messages$.subscribe((message) => {
      sub.unsubscribe()
      resolve(message)
    })
  })
  const registration = await endpoint.authenticate(session, process.env.RX_RELAY, {
    username: 'alice',
    password: 'alice-secret',
    allowInsecure: true
  })
  print({ type: 'registered', own: session.uri, path: registration.path })
  await endpoint.connect(session, JSON.parse(process.env.RX_BOB_PATH))
  print({ type: 'connected' })
  print({ type: 'sent', what: 'text', last: (await sent(session.send('Hi Bob, from the bundle'))).type })
  const binary = bytesOf(200_000, 7)
  print({ type: 'sent', what: 'binary', last: (await sent(session.send(binary))).type })
  const file = new Blob([bytesOf(70_000, 9)], { type: 'image/png' })
  print({ type: 'sent', what: 'blob', last: (await sent(session.send(file))).type })
  await lines.next() // Bob is connected back
  const reply = await firstMessage
  const blob = await reply.collectBlob()
  print({ type: 'received', contentType: reply.contentType, blobType: blob.type, text: await blob.text() })
} catch (error) {
  print({ type: 'error', name: error?.name, reason: error?.reason, message: String(error?.message ?? error) })
} finally {
  input.close()
  endpoint.close()
}
