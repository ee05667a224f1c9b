import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import {
  encodeForwarded,
  encodeSendOk,
  movePaths,
  pathTokens,
  rewriteRequest,
  rewriteResponse,
  withByteRange
} from '../../src/relay/rewrite'
import { encodeFrame } from '../../src/wire/encoder'
import { responseTo } from '../../src/wire/replies'
import { arbRequest } from '../arbitraries/frame'
import { formatPath, parsePath } from '../../src/wire/headers/path'
import type { Header, MsrpResponse, RequestHead } from '../../src/wire/model'
import { arbHeaderName, arbHeaderValue, arbIdent } from '../arbitraries/frame'
import { arbPath } from '../arbitraries/headers'

const isPathHeader = ([n]: Header): boolean => ['to-path', 'from-path'].includes(n.toLowerCase())
/** Headers other than the paths, placed around them. */
const arbOther = fc
  .array(fc.tuple(arbHeaderName, arbHeaderValue), { maxLength: 5 })
  .map((hs) => hs.filter((h) => !isPathHeader(h) && h[0].toLowerCase() !== 'byte-range'))

const arbHead = fc
  .record({ to: arbPath, from: arbPath, before: arbOther, after: arbOther, tid: arbIdent })
  .filter(({ to }) => to.length >= 2)
  .map(({ to, from, before, after, tid }): RequestHead => ({
    type: 'request',
    transactionId: tid,
    method: 'SEND',
    headers: [...before, ['To-Path', formatPath(to)], ['From-Path', formatPath(from)], ...after]
  }))

const value = (headers: readonly Header[], name: string): string =>
  headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? ''

describe('rewriteRequest (RFC 4976 §6.4, R-6.4.1-6)', () => {
  it('R-6.4.1-6 pops the first To-Path URI and pushes that same URI onto the front of From-Path', () => {
    fc.assert(
      fc.property(arbHead, arbIdent, (head, tid) => {
        const out = rewriteRequest(head, tid)
        if (E.isLeft(out)) throw new Error(out.left.detail)
        const to = pathTokens(value(head.headers, 'To-Path'))
        const from = pathTokens(value(head.headers, 'From-Path'))
        expect(pathTokens(value(out.right.headers, 'To-Path'))).toEqual(to.slice(1))
        expect(pathTokens(value(out.right.headers, 'From-Path'))).toEqual([to[0], ...from])
        // The URIs are still valid paths.
        expect(E.isRight(parsePath(value(out.right.headers, 'To-Path')))).toBe(true)
      })
    )
  })

  it('R-6.4-2 gives the request a new transaction id and leaves every other header in place, unchanged', () => {
    fc.assert(
      fc.property(arbHead, arbIdent, (head, tid) => {
        const out = rewriteRequest(head, tid)
        if (E.isLeft(out)) throw new Error(out.left.detail)
        expect(out.right.transactionId).toBe(tid)
        expect(out.right.method).toBe(head.method)
        expect(out.right.headers.length).toBe(head.headers.length)
        head.headers.forEach((h, i) => {
          if (!isPathHeader(h)) expect(out.right.headers[i]).toEqual(h)
          else expect(out.right.headers[i]?.[0]).toBe(h[0])
        })
      })
    )
  })

  it('pops several of our URIs in order (two hops through one relay, RFC 7977 §8.3)', () => {
    const head: RequestHead = {
      type: 'request',
      transactionId: 'kjh6',
      method: 'SEND',
      headers: [
        [
          'To-Path',
          'msrps://a.example.com:2855/jui787s2f;tcp msrps://a.example.com:2855/iwnslt;tcp msrps://c.invalid:2855/76qwe;ws'
        ],
        ['From-Path', 'msrps://d.invalid:2855/98cjs;ws']
      ]
    }
    const out = rewriteRequest(head, 're58', 2)
    expect(E.isRight(out) && out.right.headers).toEqual([
      ['To-Path', 'msrps://c.invalid:2855/76qwe;ws'],
      [
        'From-Path',
        'msrps://a.example.com:2855/iwnslt;tcp msrps://a.example.com:2855/jui787s2f;tcp msrps://d.invalid:2855/98cjs;ws'
      ]
    ])
  })

  it('refuses a To-Path that would be left empty, and missing paths, as typed failures', () => {
    const one: RequestHead = {
      type: 'request',
      transactionId: 'abcd',
      method: 'SEND',
      headers: [
        ['To-Path', 'msrp://r.example.com:2855/x;tcp'],
        ['From-Path', 'msrp://a.example.com:2855/y;tcp']
      ]
    }
    expect(rewriteRequest(one, 'efgh')).toEqual(E.left(expect.objectContaining({ reason: 'ToPathTooShort' })))
    expect(movePaths([['From-Path', 'msrp://a:1/y;tcp']])).toEqual(
      E.left(expect.objectContaining({ reason: 'ToPathMissing' }))
    )
    expect(movePaths([['To-Path', 'msrp://a:1/y;tcp msrp://b:1/z;tcp']])).toEqual(
      E.left(expect.objectContaining({ reason: 'FromPathMissing' }))
    )
  })

  it('never throws, whatever the header values', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('To-Path', 'From-Path', 'X'), fc.string())), fc.nat(4), (h, n) => {
        movePaths(h, n)
      })
    )
  })
})

