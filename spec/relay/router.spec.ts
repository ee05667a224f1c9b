import * as E from 'fp-ts/Either'
import { map } from 'rxjs'
import {
  defaultRouter,
  reject,
  route,
  type RouteDecision,
  type RouteRequest,
  type Router
} from '../../src/relay/router'
import type { Binding, RelayConnection } from '../../src/relay/types'
import { memoryPair } from '../../src/transport/memory'
import { mediaTypeMatches } from '../../src/wire/headers/content-type'
import { parsePath, type Path } from '../../src/wire/headers/path'
import { parseUri, type MsrpUri } from '../../src/wire/uri'
import { testScheduler } from '../helpers/marbles'

const uri = (s: string): MsrpUri => (parseUri(s) as E.Right<MsrpUri>).right
const path = (s: string): Path => (parsePath(s) as E.Right<Path>).right

const RELAY = 'msrp://relay.example.com:2855;tcp'
const ALICE_URI = 'msrp://relay.example.com:2855/aliceSid0123456789ab;tcp'
const connection = (id: string): RelayConnection => ({
  id,
  transport: memoryPair()[0],
  identity: undefined,
  relayUri: uri(RELAY)
})
const alice = connection('c1')
const stranger = connection('c2')
const binding: Binding = {
  uri: uri(ALICE_URI),
  sessionId: 'aliceSid0123456789ab',
  connectionId: 'c1',
  user: 'alice',
  expiresAtMs: Number.MAX_SAFE_INTEGER
}

const request = (
  id: number,
  toPath: string,
  conn: RelayConnection,
  b: Binding | undefined,
  contentType = 'text/plain'
): RouteRequest => ({
  id,
  head: {
    type: 'request',
    transactionId: `tid${id}aaaa`,
    method: 'SEND',
    headers: [
      ['To-Path', toPath],
      ['From-Path', 'msrp://peer.example.com:7000/p;tcp'],
      ['Content-Type', contentType]
    ]
  },
  toPath: path(toPath),
  fromPath: path('msrp://peer.example.com:7000/p;tcp'),
  send: undefined,
  connection: conn,
  binding: b,
  internalHops: 0
})

const toBob = `${ALICE_URI} msrp://bob.example.com:8000/bob;tcp`

describe('route: the RFC 4976 policy (R-6.4-1, R-3.1-1: no open relay)', () => {
  it('R-6.3-9 refuses with 481 a first To-Path URI that names no live binding of ours', () => {
    expect(route(request(1, 'msrp://elsewhere.example.com:2855/x;tcp msrp://b:1/y;tcp', stranger, undefined))).toEqual({
      kind: 'reject',
      id: 1,
      status: 481,
      reason: 'UnknownUri'
    })
  })

  it('refuses with 403 a request to our URI with nothing after it', () => {
    expect(route(request(2, ALICE_URI, stranger, binding))).toEqual(expect.objectContaining({ status: 403 }))
  })

  it('R-6.4-1 (2) forwards to the next To-Path URI a request from the binding owner over its own connection', () => {
    expect(route(request(3, toBob, alice, binding))).toEqual({
      kind: 'forward',
      id: 3,
      nextHop: { kind: 'uri', uri: uri('msrp://bob.example.com:8000/bob;tcp') }
    })
  })

  it('R-6.4-1 (1) sends anything else towards the binding owner only, whatever To-Path names next', () => {
    expect(route(request(4, toBob, stranger, binding))).toEqual({
      kind: 'forward',
      id: 4,
      nextHop: { kind: 'connection', connectionId: 'c1' }
    })
  })
})

describe('defaultRouter (marbles)', () => {
  const a = request(1, toBob, alice, binding)
  const b = request(2, toBob, stranger, binding)
  const c = request(3, 'msrp://x.example.com:1/x;tcp msrp://b:1/y;tcp', stranger, undefined)

  it('decides each request as it comes, in order, and completes with its source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c-|', { a, b, c }).pipe(defaultRouter())).toBe('-A-B-C-|', {
        A: route(a),
        B: route(b),
        C: route(c)
      })
    })
  })

  it('emits nothing for never and empty, and passes a source error on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<RouteRequest>('-').pipe(defaultRouter())).toBe('-')
      expectObservable(cold<RouteRequest>('|').pipe(defaultRouter())).toBe('|')
      expectObservable(cold<RouteRequest>('-#', {}, new Error('x')).pipe(defaultRouter())).toBe(
        '-#',
        {},
        new Error('x')
      )
    })
  })

  it('unsubscribes from its source when its subscriber leaves', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-a-a-a', { a })
      expectObservable(source.pipe(defaultRouter()), '^--!').toBe('-A-', { A: route(a) })
      expectSubscriptions(source.subscriptions).toBe('^--!')
    })
  })
})

describe('a custom router composed with the default', () => {
  /** Refuses SENDs of one media type with 415 (R-9.4-2 style policy), everything else as RFC 4976 says. */
  const refuseType =
    (pattern: string): Router =>
    (requests$) =>
      requests$.pipe(
        map((r): RouteDecision => {
          const type = r.head.headers.find(([n]) => n === 'Content-Type')?.[1]
          return type !== undefined && mediaTypeMatches(type, pattern) ? reject(r, 415, 'MediaRefused') : route(r)
        })
      )

  it('answers 415 to the refused type and routes the rest by the RFC 4976 rules', () => {
    const spam = request(1, toBob, alice, binding, 'application/x-spam')
    const text = request(2, toBob, alice, binding)
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-s-t-|', { s: spam, t: text }).pipe(refuseType('application/x-spam'))).toBe('-S-T-|', {
        S: { kind: 'reject', id: 1, status: 415, reason: 'MediaRefused' },
        T: route(text)
      })
    })
  })
})
