// Moving and guarding wallet keys: import (from a key file or a seed on stdin, never from the
// command line, where other users and shell history see it), export (encrypted unless --plain),
// passwd (change, add or remove a passphrase, rewriting the file in one step) and delete (asked
// for, and refused while an op of the account may still be delivered).

import { createInterface } from 'node:readline'
import { readFile } from 'node:fs/promises'
import { fromHex } from '../../core/crypto/hash.js'
import { accountOf, InvalidKeyFileError, openKey, parseKeyFile, SCRYPT, sealKey } from '../../client/keyfile.js'
import type { KeyFile } from '../../client/keyfile.js'
import { passphraseFor, prompt, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { replaceFile, writeNewFile } from '../durable-file.js'

const SEED = /^(0x)?[0-9a-fA-F]{64}$/
const MAX_INPUT = 64 * 1024

const warn = (line: string): void => { process.stderr.write(`warning: ${line}\n`) }

/** What import reads when there is no --file: stdin, or a hidden prompt when a person is there. */
async function secretInput (): Promise<string> {
  if (process.stdin.isTTY) return await prompt('seed (64 hex digits; not shown): ')
  let text = ''
  for await (const chunk of process.stdin) {
    text += (chunk as Buffer).toString('utf8')
    if (text.length > MAX_INPUT) throw new UsageError('stdin holds more than a key file; expected a seed (64 hex digits) or a key file')
  }
  return text
}

/** The passphrase a key is changed to: BFTNODE_NEW_PASSPHRASE, or asked for twice. */
async function newPassphrase (name: string): Promise<string> {
  const env = process.env.BFTNODE_NEW_PASSPHRASE
  if (env !== undefined) return env
  if (!process.stdin.isTTY) throw new UsageError(`the new passphrase for "${name}": set BFTNODE_NEW_PASSPHRASE (no terminal to ask on)`)
  const first = await prompt(`new passphrase for ${name}: `)
  if (await prompt('again: ') !== first) throw new UsageError('the passphrases differ')
  return first
}

async function ask (question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  return await new Promise(resolve => rl.question(question, answer => { rl.close(); resolve(answer.trim()) }))
}

export const importCommand: CliCommand<{ name: string, file?: string, insecure: boolean }> = {
  command: 'import',
  describe: 'add a key to the wallet: a key file (--file), or a seed or key file on stdin; never from the command line',
  examples: [
    ['bftnode account import --name bob --file bob.key.json', 'a key file; an encrypted one keeps its passphrase'],
    ['bftnode account import --name bob < bob.seed', 'a 64-hex-digit seed on stdin (typed, unseen, at a terminal); asks for a passphrase to encrypt it']
  ],
  options: {
    name: { type: 'string', demandOption: true, describe: 'the name the account gets in this wallet' },
    file: { type: 'string', describe: 'a bftnode key file to import (default: read a seed or key file from stdin)' },
    insecure: { type: 'boolean', default: false, describe: 'keep a clear seed in clear text (tests and throwaway networks only)' }
  },
  handler: async (a) => {
    const w = wallet(a)
    if (await w.exists(a.name)) throw new UsageError(`an account named "${a.name}" already exists in this wallet`)
    const where = a.file === undefined ? 'stdin' : `key file ${a.file}`
    const text = a.file === undefined ? await secretInput() : await readFile(a.file, 'utf8').catch((err: NodeJS.ErrnoException) => { throw new UsageError(`cannot read ${a.file!}: ${err.code ?? err.message}`) })
    let file: KeyFile
    if (text.trim().startsWith('{')) {
      const given = parseKeyFile(text, where)
      file = given.encrypted !== undefined ? given : await seal(a, a.name, await openKey(given, undefined, where), given.account)
    } else if (SEED.test(text.trim())) {
      file = await seal(a, a.name, fromHex(text.trim().replace(/^0x/, '').toLowerCase()))
    } else {
      // never echo what was given: it may be a secret with a typo
      throw new UsageError(`${where} holds neither a bftnode key file nor a seed of 64 hex digits`)
    }
    const added = await w.add(a.name, file)
    say(`imported account ${a.name}: ${accountOf(added)}${added.account === undefined ? '' : ` (its key rotated: signed by ${added.publicKey})`}`)
    say(`key file ${w.keyPath(a.name)}${added.encrypted === undefined ? ' (NOT encrypted)' : ' (encrypted)'}`)
  }
}

async function seal (a: GlobalArgs & { insecure: boolean }, name: string, seed: Uint8Array, account?: string): Promise<KeyFile> {
  return await sealKey(name, seed, a.insecure ? undefined : await passphraseFor(a, name, true), SCRYPT, account)
}

export const exportCommand: CliCommand<{ name: string, out?: string, plain: boolean }> = {
  command: 'export',
  describe: 'write an account\'s key file to a file or stdout: encrypted (a clear one is encrypted first), unless --plain',
  examples: [
    ['bftnode account export --name alice --out alice.key.json', 'a backup, encrypted'],
    ['bftnode account export --name alice --plain > alice.json', 'the seed in clear text: whoever reads it can sign for alice']
  ],
  options: {
    name: { type: 'string', demandOption: true, describe: 'the account' },
    out: { type: 'string', describe: 'file to write (never replaced; default: stdout)' },
    plain: { type: 'boolean', default: false, describe: 'export the seed in clear text' }
  },
  handler: async (a) => {
    const w = wallet(a)
    const stored = await w.load(a.name)
    let file: KeyFile
    if (a.plain) {
      const seed = await w.seed(a.name, stored.encrypted === undefined ? undefined : await passphraseFor(a, a.name))
      file = await sealKey(a.name, seed, undefined, SCRYPT, stored.account)
      warn(`the exported key of "${a.name}" is NOT encrypted: whoever reads it can sign for the account; keep it offline and delete it after use`)
    } else if (stored.encrypted !== undefined) {
      file = stored
    } else {
      file = await sealKey(a.name, await w.seed(a.name, undefined), await passphraseFor(a, `the export of ${a.name}`, true), SCRYPT, stored.account)
    }
    const text = JSON.stringify(file, null, 2) + '\n'
    if (a.out === undefined) { process.stdout.write(text); return }
    if (!await writeNewFile(a.out, text)) throw new UsageError(`${a.out} exists already; not replacing it`)
    say(`exported account ${a.name} to ${a.out}${file.encrypted === undefined ? ' (NOT encrypted)' : ' (encrypted)'}`)
  }
}

export const passwdCommand: CliCommand<{ name?: string, keyFile?: string, insecure: boolean }> = {
  command: 'passwd',
  describe: 'change, add or remove the passphrase of an account (or of a node key file); the file is replaced in one step',
  examples: [
    ['bftnode account passwd --name alice', 'asks for the current passphrase (if any) and the new one'],
    ['BFTNODE_PASSPHRASE=old BFTNODE_NEW_PASSPHRASE=new bftnode account passwd --name alice', 'without a terminal'],
    ['bftnode account passwd --key-file net/node1/node-key.json', 'encrypt a node key (the node then needs BFTNODE_PASSPHRASE)']
  ],
  options: {
    name: { type: 'string', describe: 'the wallet account' },
    'key-file': { type: 'string', describe: 'a key file by path instead, e.g. a node key' },
    insecure: { type: 'boolean', default: false, describe: 'remove the passphrase: clear text (tests and throwaway networks only)' }
  },
  handler: async (a) => {
    if ((a.name === undefined) === (a.keyFile === undefined)) throw new UsageError('name the key: --name <account> or --key-file <path>')
    const w = wallet(a)
    const path = a.keyFile ?? w.keyPath(a.name!)
    const label = a.name ?? a.keyFile!
    const file = a.name === undefined
      ? parseKeyFile(await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => { throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}`) }), `key file ${path}`)
      : await w.load(a.name)
    const seed = await openKey(file, file.encrypted === undefined ? undefined : await passphraseFor(a, label), `key file ${path}`)
    const next = await sealKey(file.name, seed, a.insecure ? undefined : await newPassphrase(label), SCRYPT, file.account)
    if (a.name !== undefined) await w.rewrite(a.name, next)
    else await replaceFile(path, JSON.stringify(next, null, 2) + '\n')
    if (a.insecure) warn(`${path} now holds the key in clear text`)
    say(`${label}: ${file.encrypted === undefined ? (a.insecure ? 'still not encrypted' : 'now encrypted') : a.insecure ? 'passphrase removed' : 'passphrase changed'} (${path})`)
  }
}

export const deleteCommand: CliCommand<{ name: string, yes: boolean, force: boolean }> = {
  command: 'delete',
  describe: 'delete an account\'s key from the wallet (asks first); refused while an op of the account may still be delivered',
  examples: [['bftnode account delete --name bob', 'asks to confirm'], ['bftnode account delete --name bob --yes', 'no question']],
  options: {
    name: { type: 'string', demandOption: true, describe: 'the account' },
    yes: { type: 'boolean', default: false, describe: 'do not ask' },
    force: { type: 'boolean', default: false, describe: 'delete even with an op pending (or a damaged key file)' }
  },
  handler: async (a) => {
    const w = wallet(a)
    // a damaged key file can be deleted too, with --force
    const file = await w.load(a.name).catch((err: unknown) => { if (a.force && err instanceof InvalidKeyFileError) return undefined; throw err })
    if (!a.yes) {
      if (!process.stdin.isTTY) throw new UsageError('deleting a key cannot be undone: pass --yes to delete without being asked')
      const answer = await ask(`delete account "${a.name}"${file === undefined ? '' : ` (${file.publicKey.slice(0, 16)}...)`}? Its key is gone for good unless you exported it. [y/N] `)
      if (!['y', 'yes'].includes(answer.toLowerCase())) { say('not deleted'); return }
    }
    await w.remove(a.name, a.force)
    say(`deleted account ${a.name}`)
  }
}
