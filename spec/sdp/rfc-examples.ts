/**
 * Every SDP example of ../shared/spec (rfc4975-core.md §8.8 and §14.2, rfc4976-relays.md §10.4,
 * rfc7977-websocket.md §9.3–§9.5, related.md §1.3, §2.7 and §3.5), as printed there: SDP lines only (the SIP
 * headers of Figure 1 left out), folded lines joined as the notes there say. LF line ends, as in the documents.
 */
export interface SdpExample {
  readonly name: string
  readonly sdp: string
}

const lines = (...ls: string[]): string => `${ls.join('\n')}\n`

export const RFC_SDP_EXAMPLES: readonly SdpExample[] = [
  {
    name: 'RFC 4975 Figure 1, INVITE (rfc4975-core.md §8.8)',
    sdp: lines(
      'c=IN IP4 atlanta.example.com',
      'm=message 7654 TCP/MSRP *',
      'a=accept-types:text/plain',
      'a=path:msrp://atlanta.example.com:7654/jshA7weztas;tcp'
    )
  },
  {
    name: 'RFC 4975 Figure 1, 200 OK (rfc4975-core.md §8.8)',
    sdp: lines(
      'c=IN IP4 biloxi.example.com',
      'm=message 12763 TCP/MSRP *',
      'a=accept-types:text/plain',
      'a=path:msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp'
    )
  },
  {
    name: 'RFC 4975 Figure 7 (rfc4975-core.md §8.8)',
    sdp: lines(
      'v=0',
      'o=alice 2890844526 2890844527 IN IP4 alice.example.com',
      's= -',
      'c=IN IP4 alice.example.com',
      't=0 0',
      'm=message 7394 TCP/MSRP *',
      'a=accept-types:text/plain',
      'a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp'
    )
  },
  {
    name: 'RFC 4975 Figure 9 (rfc4975-core.md §8.8)',
    sdp: lines(
      'v=0',
      'o=usera 2890844526 2890844527 IN IP4 alice.example.com',
      's= -',
      'c=IN IP4 alice.example.com',
      't=0 0',
      'm=message 7394 TCP/MSRP *',
      'a=accept-types:message/cpim text/plain text/html',
      'a=path:msrp://alice.example.com:7394/2s93i93idj;tcp'
    )
  },
  {
    name: 'RFC 4975 Figure 10 (rfc4975-core.md §8.8)',
    sdp: lines(
      'v=0',
      'o=userb 2890844530 2890844532 IN IP4 bob.example.com',
      's= -',
      'c=IN IP4 bob.example.com',
      't=0 0',
      'm=message 8493 TCP/MSRP *',
      'a=accept-types:message/cpim text/plain',
      'a=path:msrp://bob.example.com:8493/si438dsaodes;tcp'
    )
  },
  {
    name: 'RFC 4975 Figure 19, TLS with fingerprint (rfc4975-core.md §8.8)',
    sdp: lines(
      'c=IN IP4 atlanta.example.com',
      'm=message 7654 TCP/TLS/MSRP *',
      'a=accept-types:text/plain',
      'a=path:msrps://atlanta.example.com:7654/jshA7weso3ks;tcp',
      'a=fingerprint:SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB'
    )
  },
  {
    name: 'RFC 4975 §11.1, offer (rfc4975-core.md §14.2)',
    sdp: lines(
      'v=0',
      'o=alice 2890844557 2890844559 IN IP4 alicepc.example.com',
      's= -',
      'c=IN IP4 alicepc.example.com',
      't=0 0',
      'm=message 7777 TCP/MSRP *',
      'a=accept-types:text/plain',
      'a=path:msrp://alicepc.example.com:7777/iau39soe2843z;tcp'
    )
  },
  {
    name: 'RFC 4975 §11.1, answer (rfc4975-core.md §14.2)',
    sdp: lines(
      'v=0',
      'o=bob 2890844612 2890844616 IN IP4 bob.example.com',
      's= -',
      'c=IN IP4 bob.example.com',
      't=0 0',
      'm=message 8888 TCP/MSRP *',
      'a=accept-types:text/plain',
      'a=path:msrp://bob.example.com:8888/9di4eae923wzd;tcp'
    )
  },
  {
    name: 'RFC 4976 §11, offer with a space after accept-types: (rfc4976-relays.md §10.4)',
    sdp: lines(
      'c=IN IP4 a.example.com',
      'm=message 1234 TCP/MSRP *',
      'a=accept-types: message/cpim text/plain text/html',
      'a=path:msrp://a.example.com:1234/agic456;tcp'
    )
  },
  {
    name: 'RFC 4976 §11, answer through a relay (rfc4976-relays.md §10.4)',
    sdp: lines(
      'c=IN IP4 bob.example.com',
      'm=message 1234 TCP/TLS/MSRP *',
      'a=accept-types: message/cpim text/plain',
      'a=path:msrps://relay.example.com:9000/hjdhfha;tcp msrps://bob.example.com:1234/fuige;tcp'
    )
  },
  {
    name: 'RFC 7977 §8.2.1, WebSocket client offer (rfc7977-websocket.md §9.3.1)',
    sdp: lines(
      'c=IN IP4 a.example.com',
      'm=message 1234 TCP/TLS/MSRP *',
      'a=accept-types:message/cpim text/plain text/html',
      'a=path:msrps://a.example.com:2855/jui787s2f;tcp msrps://df7jal23ls0d.invalid:2855/98cjs;ws'
    )
  },
  {
    name: 'RFC 7977 §8.2.1, answer (rfc7977-websocket.md §9.3.1)',
    sdp: lines(
      'c=IN IP4 bob.example.com',
      'm=message 1234 TCP/TLS/MSRP *',
      'a=accept-types:message/cpim text/plain',
      'a=path:msrps://bob.example.com:49154/foo;tcp'
    )
  },
  {
    name: 'RFC 7977 §8.3.1, answer (rfc7977-websocket.md §9.4.1)',
    sdp: lines(
      'c=IN IP4 a.example.com',
      'm=message 1234 TCP/TLS/MSRP *',
      'a=accept-types:message/cpim text/plain',
      'a=path:msrps://a.example.com:2855/iwnslt;tcp msrps://jk9awp14vj8x.invalid:2855/76qwe;ws'
    )
  },
  {
    name: 'RFC 7977 §8.4.1, answer (rfc7977-websocket.md §9.5.1)',
    sdp: lines(
      'c=IN IP4 bob.example.com',
      'm=message 1234 TCP/TLS/MSRP *',
      'a=accept-types:message/cpim text/plain',
      'a=path:msrps://relay.example.net:2855/kwvin5f;tcp msrps://bob.example.com:49154/foo;tcp'
    )
  },
  {
    name: 'RFC 6135, active UA (related.md §1.3, inferred)',
    sdp: lines(
      'm=message 9 TCP/MSRP *',
      'a=setup:active',
      'a=accept-types:text/plain',
      'a=path:msrp://192.0.2.10:9/s3ss10n1d4ab;tcp'
    )
  },
  {
    name: 'RFC 6714, CEMA offer (related.md §2.7, inferred)',
    sdp: lines(
      'c=IN IP4 198.51.100.7',
      'm=message 7394 TCP/MSRP *',
      'a=msrp-cema',
      'a=setup:actpass',
      'a=accept-types:text/plain',
      'a=path:msrp://198.51.100.7:7394/2s93i9ek2a;tcp'
    )
  },
  {
    name: 'RFC 5547 Figure 2 (related.md §3.5)',
    sdp: lines(
      'v=0',
      'o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com',
      's=',
      'c=IN IP4 host.atlanta.example.com',
      't=0 0',
      'm=message 7654 TCP/MSRP *',
      'i=This is my latest picture',
      'a=sendonly',
      'a=accept-types:message/cpim',
      'a=accept-wrapped-types:*',
      'a=path:msrp://atlanta.example.com:7654/jshA7we;tcp',
      'a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E',
      'a=file-transfer-id:vBnG916bdberum2fFEABR1FR3ExZMUrd',
      'a=file-disposition:attachment',
      'a=file-date:creation:"Mon, 15 May 2006 15:01:31 +0300"',
      'a=file-icon:cid:id2@alicepc.example.com',
      'a=file-range:1-32349'
    )
  },
  {
    name: 'RFC 5547 §9.1 Figure 8, push offer (related.md §3.5, as described there)',
    sdp: lines(
      'v=0',
      'o=alice 2890844526 2890844526 IN IP4 alicepc.example.com',
      's=',
      'c=IN IP4 alicepc.example.com',
      't=0 0',
      'm=message 7654 TCP/MSRP *',
      'i=This is my latest picture',
      'a=sendonly',
      'a=accept-types:message/cpim',
      'a=accept-wrapped-types:*',
      'a=path:msrp://alicepc.example.com:7654/jshA7we;tcp',
      'a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:4092 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E',
      'a=file-transfer-id:Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE',
      'a=file-disposition:render',
      'a=file-date:creation:"Mon, 15 May 2006 15:01:31 +0300"',
      'a=file-icon:cid:id2@alicepc.example.com'
    )
  },
  {
    name: 'RFC 5547 §9.1 Figure 9, push answer (related.md §3.5)',
    sdp: lines(
      'v=0',
      'o=bob 2890844656 2890844656 IN IP4 bobpc.example.com',
      's=',
      'c=IN IP4 bobpc.example.com',
      't=0 0',
      'm=message 8888 TCP/MSRP *',
      'a=recvonly',
      'a=accept-types:message/cpim',
      'a=accept-wrapped-types:*',
      'a=path:msrp://bobpc.example.com:8888/9di4ea;tcp',
      'a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:4092 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E',
      'a=file-transfer-id:Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE'
    )
  }
]
