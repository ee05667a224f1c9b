/**
 * The session layer (DESIGN.md layer 4): MSRP endpoints composed from transports and operators. docs/endpoints.md.
 */
export * from './byte-queue'
export * from './content'
export * from './writer'
export * from './connection'
export * from './incoming'
export * from './session'
export * from './endpoint'
export * from './relay-client'
export * from './browser-endpoint'
export * from './cpim'
export * from './nickname'
