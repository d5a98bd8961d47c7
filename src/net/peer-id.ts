// The libp2p peer id a node key will have, without starting libp2p. The CLI writes bootstrap
// lists ahead of time with it; the libraries are loaded on first use, so a command that never
// needs a peer id (most of them) does not pay ~200 ms to load libp2p's key code.

/** The libp2p peer id a node with this seed will have (for bootstrap lists written ahead of time). */
export async function peerIdForSeed (seed: Uint8Array): Promise<string> {
  const [{ generateKeyPairFromSeed }, { peerIdFromPublicKey }] = await Promise.all([import('@libp2p/crypto/keys'), import('@libp2p/peer-id')])
  const key = await generateKeyPairFromSeed('Ed25519', seed)
  return peerIdFromPublicKey(key.publicKey).toString()
}
