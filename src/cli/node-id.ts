// How the CLI names a node: by its libp2p peer id (12D3Koo...), the name bootstrap addresses, logs
// and `status` use, with the hex ed25519 key alongside for a validator, since genesis lists validators
// by key. One format everywhere, so a node can be recognised from one command's output in another's.

import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { fromHex } from '../core/crypto/hash.js'

/** The peer id of a node's hex ed25519 key; a value that is not one is shown as it is. */
export function peerIdOf (key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) return key
  return peerIdFromPublicKey(publicKeyFromRaw(fromHex(key))).toString()
}

/** `12D3Koo...` and, for a validator, `validator <hex key>`. */
export function nodeLabel (key: string, validator: boolean): string {
  return validator ? `${peerIdOf(key)}  validator ${key}` : peerIdOf(key)
}
