import { readFileSync } from 'node:fs'
import * as http from 'node:http'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { register as globalRegister } from 'prom-client'
import { Subject } from 'rxjs'
import {
  createRelayMetrics,
  observeRelay,
  serveMetrics,
  type MetricsServer,
  type RelayMetrics
} from '../../src/relay/observe'
import type { RelayEvent } from '../../src/relay/types'

/** A pino logger writing into an array of parsed lines. */
function memoryLogger(level = 'debug'): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level, base: undefined, timestamp: false }, { write: (s: string) => lines.push(JSON.parse(s)) })
  return { logger, lines }
}

/** The value of one metric with these labels (0 when it has none yet). */
async function valueOf(metrics: RelayMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const all = await metrics.registry.getMetricsAsJSON()
  const metric = all.find((m) => m.name === name)
  if (metric === undefined) throw new Error(`no metric ${name}`)
  const values = (metric as unknown as { values: { value: number; labels: Record<string, string> }[] }).values
  const found = values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
  return found?.value ?? 0
}

const connection = (id: string, kind = 'tcp'): RelayEvent => ({
  type: 'connection',
  connectionId: id,
  kind,
  remote: '127.0.0.1:50000'
})
const disconnection = (id: string): RelayEvent => ({ type: 'disconnection', connectionId: id, reason: 'closed' })

describe('observeRelay', () => {
  it('writes one log line per event, its fields under their own names, at a level that fits', () => {
    const events = new Subject<RelayEvent>()
    const { logger, lines } = memoryLogger()
    observeRelay(events, { logger })
    events.next(connection('c1'))
    events.next({ type: 'auth', connectionId: 'c1', user: 'alice', status: 401, reason: 'NoCredentials' })
    events.next({ type: 'auth', connectionId: 'c1', user: 'alice', status: 200 })
    events.next({ type: 'forwarded', connectionId: 'c1', to: 'c2', method: 'SEND', bytes: 100 })
    events.next({ type: 'refused', connectionId: 'c1', method: 'SEND', status: 481, reason: 'UnknownSession' })
    events.next({ type: 'report', connectionId: 'c1', status: 408, messageId: 'm1' })
    events.next(disconnection('c1'))
    expect(lines).toEqual([
      { level: 30, event: 'connection', connectionId: 'c1', kind: 'tcp', remote: '127.0.0.1:50000', msg: 'connection' },
      {
        level: 20,
        event: 'auth',
        connectionId: 'c1',
        user: 'alice',
        status: 401,
        reason: 'NoCredentials',
        msg: 'auth 401'
      },
      { level: 30, event: 'auth', connectionId: 'c1', user: 'alice', status: 200, msg: 'auth 200' },
      { level: 20, event: 'forwarded', connectionId: 'c1', to: 'c2', method: 'SEND', bytes: 100, msg: 'forwarded' },
      {
        level: 40,
        event: 'refused',
        connectionId: 'c1',
        method: 'SEND',
        status: 481,
        reason: 'UnknownSession',
        msg: 'refused 481'
      },
      { level: 20, event: 'report', connectionId: 'c1', status: 408, messageId: 'm1', msg: 'report 408' },
      { level: 30, event: 'disconnection', connectionId: 'c1', reason: 'closed', msg: 'disconnection' }
    ])
  })

  it('logs nothing below the level: at info, frames forwarded and challenges are left out', () => {
    const events = new Subject<RelayEvent>()
    const { logger, lines } = memoryLogger('info')
    observeRelay(events, { logger })
    events.next({ type: 'forwarded', connectionId: 'c1', to: 'c2', method: 'SEND', bytes: 1 })
    events.next({ type: 'auth', connectionId: 'c1', user: undefined, status: 401, reason: 'NoCredentials' })
    events.next({ type: 'auth', connectionId: 'c1', user: 'mallory', status: 403, reason: 'TooManyFailures' })
    expect(lines.map((l) => l['msg'])).toEqual(['auth 403'])
  })

  it('counts connections by kind, open and in total; a disconnection is counted once, for its own kind', async () => {
    const events = new Subject<RelayEvent>()
    const metrics = createRelayMetrics()
    observeRelay(events, { metrics })
    events.next(connection('c1', 'tcp'))
    events.next(connection('c2', 'wss'))
    events.next(connection('c3', 'wss'))
    events.next(disconnection('c2'))
    events.next(disconnection('c2'))
    events.next(disconnection('unknown'))
    expect(await valueOf(metrics, 'msrp_relay_connections', { kind: 'tcp' })).toBe(1)
    expect(await valueOf(metrics, 'msrp_relay_connections', { kind: 'wss' })).toBe(1)
    expect(await valueOf(metrics, 'msrp_relay_connections_total', { kind: 'wss' })).toBe(2)
  })

  it('counts AUTH answers, forwarded frames and bytes, refusals and REPORTs by their labels', async () => {
    const events = new Subject<RelayEvent>()
    const metrics = createRelayMetrics()
    observeRelay(events, { metrics })
    events.next({ type: 'auth', connectionId: 'c1', user: undefined, status: 401 })
    events.next({ type: 'auth', connectionId: 'c1', user: 'a', status: 200 })
    events.next({ type: 'auth', connectionId: 'c1', user: 'a', status: 200 })
    events.next({ type: 'forwarded', connectionId: 'c1', to: 'c2', method: 'SEND', bytes: 1000 })
    events.next({ type: 'forwarded', connectionId: 'c2', to: 'c1', method: 'REPORT', bytes: 24 })
    events.next({ type: 'forwarded', connectionId: 'c2', to: 'c1', method: 'X-MADE-UP', bytes: 1 })
    events.next({ type: 'refused', connectionId: 'c1', method: 'SEND', status: 481, reason: 'UnknownSession' })
    events.next({ type: 'report', connectionId: 'c1', status: 408, messageId: 'm' })
    expect(await valueOf(metrics, 'msrp_relay_auth_total', { status: '401' })).toBe(1)
    expect(await valueOf(metrics, 'msrp_relay_auth_total', { status: '200' })).toBe(2)
    expect(await valueOf(metrics, 'msrp_relay_forwarded_frames_total', { method: 'SEND' })).toBe(1)
    expect(await valueOf(metrics, 'msrp_relay_forwarded_frames_total', { method: 'REPORT' })).toBe(1)
    // A method from the wire never becomes a label of its own: a peer cannot grow the series without bound.
    expect(await valueOf(metrics, 'msrp_relay_forwarded_frames_total', { method: 'other' })).toBe(1)
    expect(await valueOf(metrics, 'msrp_relay_forwarded_bytes_total')).toBe(1025)
    expect(await valueOf(metrics, 'msrp_relay_refused_total', { status: '481' })).toBe(1)
    expect(await valueOf(metrics, 'msrp_relay_reports_total', { status: '408' })).toBe(1)
  })

  it('reads the number of live sessions at each scrape', async () => {
    let live = 3
    const metrics = createRelayMetrics({ sessions: () => live })
    expect(await valueOf(metrics, 'msrp_relay_sessions')).toBe(3)
    live = 5
    expect(await valueOf(metrics, 'msrp_relay_sessions')).toBe(5)
  })

  it('keeps each relay in a registry of its own, never the global one', async () => {
    const a = createRelayMetrics()
    const b = createRelayMetrics()
    a.record(connection('c1'))
    expect(await valueOf(a, 'msrp_relay_connections_total', { kind: 'tcp' })).toBe(1)
    expect(await valueOf(b, 'msrp_relay_connections_total', { kind: 'tcp' })).toBe(0)
    expect(await globalRegister.metrics()).not.toContain('msrp_relay_')
  })

  it('has every metric documented in docs/relay-cli.md', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'relay-cli.md'), 'utf8')
    const names = (await createRelayMetrics().registry.getMetricsAsJSON()).map((m) => m.name)
    expect(names).toHaveLength(8)
    for (const name of names) expect(doc).toContain(`| \`${name}\``)
  })

  it('stops when unsubscribed', () => {
    const events = new Subject<RelayEvent>()
    const { logger, lines } = memoryLogger()
    observeRelay(events, { logger }).unsubscribe()
    events.next(connection('c1'))
    expect(lines).toEqual([])
  })
})

