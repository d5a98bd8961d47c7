// Writing files that must survive a crash whole or not at all (key files, the wallet's pending
// ops): a synced temporary file put in place in one step, then its folder synced so the new name
// is on disk too. A reader sees the old file or the new one, never a torn one.

import { randomBytes } from '@noble/ciphers/utils.js'
import { link, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { toHex } from '../core/crypto/hash.js'

async function writeTemp (path: string, text: string, mode: number): Promise<string> {
  const tmp = `${path}.${process.pid}.${toHex(randomBytes(4))}.tmp`
  const file = await open(tmp, 'wx', mode)
  try {
    await file.writeFile(text)
    await file.sync()
  } catch (err) {
    await file.close()
    await rm(tmp, { force: true })
    throw err
  }
  await file.close()
  return tmp
}

export async function syncDir (dir: string): Promise<void> {
  const d = await open(dir, 'r')
  try { await d.sync() } finally { await d.close() }
}

/** Creates `path` durably; link() never replaces, so when the file exists already it wins: returns false. */
export async function writeNewFile (path: string, text: string, mode = 0o600): Promise<boolean> {
  const tmp = await writeTemp(path, text, mode)
  try {
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await rm(tmp, { force: true })
  }
  await syncDir(dirname(path))
  return true
}

/** Writes `path` durably, replacing what was there in one step (rename). */
export async function replaceFile (path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = await writeTemp(path, text, mode)
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  await syncDir(dirname(path))
}

/** Removes files and syncs their folder, so a removal a command reported is not undone by a crash. */
export async function removeFiles (dir: string, paths: readonly string[]): Promise<void> {
  for (const p of paths) await rm(p, { force: true })
  await syncDir(dir)
}
