/**
 * Marble testing (STYLE.md §6): a `TestScheduler` whose frames are compared with Jest's `toEqual`, so expected values
 * may hold asymmetric matchers (`expect.any(String)`). Jest compares `Error`s by message only: check an error's
 * other fields separately.
 */
import { TestScheduler } from 'rxjs/testing'

export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
}
