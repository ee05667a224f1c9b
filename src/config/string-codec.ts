/**
 * An io-ts codec from a parser of strings: what comes from outside as text (a configuration value, a command-line
 * flag) is decoded by `parse`, whose message becomes the io-ts failure. Shared by src/config and src/cli.
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'

export function stringCodec<A, O>(
  name: string,
  is: (u: unknown) => u is A,
  parse: (s: string) => E.Either<string, A>,
  encode: (a: A) => O,
  /** The failure message for a value that is not a string. */
  notString: (u: unknown) => string
): t.Type<A, O, unknown> {
  return new t.Type<A, O, unknown>(
    name,
    is,
    (u, c) =>
      typeof u === 'string'
        ? pipe(
            parse(u),
            E.fold(
              (message) => t.failure<A>(u, c, message),
              (a) => t.success(a)
            )
          )
        : t.failure(u, c, notString(u)),
    encode
  )
}
