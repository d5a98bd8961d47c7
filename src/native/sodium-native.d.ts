// The subset of sodium-native's API that bftnode uses (the package ships no types).
declare module 'sodium-native' {
  const sodium: {
    crypto_sign_PUBLICKEYBYTES: number
    crypto_sign_SECRETKEYBYTES: number
    crypto_sign_SEEDBYTES: number
    crypto_sign_BYTES: number
    crypto_sign_seed_keypair (pk: Buffer, sk: Buffer, seed: Buffer): void
    crypto_sign_detached (sig: Buffer, message: Buffer, sk: Buffer): void
    crypto_sign_verify_detached (sig: Buffer, message: Buffer, pk: Buffer): boolean
    crypto_hash_sha256_BYTES: number
    crypto_hash_sha256 (out: Uint8Array, data: Uint8Array): void
    randombytes_buf (buf: Buffer): void
  }
  export default sodium
}
