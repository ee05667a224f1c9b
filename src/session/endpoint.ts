/**
 * The Node endpoint: `MsrpEndpoint` is the endpoint of endpoint-base.ts with Node's `dial` (TCP, TLS, `ws`) as its
 * connector. This module re-exports the base and `dial` so that `import { MsrpEndpoint, dial } from './endpoint'`
 * keeps working; the browser entry imports endpoint-base.ts and browser-endpoint.ts instead, never this file.
 */
import { MsrpEndpointBase, type EndpointBaseOptions } from './endpoint-base'
import { dial, type DialOptions } from './dial'

export * from './endpoint-base'
export { dial, type DialOptions } from './dial'

/** Options of {@link MsrpEndpoint}. */
export interface EndpointOptions extends EndpointBaseOptions {
  /** Options of the default connector, `dial`: TLS `ca`, `cert`, `key`, `rejectUnauthorized`; `wsPath`; `timeoutMs`. */
  readonly dial?: DialOptions
}

/**
 * An MSRP endpoint for Node. It opens its own connections with `dial(uri, options.dial)`: `msrps` over TLS, `;ws`
 * over WebSocket, anything else over TCP; `options.connect` replaces that connector altogether.
 */
export class MsrpEndpoint extends MsrpEndpointBase {
  constructor(options: EndpointOptions = {}) {
    const dialOptions = options.dial
    super({ ...options, connect: options.connect ?? ((uri) => dial(uri, dialOptions)) })
  }
}
