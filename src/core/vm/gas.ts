// The gas table: what every step, builtin and host call costs. One table, so the docs print it
// and every machine charges the same amount for the same call.

export const GAS = {
  /** Evaluating any form: an atom, a variable, a special form, a call. */
  step: 1,
  /** Entering a defun or lambda. */
  call: 5,
  /** Per element touched by builtins that copy or walk a collection (list, concat, map-set...). */
  perElement: 1,
  /** Per 32 bytes of a string or byte string produced or hashed. */
  perWord: 1,
  /** (get key): a storage read. */
  storageRead: 20,
  /** (put key value): a storage write, plus storageBytes for every byte of key and value. */
  storageWrite: 50,
  storageBytes: 2,
  /** (del key). */
  storageDelete: 20,
  /** (transfer to amount). */
  transfer: 100,
  /** (emit name data), plus eventBytes per byte of data. */
  emit: 20,
  eventBytes: 1,
  /** (hash bytes), plus perWord per 32 bytes. */
  hash: 30
} as const

export const GAS_LIMITS = {
  /** Used when a call names no gas limit. */
  defaultCall: 100_000,
  /** No call may ask for more. */
  maxCall: 5_000_000
} as const

export const VM_LIMITS = {
  /** Nested evaluations (calls and forms together) before the call aborts: far below the JS stack. */
  maxDepth: 400,
  maxListLength: 10_000,
  maxStringBytes: 64 * 1024,
  maxEvents: 256,
  maxTransfers: 256,
  /**
   * Size of a call's result, in the units `measure` counts (an element, or 32 bytes of a string):
   * a result is kept in every node's call outcomes and sent to whoever asks, so gas alone (1 per
   * 32 bytes: ~150 MB for a 5M-gas call) is too loose a bound. 4,096 units is at most ~160 KB.
   */
  maxResultSize: 4096
} as const