describe('rewriteResponse (R-6.4.3-4)', () => {
  it('restores the incoming leg transaction id and moves our URI to From-Path (RFC 4976 §10.3 401 to Alice)', () => {
    const response: MsrpResponse = {
      type: 'response',
      transactionId: 'm2nbvw',
      status: 401,
      comment: 'Unauthorized',
      headers: [
        ['To-Path', 'msrps://intra.example.com:9000/jui787s2f;tcp msrps://alice.example.com:9892/98cjs;tcp'],
        ['From-Path', 'msrps://extra.example.com;tcp'],
        ['WWW-Authenticate', 'Digest realm="extra.example.com", qop="auth", nonce="Uumu8cAV38FGsEF31VLevIbNXj9HWO"']
      ],
      continuation: '$'
    }
    expect(rewriteResponse(response, 'mnbvw')).toEqual(
      E.right({
        ...response,
        transactionId: 'mnbvw',
        headers: [
          ['To-Path', 'msrps://alice.example.com:9892/98cjs;tcp'],
          ['From-Path', 'msrps://intra.example.com:9000/jui787s2f;tcp msrps://extra.example.com;tcp'],
          response.headers[2]
        ]
      })
    )
  })
})

describe('withByteRange (R-6.4.1-5)', () => {
  it('replaces Byte-Range in place, or inserts it after Message-ID', () => {
    expect(
      withByteRange(
        [
          ['Message-ID', 'm'],
          ['Byte-Range', '1-*/*'],
          ['X', 'y']
        ],
        '5-*/100'
      )
    ).toEqual([
      ['Message-ID', 'm'],
      ['Byte-Range', '5-*/100'],
      ['X', 'y']
    ])
    expect(
      withByteRange(
        [
          ['To-Path', 't'],
          ['From-Path', 'f'],
          ['Message-ID', 'm'],
          ['Content-Type', 'c']
        ],
        '1-2/2'
      )
    ).toEqual([
      ['To-Path', 't'],
      ['From-Path', 'f'],
      ['Message-ID', 'm'],
      ['Byte-Range', '1-2/2'],
      ['Content-Type', 'c']
    ])
  })
})

describe('encodeForwarded and encodeSendOk: the relay’s encoding fast paths', () => {
  const joined = (pieces: readonly Uint8Array[]): Buffer => Buffer.concat(pieces.map((p) => Buffer.from(p)))

  it('encodeForwarded writes the same bytes as encodeFrame for every request the encoder accepts', () => {
    fc.assert(
      fc.property(arbRequest, (request) => {
        const expected = encodeFrame(request)
        fc.pre(E.isRight(expected))
        if (E.isLeft(expected)) return
        expect(joined(encodeForwarded(request, request.body, request.continuation))).toEqual(joined(expected.right))
      })
    )
  })

  it('encodeSendOk writes the same bytes as encodeFrame(responseTo(send, 200)) (R-6.4.1-1)', () => {
    fc.assert(
      fc.property(arbHead, (head) => {
        const expected = encodeFrame(responseTo(head, 200))
        if (E.isLeft(expected)) throw new Error(expected.left.detail)
        const ok = encodeSendOk(head, value(head.headers, 'To-Path'), value(head.headers, 'From-Path'))
        expect(Buffer.from(ok)).toEqual(joined(expected.right))
      })
    )
  })
})
