// The signature limit: every validator verifies every op's signature once, so n validators on
// this machine cannot deliver more than cores x verifies/s / n ops per second. Measured with the
// library the node verifies with (sodium-native through src/native/sodium.ts), on op-sized messages.

import { availableParallelism } from 'node:os'
import { randomBytes } from 'node:crypto'
import { sodiumScheme } from '../../src/native/sodium.js'

export interface SignatureLimit {
  library: string
  /** The best of the trials: the machine is shared, and others' load only ever lowers a trial. */
  verifiesPerSecond: number
  trials: number[]
  cores: number
  messageBytes: number
}

function verifiesFor (ms: number, keys: Uint8Array[], messages: Uint8Array[], sigs: Uint8Array[]): number {
  let calls = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    // batches of 64 between clock reads, so reading the clock costs nothing measurable
    for (let j = 0; j < 64; j++, calls++) {
      const i = calls % messages.length
      if (!sodiumScheme.verify(keys[i]!, messages[i]!, sigs[i]!)) throw new Error('a valid signature failed to verify')
    }
  }
  return calls / ((performance.now() - start) / 1000)
}

export function measureSignatureLimit (trials = 5, ms = 300, messageBytes = 200): SignatureLimit {
  const seeds = Array.from({ length: 16 }, () => new Uint8Array(randomBytes(32)))
  const keys = seeds.map(s => sodiumScheme.publicKeyOf(s))
  const messages = seeds.map(() => new Uint8Array(randomBytes(messageBytes)))
  const sigs = messages.map((m, i) => sodiumScheme.sign(seeds[i]!, m))
  verifiesFor(300, keys, messages, sigs)
  const rates = Array.from({ length: trials }, () => verifiesFor(ms, keys, messages, sigs))
  return { library: 'sodium-native (src/native/sodium.ts)', verifiesPerSecond: Math.max(...rates), trials: rates, cores: availableParallelism(), messageBytes }
}

/** The most ops per second n validators can verify between them. */
export function limitFor (s: SignatureLimit, n: number): number {
  return s.cores * s.verifiesPerSecond / n
}
