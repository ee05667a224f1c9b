import * as E from 'fp-ts/Either'
import { acceptsWrapped, planWrapping, prefersCpim, unwrapCpim, wrapCpim } from '../../src/cpim/wrap'
import { right } from '../helpers/either'

const text = (b: Uint8Array): string => new TextDecoder().decode(b)

describe('wrapping in message/cpim (RFC 4975 §8.6, §13)', () => {
  it('C-13-6: wraps content with From, To, DateTime and the inner Content-Type; unwrapCpim gives it back', () => {
    const bytes = right(
      wrapCpim('Hi ☃', {
        from: { name: 'Alice', uri: 'sip:alice@example.com' },
        to: 'sip:bob@example.com',
        dateTime: new Date('2006-05-15T18:02:31Z'),
        contentType: 'text/plain;charset=utf-8'
      })
    )
    expect(text(bytes)).toBe(
      'From: Alice <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\nDateTime: 2006-05-15T18:02:31.000Z\r\n' +
        '\r\nContent-Type: text/plain;charset=utf-8\r\n\r\nHi ☃'
    )
    const u = right(unwrapCpim(bytes))
    expect(u.envelope.from).toEqual({ name: 'Alice', uri: 'sip:alice@example.com' })
    expect(u.envelope.to).toEqual([{ uri: 'sip:bob@example.com' }])
    expect(u.contentType).toBe('text/plain;charset=utf-8')
    expect(text(u.body)).toBe('Hi ☃')
  })

  it('§8.6: a type in accept-types goes plain; one only in accept-wrapped-types is wrapped; others are refused', () => {
    const peer = { acceptTypes: ['text/plain', 'message/cpim'], acceptWrappedTypes: ['image/*'] }
    expect(planWrapping('text/plain', peer)).toEqual(E.right('plain'))
    expect(planWrapping('image/png', peer)).toEqual(E.right('wrap'))
    expect(planWrapping('text/plain', peer, { wrap: true })).toEqual(E.right('wrap'))
    expect(planWrapping('application/pdf', peer)).toEqual(
      E.left(expect.objectContaining({ _tag: 'CpimFailure', reason: 'TypeNotAccepted' }))
    )
    // accept-wrapped-types without message/cpim in accept-types: nothing can be wrapped.
    expect(E.isLeft(planWrapping('image/png', { acceptTypes: ['text/plain'], acceptWrappedTypes: ['image/*'] }))).toBe(
      true
    )
    // A message/cpim body is never wrapped again.
    expect(planWrapping('message/cpim', peer)).toEqual(E.right('plain'))
  })

  it('C-13-2: a peer that lists message/cpim first (a CPIM gateway) gets every IM body wrapped', () => {
    const gateway = { acceptTypes: ['message/cpim', 'text/plain'] }
    expect(prefersCpim(gateway)).toBe(true)
    expect(planWrapping('text/plain', gateway)).toEqual(E.right('wrap'))
    expect(prefersCpim({ acceptTypes: ['*'] })).toBe(false)
  })

  it('§8.6: an incoming inner type must be in accept-types or accept-wrapped-types', () => {
    const mine = { acceptTypes: ['message/cpim', 'text/plain'], acceptWrappedTypes: ['image/jpeg'] }
    expect(acceptsWrapped('text/plain', mine)).toBe(true)
    expect(acceptsWrapped('image/jpeg', mine)).toBe(true)
    expect(acceptsWrapped('text/html', mine)).toBe(false)
    const bytes = right(wrapCpim('<b>x</b>', { from: 'im:a@b', to: 'im:c@d', contentType: 'text/html' }))
    expect(unwrapCpim(bytes, { accept: mine })).toEqual(
      E.left(expect.objectContaining({ reason: 'TypeNotAccepted', detail: expect.stringContaining('text/html') }))
    )
  })
})
