// Prints one closing line "jest: N passed, N failed[, N skipped]" after the default reporter's summary, so CI
// (and people) can read the outcome from a single plain line.
'use strict'
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed`
    process.stdout.write(`${line}${skipped > 0 ? `, ${skipped} skipped` : ''}\n`)
  }
}
module.exports = SummaryReporter
