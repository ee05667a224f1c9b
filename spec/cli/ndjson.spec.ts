import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { Base64, errorToJson, FrameJson, frameToJson, jsonToFrame, parseLine } from '../../src/cli/ndjson'
import type { FramingFailure } from '../../src/wire/failures'
import type { MsrpRequest, MsrpResponse } from '../../src/wire/model'
import { RFC4975_OK_JSON, RFC4975_SEND_JSON } from './cli-io'

const send: MsrpRequest = {
  type: 'request',
  transactionId: 'a786hjs2',
  method: 'SEND',
  headers: [['Content-Type', 'text/plain']],
  body: new Uint8Array(Buffer.from('Hi')),
  continuation: '+'
}
const ok: MsrpResponse = {
  type: 'response',
  transactionId: 'a786hjs2',
  status: 200,
  comment: undefined,
  headers: [],
  continuation: '$'
}

describe('frameToJson', () => {
  it('writes the request fields in the documented order, the body in base64', () => {
    expect(JSON.stringify(frameToJson(send))).toBe(
      '{"type":"request","transactionId":"a786hjs2","method":"SEND","headers":[["Content-Type","text/plain"]],' +
        '"body":"SGk=","continuation":"+"}'
    )
  })

  it('writes "body":"" for an empty body and leaves "body" out for a bodiless request', () => {
    expect(frameToJson({ ...send, body: new Uint8Array(0) })).toHaveProperty('body', '')
    expect(frameToJson({ ...send, body: undefined })).not.toHaveProperty('body')
  })

  it('writes the response fields in order and leaves out an absent comment', () => {
    expect(JSON.stringify(frameToJson({ ...ok, comment: 'OK' }))).toBe(
      '{"type":"response","transactionId":"a786hjs2","status":200,"comment":"OK","headers":[],"continuation":"$"}'
    )
    expect(frameToJson(ok)).not.toHaveProperty('comment')
  })

  it('appends "failures" (reason and detail) only when the framer reported some', () => {
    const failure = { _tag: 'FrameFailure', reason: 'ResponseBody', detail: 'd', offset: 3, status: 400 } as const
    expect(frameToJson(ok)).not.toHaveProperty('failures')
    expect(Object.entries(frameToJson(ok, [failure])).pop()).toEqual([
      'failures',
      [{ reason: 'ResponseBody', detail: 'd' }]
    ])
  })
})

describe('errorToJson', () => {
  it('writes type, reason, status and offset, then detail', () => {
    const failure: FramingFailure = {
      _tag: 'FramingFailure',
      reason: 'ChunkTooLarge',
      detail: 'too big',
      offset: 77,
      status: 413,
      transactionId: 'abcd'
    }
    expect(JSON.stringify(errorToJson(failure))).toBe(
      '{"type":"error","reason":"ChunkTooLarge","status":413,"offset":77,"detail":"too big"}'
    )
  })
})

describe('jsonToFrame', () => {
  it('reads the RFC 4975 §4 example lines back into frames', () => {
    expect(jsonToFrame(RFC4975_OK_JSON)).toEqual(
      E.right({ ...RFC4975_OK_JSON, comment: 'OK' }) // every MsrpResponse field
    )
    const send = jsonToFrame(RFC4975_SEND_JSON)
    expect(E.isRight(send) && send.right.type === 'request' && Buffer.from(send.right.body ?? []).toString()).toBe(
      'Hey Bob, are you there?'
    )
  })

  it('defaults "continuation" to "$", "body" and "comment" to undefined', () => {
    expect(jsonToFrame({ type: 'request', transactionId: 'abcd', method: 'AUTH', headers: [] })).toEqual(
      E.right({
        type: 'request',
        transactionId: 'abcd',
        method: 'AUTH',
        headers: [],
        body: undefined,
        continuation: '$'
      })
    )
    expect(jsonToFrame({ type: 'response', transactionId: 'abcd', status: 403, headers: [] })).toEqual(
      E.right({
        type: 'response',
        transactionId: 'abcd',
        status: 403,
        comment: undefined,
        headers: [],
        continuation: '$'
      })
    )
  })

  it('names the failing field and says whether it is missing', () => {
    expect(jsonToFrame({ type: 'request', transactionId: 'abcd', headers: [] })).toEqual(
      E.left({ _tag: 'LineFailure', reason: 'FieldInvalid', detail: 'method: missing (expected string)' })
    )
    expect(jsonToFrame({ ...RFC4975_OK_JSON, headers: [['A', 'b'], ['C']] })).toEqual(
      E.left({
        _tag: 'LineFailure',
        reason: 'FieldInvalid',
        detail: 'headers.1: expected a [name, value] pair of strings'
      })
    )
  })

  it('is the inverse of frameToJson (FrameJson codec: decode ∘ encode = right)', () => {
    for (const frame of [send, ok, { ...send, body: undefined }, { ...ok, comment: '' }]) {
      expect(FrameJson.decode(JSON.parse(JSON.stringify(FrameJson.encode(frame))))).toEqual(E.right(frame))
    }
  })

  it('never throws on arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (u) => expect(typeof E.isLeft(jsonToFrame(u))).toBe('boolean')))
  })
})

describe('Base64', () => {
  it('decodes what it encodes, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(Base64.decode(Base64.encode(bytes))).toEqual(E.right(new Uint8Array(bytes)))
      })
    )
  })

  it('refuses every string that is not the canonical encoding of some bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (s) => {
        const canonical = Buffer.from(Buffer.from(s, 'base64').toString('base64'))
        expect(E.isRight(Base64.decode(s))).toBe(canonical.toString() === s)
      })
    )
    expect(E.isLeft(Base64.decode(42))).toBe(true)
  })
})

describe('parseLine', () => {
  it('refuses invalid UTF-8 and invalid JSON with their own reasons', () => {
    expect(parseLine(new Uint8Array([0x7b, 0xff, 0x7d]))).toEqual(
      E.left({ _tag: 'LineFailure', reason: 'Utf8Invalid', detail: 'the line is not valid UTF-8' })
    )
    const notJson = parseLine(new Uint8Array(Buffer.from('{"type"')))
    expect(E.isLeft(notJson) && notJson.left.reason).toBe('JsonInvalid')
  })
})
