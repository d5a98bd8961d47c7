// What every command shares: the global options, the wallet, the API client, passphrases, amount
// parsing and output. Errors a person can cause are BftErrors with a one-line message.

import { createInterface } from 'node:readline'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Options } from 'yargs'
import { BftError } from '../core/errors.js'
import type { Value } from '../core/codec/canonical.js'
import { fromHex } from '../core/crypto/hash.js'
import { VmMap, fromCodec, keyTag, toCodec } from '../core/vm/values.js'
import { MAX_AMOUNT } from '../core/ledger/body.js'
import { ApiClient } from '../client/api-client.js'
import { Wallet } from './wallet.js'

export class UsageError extends BftError {
  readonly code = 'ERR_USAGE'
}

export interface GlobalArgs {
  api: string
  apiToken?: string
  walletDir: string
  passphrase?: string
  timeout: number
  verbose: boolean
}

export const BFTNODE_HOME = process.env.BFTNODE_HOME ?? join(homedir(), '.bftnode')

/** Options are spelled in kebab-case on the command line; handlers read them camelCased. */
export const globalOptions: Record<string, Options> = {
  api: { type: 'string', default: 'http://127.0.0.1:7200', describe: 'URL of the node API the command talks to' },
  'api-token': { type: 'string', describe: 'bearer token of a node API that requires one (better: BFTNODE_API_TOKEN, which the node reads too)' },
  'wallet-dir': { type: 'string', default: join(BFTNODE_HOME, 'wallet'), describe: 'directory of wallet key files' },
  passphrase: { type: 'string', describe: 'passphrase for encrypted key files (better: BFTNODE_PASSPHRASE)' },
  timeout: { type: 'number', default: 30_000, describe: 'how long to wait for an op to be delivered (ms)' },
  verbose: { type: 'boolean', default: false, describe: 'print stack traces of internal errors' }
}

/** A command, Lodestar style: its usage, description, examples, options and handler in one object. */
export interface CliCommand<A = Record<string, unknown>> {
  readonly command: string
  readonly describe: string
  readonly examples?: ReadonlyArray<readonly [string, string]>
  readonly options?: Record<string, Options>
  /** The handler reads BFTNODE_* variables itself (through the node config schema), so they are not flag defaults. */
  readonly ownEnv?: boolean
  readonly positionals?: Record<string, Options & { type: 'string' | 'number' }>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly subcommands?: ReadonlyArray<CliCommand<any>>
  readonly handler?: (args: A & GlobalArgs) => Promise<void>
}

/** A client of the node's API; its token from --api-token or BFTNODE_API_TOKEN (read here, never a flag default shown by --help). */
export function api (args: GlobalArgs): ApiClient {
  return new ApiClient(args.api, args.apiToken ?? process.env.BFTNODE_API_TOKEN)
}

export function wallet (args: Pick<GlobalArgs, 'walletDir'>): Wallet {
  return new Wallet(args.walletDir)
}

export function say (line = ''): void {
  process.stdout.write(line + '\n')
}

/** The passphrase for a key: the flag, BFTNODE_PASSPHRASE, or a prompt when a person is there. */
export async function passphraseFor (args: GlobalArgs, name: string, confirm = false): Promise<string | undefined> {
  if (args.passphrase !== undefined) return args.passphrase
  if (process.env.BFTNODE_PASSPHRASE !== undefined) return process.env.BFTNODE_PASSPHRASE
  if (!process.stdin.isTTY) throw new UsageError(`key "${name}" needs a passphrase: pass --passphrase or set BFTNODE_PASSPHRASE`)
  const first = await prompt(`passphrase for ${name}: `)
  if (confirm && await prompt('again: ') !== first) throw new UsageError('the passphrases differ')
  return first
}

export async function prompt (question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true })
  const out = rl as unknown as { _writeToOutput: (s: string) => void }
  let asked = false
  out._writeToOutput = (s: string) => { if (!asked) { process.stdout.write(s); asked = true } }
  // the terminal is raw while it asks: Ctrl-C reaches readline, not the process, so pass it on
  // (to the handlers now: with stdin closed nothing may keep the process up to receive a signal)
  rl.once('SIGINT', () => { rl.close(); process.stdout.write('\n'); if (!process.emit('SIGINT', 'SIGINT')) process.kill(process.pid, 'SIGINT') })
  return await new Promise(resolve => rl.question(question, answer => { rl.close(); process.stdout.write('\n'); resolve(answer) }))
}

export function parseAmount (text: unknown, what = 'amount', allowZero = false): bigint {
  const s = String(text ?? '')
  if (!/^[0-9]{1,20}$/.test(s)) throw new UsageError(`${what} must be a whole number, got "${s.slice(0, 30)}"`)
  const n = BigInt(s)
  if ((!allowZero && n === 0n) || n > MAX_AMOUNT) throw new UsageError(`${what} must be between ${allowZero ? 0 : 1} and ${MAX_AMOUNT}`)
  return n
}

/**
 * JSON arguments for contract calls: whole numbers become integers, "0x.." strings bytes (an
 * account key is 0x + 64 hex digits), other strings stay strings, objects become maps.
 */
export function parseArgs (text: unknown): Value[] {
  if (text === undefined) return []
  let v: unknown
  try { v = JSON.parse(String(text)) } catch { throw new UsageError('--args must be a JSON list, e.g. \'["0xab..", 100]\'') }
  if (!Array.isArray(v)) throw new UsageError('--args must be a JSON list')
  return v.map(toArg)
}

function toArg (v: unknown): Value {
  if (v === null || typeof v === 'boolean') return v
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new UsageError(`contract arguments are whole numbers; ${v} is not one (pass large values as strings of digits with a trailing n, e.g. "18446744073709551615n")`)
    return BigInt(v)
  }
  if (typeof v === 'string') {
    if (/^0x([0-9a-f]{2})*$/.test(v)) return fromHex(v.slice(2))
    if (/^[0-9]+n$/.test(v)) return BigInt(v.slice(0, -1))
    return v
  }
  if (Array.isArray(v)) return v.map(toArg)
  return toCodec(new VmMap(new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [keyTag(k), [k, fromCodec(toArg(x))] as const]))))
}
