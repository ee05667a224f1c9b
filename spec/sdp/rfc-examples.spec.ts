/**
 * The SDP examples of ../shared/spec parse into MSRP media, and re-serializing them gives the same media-level
 * attributes (spec/sdp/rfc-examples.ts lists where each comes from).
 */
import { formatUri } from '../../src/wire/uri'
import { formatMsrpMedia, parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { RFC_SDP_EXAMPLES } from './rfc-examples'
import { right } from '../helpers/either'

/** The a= lines of the first m-section, with the space some examples print after a list attribute's colon removed. */
function mediaAttributes(sdp: string): string[] {
  const all = sdp.split(/\r?\n/)
  const m = all.findIndex((l) => l.startsWith('m='))
  return all
    .slice(m + 1)
    .filter((l) => l.startsWith('a='))
    .map((l) => l.replace(/^(a=[a-z-]+): +/, '$1:'))
}

const only = (sdp: string): MsrpMedia => {
  const media = right(parseMsrpMedia(sdp))
  expect(media).toHaveLength(1)
  return media[0] as MsrpMedia
}

describe('the SDP examples of the RFCs', () => {
  it.each(RFC_SDP_EXAMPLES.map((e) => [e.name, e.sdp] as const))('%s parses and re-serializes', (_name, sdp) => {
    const media = only(sdp)
    const again = right(formatMsrpMedia([media]))
    expect(mediaAttributes(again).sort()).toEqual(mediaAttributes(sdp).sort())
    // The m-line itself (port, proto, "*") and the connection address survive too.
    expect(again).toContain(sdp.split('\n').find((l) => l.startsWith('m=')))
    if (media.connection !== undefined) expect(again).toContain(`c=IN IP4 ${media.connection.address}`)
    // A fragment without c= gets one from its path URI (C-8.1-1); everything else reads back equal.
    expect(only(again)).toEqual({ ...media, connection: media.connection ?? expect.anything() })
  })

  it('RFC 5547 Figure 2 is written back line for line, in the order of the RFC', () => {
    const sdp = RFC_SDP_EXAMPLES.find((e) => e.name.startsWith('RFC 5547 Figure 2'))?.sdp ?? ''
    expect(mediaAttributes(right(formatMsrpMedia([only(sdp)])))).toEqual(mediaAttributes(sdp))
  })

  it('C-8.2-1, C-8.3-1: RFC 4975 Figure 7 reads as one URI, the accepted type, the port and the c= address', () => {
    const m = only(RFC_SDP_EXAMPLES[2]?.sdp ?? '')
    expect(m).toMatchObject({
      index: 0,
      port: 7394,
      proto: 'TCP/MSRP',
      connection: { ipVer: 4, address: 'alice.example.com' },
      acceptTypes: ['text/plain'],
      cema: false
    })
    expect(m.path.map(formatUri)).toEqual(['msrp://alice.example.com:7394/2s93i9ek2a;tcp'])
    expect(m.setup).toBeUndefined()
    expect(m.direction).toBeUndefined()
  })

  it('RFC 4976 §11: a relayed TLS path keeps its order, and "accept-types: " with a space is read', () => {
    const answer = only(RFC_SDP_EXAMPLES.find((e) => e.name.includes('answer through a relay'))?.sdp ?? '')
    expect(answer.proto).toBe('TCP/TLS/MSRP')
    expect(answer.acceptTypes).toEqual(['message/cpim', 'text/plain'])
    expect(answer.path.map(formatUri)).toEqual([
      'msrps://relay.example.com:9000/hjdhfha;tcp',
      'msrps://bob.example.com:1234/fuige;tcp'
    ])
  })

  it('RFC 4975 Figure 19: the fingerprint is read (C-14.4-2)', () => {
    const m = only(RFC_SDP_EXAMPLES.find((e) => e.name.includes('Figure 19'))?.sdp ?? '')
    expect(m.fingerprint).toEqual({
      type: 'SHA-1',
      hash: '4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB'
    })
  })

  it('RFC 6135 and RFC 6714: setup and msrp-cema are read', () => {
    expect(only(RFC_SDP_EXAMPLES.find((e) => e.name.startsWith('RFC 6135'))?.sdp ?? '')).toMatchObject({
      port: 9,
      setup: 'active',
      connection: undefined
    })
    expect(only(RFC_SDP_EXAMPLES.find((e) => e.name.startsWith('RFC 6714'))?.sdp ?? '')).toMatchObject({
      setup: 'actpass',
      cema: true
    })
  })

  it('RFC 5547 Figure 2: every file attribute is decoded', () => {
    const m = only(RFC_SDP_EXAMPLES.find((e) => e.name.startsWith('RFC 5547 Figure 2'))?.sdp ?? '')
    expect(m).toMatchObject({
      direction: 'sendonly',
      title: 'This is my latest picture',
      acceptTypes: ['message/cpim'],
      acceptWrappedTypes: ['*']
    })
    expect(m.file).toEqual({
      selector: {
        name: 'My cool picture.jpg',
        type: { type: 'image', subtype: 'jpeg', params: [] },
        size: 32349,
        hashes: [{ algorithm: 'sha-1', value: '72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E' }]
      },
      transferId: 'vBnG916bdberum2fFEABR1FR3ExZMUrd',
      disposition: 'attachment',
      date: { creation: 'Mon, 15 May 2006 15:01:31 +0300' },
      icon: 'cid:id2@alicepc.example.com',
      range: { start: 1, stop: 32349 }
    })
  })
})
