// A slot (account, seq) on the wire: `[account, seq]`. One reader and one writer for every place
// that carries slots (op deps, execute calls, broadcast messages, snapshots).

import type { Value } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { PUBLIC_KEY_BYTES } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import type { Slot } from './op.js'

export function slotValue (s: Slot): Value {
  return [s.account, s.seq]
}

/** Reads `[account, seq]` from untrusted input; `what` names it in the error. */
export function readSlot (v: Value | undefined, what: string, maxSeq = Number.MAX_SAFE_INTEGER): Slot {
  const pair = read.list(v, what, 2)
  if (pair.length !== 2) throw new MalformedError(`${what}: expected [account, seq]`)
  return { account: read.bytes(pair[0], `${what}.account`, PUBLIC_KEY_BYTES), seq: read.uint(pair[1], `${what}.seq`, maxSeq) }
}
