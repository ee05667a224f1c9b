/**
 * The operators layer (DESIGN.md layer 3): rxjs operators over the wire layer, one factory per file, each
 * transport-agnostic. See docs/operators.md.
 */
export * from './errors'
export * from './frame'
export * from './encode'
export * from './match-transactions'
export * from './reassemble'
export * from './answer-chunks'
export * from './report-success'
