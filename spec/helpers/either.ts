/** The two sides of an `Either` in tests: the value expected, or a thrown error saying what came instead. */
import * as E from 'fp-ts/Either'

export const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected right, got ${JSON.stringify(e.left)}`)
  return e.right
}

export const left = <L>(e: E.Either<L, unknown>): L => {
  if (E.isRight(e)) throw new Error(`expected left, got ${JSON.stringify(e.right)}`)
  return e.left
}
