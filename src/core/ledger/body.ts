// Op bodies. Transfer and Mint now; Deploy, Call and Execute (contracts) join this union later,
// each with its own encode/decode pair below and its own rule in the ledger.

import type { Value } from '../codec/canonical.js'
import { MAX_UINT64 } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { PUBLIC_KEY_BYTES } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'

export interface TransferBody { readonly kind: 'transfer', readonly to: Uint8Array, readonly amount: bigint }
export interface MintBody { readonly kind: 'mint', readonly to: Uint8Array, readonly amount: bigint }
export type OpBody = TransferBody | MintBody

export const MAX_AMOUNT = MAX_UINT64

export function encodeBody (body: OpBody): Value {
  switch (body.kind) {
    case 'transfer':
    case 'mint':
      return { kind: body.kind, to: body.to, amount: body.amount }
  }
}

export function decodeBody (v: Value | undefined): OpBody {
  const kind = (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array))
    ? (v as read.Fields).kind
    : undefined
  switch (kind) {
    case 'transfer':
    case 'mint': {
      const m = read.map(v, kind, ['kind', 'to', 'amount'])
      return {
        kind,
        to: read.bytes(m.to, `${kind}.to`, PUBLIC_KEY_BYTES),
        amount: read.bigint(m.amount, `${kind}.amount`, 1n, MAX_AMOUNT)
      }
    }
    default:
      throw new MalformedError(`op.body: unknown or missing kind ${JSON.stringify(typeof kind === 'string' ? kind.slice(0, 32) : typeof kind)}`)
  }
}
