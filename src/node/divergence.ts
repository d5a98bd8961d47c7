// When a quorum certified a state root other than this node's: the evidence bundle a person reads
// before recovering the node (bftnode recover), written durably to <dataDir>/evidence/, and the
// words the node says about it in logs, status and health.

import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { toHex } from '../core/crypto/hash.js'
import { decodeMessage } from '../core/broadcast/messages.js'
import type { Divergence } from '../core/checkpoint/keeper.js'

/** Where the bundle of the divergence at `height` goes. */
export function divergenceFile (dataDir: string, height: number): string {
  return join(dataDir, 'evidence', `divergence-${height}.json`)
}

/** What `bftnode recover` and a person read: everything needed to see which side is wrong. */
export interface DivergenceBundle {
  readonly kind: 'bftnode-divergence'
  readonly detectedAt: string
  readonly network: string
  readonly nodeId: string
  readonly version: { readonly version: string, readonly commit: string }
  readonly height: number
  /** The root a quorum certified at the cut, and the one this node computed there from its own state. */
  readonly certifiedRoot: string
  readonly ourRoot: string
  /** The certified checkpoint message (statement and quorum signatures), hex, and its signers. */
  readonly certifiedCheckpoint: string
  readonly signers: readonly string[]
  readonly cut: ReadonlyArray<{ readonly account: string, readonly seq: number }>
  /** The last checkpoint this node agreed with the network on, and its ops after it, in the order applied (hex). */
  readonly agreed: { readonly height: number, readonly root: string }
  readonly ops: readonly string[]
  /** Set when the bundle was written again at a start from the halt record (what is missing). */
  readonly partial?: string
  readonly whatNext: string
}

export const RECOVER_ADVICE = 'this node stopped voting; it serves reads marked untrusted. Look at the bundle (and the disk, the build, the host), then stop the node, run `bftnode recover` on its data dir and start it: it re-joins from a verified snapshot'

export function divergenceBundle (d: Divergence, info: { network: string, nodeId: string, version: { version: string, commit: string }, now: Date }): DivergenceBundle {
  const m = decodeMessage(d.certified)
  if (m.type !== 'checkpoint') throw new Error('divergence: the certified statement is not a checkpoint')
  return {
    kind: 'bftnode-divergence',
    detectedAt: info.now.toISOString(),
    network: info.network,
    nodeId: info.nodeId,
    version: info.version,
    height: d.height,
    certifiedRoot: toHex(d.root),
    ourRoot: toHex(d.ours),
    certifiedCheckpoint: toHex(d.certified),
    signers: m.sigs.map(s => toHex(s.signer)),
    cut: m.delta.map(s => ({ account: toHex(s.account), seq: s.seq })),
    agreed: { height: d.baseHeight, root: toHex(d.baseRoot) },
    ops: d.ops.map(toHex),
    whatNext: RECOVER_ADVICE
  }
}

/** Writes the bundle whole or not at all: a synced temporary file renamed into place, then the folder synced. */
export async function writeDivergenceBundle (dataDir: string, bundle: DivergenceBundle): Promise<string> {
  const dir = join(dataDir, 'evidence')
  await mkdir(dir, { recursive: true })
  const path = divergenceFile(dataDir, bundle.height)
  const tmp = `${path}.${process.pid}.tmp`
  const file = await open(tmp, 'w', 0o600)
  try {
    await file.writeFile(JSON.stringify(bundle, null, 2) + '\n')
    await file.sync()
  } finally {
    await file.close()
  }
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  const d = await open(dir, 'r')
  try { await d.sync() } finally { await d.close() }
  return path
}

/** The package version and build commit this code runs from ("unknown" where not found). */
export async function buildVersion (): Promise<{ version: string, commit: string }> {
  const read = async (url: URL): Promise<Record<string, unknown> | undefined> => {
    try { return JSON.parse(await readFile(url, 'utf8')) as Record<string, unknown> } catch { return undefined }
  }
  // from dist/src/node/: the package root is three levels up, dist/ two
  const pkg = await read(new URL('../../../package.json', import.meta.url))
  const build = await read(new URL('../../build-info.json', import.meta.url))
  return { version: typeof pkg?.version === 'string' ? pkg.version : 'unknown', commit: typeof build?.commit === 'string' ? build.commit : 'unknown' }
}
