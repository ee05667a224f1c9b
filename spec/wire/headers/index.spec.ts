import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { headerFailure } from '../../../src/wire/failures'
import { decodeHeader, decodeHeaderValue, HEADER_CODECS, HeaderName, requireHeader } from '../../../src/wire/headers'
import type { Header } from '../../../src/wire/model'

// The AUTH 200 of RFC 4976 §10.3, as the framer hands its headers over.
const AUTH_200: readonly Header[] = [
  ['To-Path', 'msrps://alice.example.com:9892/98cjs;tcp'],
  ['From-Path', 'msrps://alice@intra.example.com;tcp'],
  ['Use-Path', 'msrps://intra.example.com:9000/jui787s2f;tcp'],
  [
    'Authentication-Info',
    'nextnonce="40f2e879449675f288476d772627370a",rspauth="7327570c586207eca2afae94fc20903d", cnonce="0a4f113b", nc=00000001, qop=auth'
  ],
  ['Expires', '900']
]

describe('HEADER_CODECS', () => {
  it('has a codec for every header registered by RFC 4975 and RFC 4976, under its registered spelling', () => {
    expect(Object.keys(HEADER_CODECS).sort()).toEqual(
      [
        'To-Path',
        'From-Path',
        'Message-ID',
        'Success-Report',
        'Failure-Report',
        'Byte-Range',
        'Status',
        'Content-Type',
        'Expires',
        'Min-Expires',
        'Max-Expires',
        'Use-Path',
        'WWW-Authenticate',
        'Authorization',
        'Authentication-Info'
      ].sort()
    )
  })
})

describe('decodeHeader', () => {
  it('decodes a present header with its codec', () => {
    expect(decodeHeader(AUTH_200, 'Expires')).toEqual(E.right(900))
    const info = decodeHeader(AUTH_200, 'Authentication-Info')
    expect(E.isRight(info) && info.right?.rspauth).toBe('7327570c586207eca2afae94fc20903d')
    const use = decodeHeader(AUTH_200, 'Use-Path')
    expect(E.isRight(use) && use.right?.[0].sessionId).toBe('jui787s2f')
  })

  it('finds the header whatever the case of its name on the wire', () => {
    expect(decodeHeader([['byte-RANGE', '1-*/8']], 'Byte-Range')).toEqual(E.right({ start: 1, end: '*', total: 8 }))
  })

  it('gives right(undefined) when the header is absent', () => {
    expect(decodeHeader(AUTH_200, 'Byte-Range')).toEqual(E.right(undefined))
    expect(decodeHeader([], 'To-Path')).toEqual(E.right(undefined))
  })

  it('reports Duplicate when a single-valued header occurs twice', () => {
    const headers: Header[] = [
      ['Message-ID', 'abcd1234'],
      ['message-id', 'abcd1234']
    ]
    expect(decodeHeader(headers, 'Message-ID')).toEqual(
      E.left(headerFailure('Message-ID', 'Duplicate', 'Message-ID: occurs 2 times, expected once'))
    )
  })

  it('reports Invalid with the header name, the reason and the value', () => {
    expect(decodeHeader([['Byte-Range', 'x']], 'Byte-Range')).toEqual(
      E.left(headerFailure('Byte-Range', 'Invalid', 'Byte-Range: expected start-end/total, got "x"'))
    )
    const r = decodeHeader([['To-Path', 'msrp://a.example.com:1/s']], 'To-Path')
    expect(E.isLeft(r) && r.left.detail).toMatch(/^To-Path: URI 1 is not an MSRP URI: .*transport.*, got "msrp:/)
  })

  it('shortens long values in the failure detail', () => {
    const r = decodeHeaderValue('Status', 'x'.repeat(10_000))
    expect(E.isLeft(r) && r.left.detail.length).toBeLessThan(200)
  })

  it('ignores other headers (C-12-1)', () => {
    expect(
      decodeHeader(
        [
          ['X-Whatever', '???'],
          ['Status', '000 200 OK']
        ],
        'Status'
      )
    ).toEqual(E.right({ namespace: 0, code: 200, comment: 'OK' }))
  })

  it('never throws, and always names the header it was asked for', () => {
    const names = Object.keys(HEADER_CODECS) as HeaderName[]
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.string({ unit: 'binary' }), (name, value) => {
        const r = decodeHeader([[name, value]], name)
        if (E.isLeft(r)) {
          expect(r.left).toMatchObject({ _tag: 'HeaderFailure', header: name, reason: 'Invalid' })
          expect(r.left.detail.startsWith(`${name}: `)).toBe(true)
        }
      })
    )
  })
})

describe('requireHeader', () => {
  it('reports Missing when the header is absent', () => {
    expect(requireHeader(AUTH_200, 'Message-ID')).toEqual(
      E.left(headerFailure('Message-ID', 'Missing', 'Message-ID: missing, the header is required here'))
    )
  })

  it('decodes a present header and passes other failures through', () => {
    expect(requireHeader(AUTH_200, 'Expires')).toEqual(E.right(900))
    const r = requireHeader([['Expires', 'soon']], 'Expires')
    expect(E.isLeft(r) && r.left.reason).toBe('Invalid')
  })
})
