// How the CLI names a node: by its libp2p peer id (12D3Koo...), the name bootstrap addresses, logs
// and `status` use, with the hex ed25519 key alongside for a validator, since genesis lists validators
// by key. One format everywhere, so a node can be recognised from one command's output in another's.
// libp2p's key code is loaded on first use: most commands never print a peer id.

import { fromHex } from '../core/crypto/hash.js'

/** The peer id of a node's hex ed25519 key; a value that is not one is shown as it is. */
export async function peerIdOf (key: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(key)) return key
  const [{ publicKeyFromRaw }, { peerIdFromPublicKey }] = await Promise.all([import('@libp2p/crypto/keys'), import('@libp2p/peer-id')])
  return peerIdFromPublicKey(publicKeyFromRaw(fromHex(key))).toString()
}

/** `12D3Koo...` and, for a validator, `validator <hex key>`. */
export async function nodeLabel (key: string, validator: boolean): Promise<string> {
  return validator ? `${await peerIdOf(key)}  validator ${key}` : await peerIdOf(key)
}
