// How the CLI names a node: by its libp2p peer id (12D3Koo...), the name bootstrap addresses, logs
// and `status` use, with the hex ed25519 key alongside for a validator, since genesis lists validators
// by key. One format everywhere, so a node can be recognised from one command's output in another's.
// libp2p's key code is loaded on first use: most commands never print a peer id.

import { readFile } from 'node:fs/promises'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { parseKeyFile } from '../client/keyfile.js'
import { UsageError } from './context.js'

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

/**
 * A node's hex key from what a person has at hand: its 64 hex digits, its peer id (12D3Koo..., as
 * `bftnode peers` and logs show it), or its key file (only the public key is read: no passphrase).
 */
export async function nodeKeyOf (text: string): Promise<string> {
  const s = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase()
  if (/^12D3Koo[1-9A-HJ-NP-Za-km-z]+$/.test(s)) {
    const { peerIdFromString } = await import('@libp2p/peer-id')
    let id: ReturnType<typeof peerIdFromString> | undefined
    try { id = peerIdFromString(s) } catch {}
    if (id?.type === 'Ed25519') return toHex(id.publicKey.raw)
    throw new UsageError(`${s.slice(0, 60)} is not a node's peer id`)
  }
  let fileText: string
  try { fileText = await readFile(s, 'utf8') } catch {
    throw new UsageError(`"${s.slice(0, 80)}" is not a node's key: give its 64 hex digits, its peer id (12D3Koo...) or the path of its key file`)
  }
  return parseKeyFile(fileText, `key file ${s}`).publicKey
}
