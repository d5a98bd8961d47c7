// One assertion for "this throws our typed error": the class, its stable code and, optionally,
// what the message says.

import assert from 'node:assert/strict'

export function assertThrowsTyped (fn: () => unknown, type: abstract new (...args: never[]) => Error & { code: string }, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`)
    assert.equal(err.code, code)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}
