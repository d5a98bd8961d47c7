// Contract errors. Every one has a kind a caller can branch on, a message for people and, where
// the code is at fault, the line:column of the offending form.

import { BftError } from '../errors.js'
import type { Pos } from './reader.js'

export type ContractErrorKind =
  | 'parse' // the code does not read
  | 'check' // unknown names, wrong arity, bad top-level forms (found at deploy)
  | 'enforce' // an (enforce ...) failed
  | 'out-of-gas'
  | 'type' // a value of the wrong type
  | 'runtime' // division by zero, overflow, limits, missing function, insufficient contract balance

export class ContractError extends BftError {
  readonly code = 'ERR_CONTRACT'
  constructor (readonly kind: ContractErrorKind, readonly detail: string, readonly pos?: Pos) {
    super(pos === undefined ? `${kind}: ${detail}` : `${kind} at ${pos.line}:${pos.col}: ${detail}`)
  }
}