describe('serveMetrics', () => {
  let server: MetricsServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  const get = (url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> =>
    new Promise((resolve, reject) => {
      const request = http.request(url, { method }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (d: string) => (body += d))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body })
        )
      })
      request.on('error', reject)
      request.end()
    })

  it('serves the Prometheus text format at GET /metrics on loopback', async () => {
    const metrics = createRelayMetrics()
    metrics.record(connection('c1', 'ws'))
    server = await serveMetrics(metrics.registry, '127.0.0.1', 0)
    expect(server.url).toBe(`http://127.0.0.1:${server.address.port}/metrics`)
    const response = await get(server.url)
    expect(response.status).toBe(200)
    expect(response.type).toBe(metrics.registry.contentType)
    expect(response.body).toContain('# TYPE msrp_relay_connections gauge')
    expect(response.body).toContain('msrp_relay_connections{kind="ws"} 1')
  })

  it('answers 404 for another path and 405 for another method', async () => {
    server = await serveMetrics(createRelayMetrics().registry, '::1', 0)
    expect(server.url).toBe(`http://[::1]:${server.address.port}/metrics`)
    expect((await get(`http://[::1]:${server.address.port}/`)).status).toBe(404)
    expect((await get(server.url, 'POST')).status).toBe(405)
  })

  it('fails with an error naming the address when the port is taken', async () => {
    const taken = http.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as AddressInfo).port
    try {
      await expect(serveMetrics(createRelayMetrics().registry, '127.0.0.1', port)).rejects.toThrow(
        `metrics cannot listen on 127.0.0.1:${port}`
      )
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})
