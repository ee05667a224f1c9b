/**
 * Observability of a relay, from its `events$` (types.ts `RelayEvent`): one structured log line per event (pino) and
 * Prometheus metrics (prom-client) in a registry of their own, served over HTTP at `/metrics` when asked for
 * (docs/relay-cli.md "Metrics" and "Logs").
 *
 * ```text
 * events$:  c----a----f--f----d--|     c connection, a auth, f forwarded, d disconnection
 * logs:     {"event":"connection","connectionId":"c1","kind":"tcp","remote":"127.0.0.1:50312","msg":"connection"} …
 * metrics:  msrp_relay_connections{kind="tcp"} 1 → 0, msrp_relay_auth_total{status="200"} 1,
 *           msrp_relay_forwarded_frames_total{method="SEND"} 2, msrp_relay_forwarded_bytes_total 2048
 * ```
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { Counter, Gauge, Registry } from 'prom-client'
import type { Observable, Subscription } from 'rxjs'
import type { RelayEvent } from './types'

/** Methods that get their own `method` label; any other is counted as `other` (a peer cannot grow the label set). */
export const METRIC_METHODS: readonly string[] = ['SEND', 'REPORT', 'AUTH', 'NICKNAME']

/** The path the metrics listener serves. */
export const METRICS_PATH = '/metrics'

/** The metrics of one relay, in their own prom-client registry (never the global one). */
export interface RelayMetrics {
  /** Holds every metric below; `registry.metrics()` is the Prometheus text exposition. */
  readonly registry: Registry
  /** Counts one event. */
  record(event: RelayEvent): void
}

/** Options of {@link createRelayMetrics}. */
export interface RelayMetricsOptions {
  /** The number of live URIs issued by AUTH (the relay registry's `size`), read at each scrape. */
  readonly sessions?: () => number
  /** A prefix for every metric name; default `msrp_relay_`. */
  readonly prefix?: string
}

/** The `method` label of a method name. @internal */
const methodLabel = (method: string): string => (METRIC_METHODS.includes(method) ? method : 'other')

/** The `status` label of a status code: three digits, else `other`. @internal */
const statusLabel = (status: number): string =>
  Number.isInteger(status) && status >= 100 && status <= 999 ? String(status) : 'other'

/**
 * Metrics from relay events:
 *
 * | metric                                   | type    | labels   | counts                                           |
 * | ---------------------------------------- | ------- | -------- | ------------------------------------------------ |
 * | `msrp_relay_connections`                 | gauge   | `kind`   | open connections (tcp, tls, ws, wss)             |
 * | `msrp_relay_connections_total`           | counter | `kind`   | connections accepted                             |
 * | `msrp_relay_sessions`                    | gauge   |          | live URIs issued by AUTH (with `sessions`)       |
 * | `msrp_relay_auth_total`                  | counter | `status` | AUTH answers (200, 401, 403, 423 …)              |
 * | `msrp_relay_forwarded_frames_total`      | counter | `method` | requests forwarded (SEND, REPORT, …, other)      |
 * | `msrp_relay_forwarded_bytes_total`       | counter |          | bytes of the frames forwarded                    |
 * | `msrp_relay_refused_total`               | counter | `status` | requests refused by the relay (403, 481, 408 …)  |
 * | `msrp_relay_reports_total`               | counter | `status` | REPORTs the relay generated                      |
 */
