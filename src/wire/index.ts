/**
 * The wire layer: pure, synchronous, no I/O; runs in Node and in browsers (DESIGN.md layer 1).
 */
export * from './model'
export * from './failures'
export * from './limits'
export * from './framer'
export * from './encoder'
export * from './bytes'
export * from './search'
export * from './uri'
export * from './headers'
export * from './ids'
export * from './md5'
export * from './digest'
export * from './chunk'
export * from './replies'