export function createRelayMetrics(options: RelayMetricsOptions = {}): RelayMetrics {
  const prefix = options.prefix ?? 'msrp_relay_'
  const registry = new Registry()
  const registers = [registry]
  const connections = new Gauge({
    name: `${prefix}connections`,
    help: 'Open connections, by listener kind',
    labelNames: ['kind'],
    registers
  })
  const connectionsTotal = new Counter({
    name: `${prefix}connections_total`,
    help: 'Connections accepted, by listener kind',
    labelNames: ['kind'],
    registers
  })
  const sessions = options.sessions
  new Gauge({
    name: `${prefix}sessions`,
    help: 'Live URIs issued in Use-Path by AUTH',
    registers,
    collect() {
      if (sessions !== undefined) this.set(sessions())
    }
  })
  const auth = new Counter({
    name: `${prefix}auth_total`,
    help: 'AUTH requests answered, by status',
    labelNames: ['status'],
    registers
  })
  const frames = new Counter({
    name: `${prefix}forwarded_frames_total`,
    help: 'Requests forwarded, by method',
    labelNames: ['method'],
    registers
  })
  const bytes = new Counter({ name: `${prefix}forwarded_bytes_total`, help: 'Bytes forwarded', registers })
  const refused = new Counter({
    name: `${prefix}refused_total`,
    help: 'Requests the relay refused, by status',
    labelNames: ['status'],
    registers
  })
  const reports = new Counter({
    name: `${prefix}reports_total`,
    help: 'REPORTs the relay generated, by status',
    labelNames: ['status'],
    registers
  })
  // The kind of each open connection, for its disconnection (which does not repeat it); bounded by open connections.
  const kinds = new Map<string, string>()

  const record = (event: RelayEvent): void => {
    switch (event.type) {
      case 'connection':
        if (kinds.has(event.connectionId)) return
        kinds.set(event.connectionId, event.kind)
        connections.inc({ kind: event.kind })
        connectionsTotal.inc({ kind: event.kind })
        return
      case 'disconnection': {
        const kind = kinds.get(event.connectionId)
        if (kind === undefined) return
        kinds.delete(event.connectionId)
        connections.dec({ kind })
        return
      }
      case 'auth':
        auth.inc({ status: statusLabel(event.status) })
        return
      case 'forwarded':
        frames.inc({ method: methodLabel(event.method) })
        if (Number.isFinite(event.bytes) && event.bytes > 0) bytes.inc(event.bytes)
        return
      case 'refused':
        refused.inc({ status: statusLabel(event.status) })
        return
      case 'report':
        reports.inc({ status: statusLabel(event.status) })
        return
    }
  }
  return { registry, record }
}

/** pino's level for an event: the routine ones at debug, refusals and failed AUTHs (but challenges) at warn. */
export function logLevelOf(event: RelayEvent): 'debug' | 'info' | 'warn' {
  switch (event.type) {
    case 'connection':
    case 'disconnection':
      return 'info'
    case 'auth':
      return event.status === 200 ? 'info' : event.status === 401 ? 'debug' : 'warn'
    case 'forwarded':
    case 'report':
      return 'debug'
    case 'refused':
      return 'warn'
  }
}

/** The log line of an event: its fields under their own names, `event` for its type, and a short message. */
export function logRelayEvent(logger: Logger, event: RelayEvent): void {
  const { type, ...fields } = event
  const message =
    event.type === 'auth' || event.type === 'refused' || event.type === 'report' ? `${type} ${event.status}` : type
  logger[logLevelOf(event)]({ event: type, ...fields }, message)
}

/** Options of {@link observeRelay}. */
export interface ObserveRelayOptions {
  /** Writes one line per event; default none. */
  readonly logger?: Logger
  /** Counts every event; default none. */
  readonly metrics?: RelayMetrics
}

/** Logs and counts every event of `events$` until the subscription is unsubscribed or `events$` ends. */
export function observeRelay(events$: Observable<RelayEvent>, options: ObserveRelayOptions): Subscription {
  const { logger, metrics } = options
  return events$.subscribe({
    next: (event) => {
      metrics?.record(event)
      if (logger !== undefined) logRelayEvent(logger, event)
    },
    error: (e: unknown) => logger?.error({ event: 'error', err: e }, 'relay events failed')
  })
}

/** A running metrics listener. */
export interface MetricsServer {
  /** The bound address (the port chosen when 0 was asked for). */
  readonly address: { readonly host: string; readonly port: number }
  /** `http://HOST:PORT/metrics`. */
  readonly url: string
  /** Stops listening and closes open scrape connections. */
  close(): Promise<void>
}

/**
 * Serves `registry` over HTTP at `GET /metrics` (Prometheus text format) on `host:port`; any other path is 404 and
 * any other method 405. Rejects with an Error naming the address when it cannot listen (in use, no permission).
 */
export function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path !== METRICS_PATH) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${METRICS_PATH}\n`)
      return
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
      return
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType })
        response.end(request.method === 'HEAD' ? undefined : text)
      },
      (e: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' })
        response.end(`cannot collect metrics: ${e instanceof Error ? e.message : String(e)}\n`)
      }
    )
  })
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      server.off('listening', onListening)
      reject(new Error(`metrics cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${e.message}`))
    }
    const onListening = (): void => {
      server.off('error', onError)
      server.on('error', () => undefined) // after listening, errors concern single connections
      const bound = server.address() as AddressInfo
      const shown = bound.address.includes(':') ? `[${bound.address}]` : bound.address
      resolve({
        address: { host: bound.address, port: bound.port },
        url: `http://${shown}:${bound.port}${METRICS_PATH}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}
