// What every command shares: the global options, the wallet, the API client, passphrases, amount
// parsing and output. Errors a person can cause are BftErrors with a one-line message.

import { createInterface } from 'node:readline'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Options } from 'yargs'
import { BftError } from '../core/errors.js'
import type { Value } from '../core/codec/canonical.js'
import { toHex } from '../core/crypto/hash.js'
import { MAX_AMOUNT } from '../core/ledger/body.js'
import { ApiClient } from '../client/api-client.js'
import { ArgumentError, parseArgs as parseJsonArgs } from '../client/values.js'
import type { JsonValue } from '../client/values.js'
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

/** Contract arguments as a command takes them: the canonical values, and their JSON forms with names resolved. */
export interface CliArgs {
  readonly values: Value[]
  /** The same arguments in JSON forms, wallet names replaced by keys: what the API takes. */
  readonly json: JsonValue[]
  /** Plain string arguments, by where they sit (`args[0]`): a wallet name among them is a likely slip for `{"key": name}`. */
  readonly plainStrings: ReadonlyArray<readonly [path: string, text: string]>
}

/** How many plain strings are checked against the wallet for the hint of nameHint. */
const MAX_NAME_CHECKS = 16

/**
 * `--args`: a JSON list in the forms of src/client/values.ts (`[{"key": "alice"}, 1000]`), where
 * `{"key": name}` may name a wallet account. Names are resolved first (the wallet reads files),
 * then the list is parsed; a mistake is one ArgumentError line naming where it is.
 */
export async function parseArgs (args: Pick<GlobalArgs, 'walletDir'>, text: string | undefined): Promise<CliArgs> {
  if (text === undefined) return { values: [], json: [], plainStrings: [] }
  let json: unknown
  try { json = JSON.parse(text) } catch { throw new ArgumentError('--args', 'is not JSON; write a JSON list such as \'[{"key": "alice"}, 1000]\'') }
  const names = new Map<string, string>()
  await resolveNames(json, async name => {
    if (!names.has(name)) names.set(name, toHex(await wallet(args).resolve(name)))
  })
  const resolved = replaceNames(json, names)
  const values = parseValues(resolved)
  return { values, json: resolved as JsonValue[], plainStrings: plainStrings(resolved, 'args') }
}

/**
 * For an op that would fail: the first plain string argument that names a wallet account, as
 * the likely fix, or ''. Reads the wallet, so it is asked only once the op is known to fail.
 */
export async function nameHint (args: Pick<GlobalArgs, 'walletDir'>, parsed: CliArgs): Promise<string> {
  for (const [path, name] of parsed.plainStrings.slice(0, MAX_NAME_CHECKS)) {
    if (/^[\w.-]{1,64}$/.test(name) && await wallet(args).resolve(name).then(() => true, () => false)) {
      return ` (hint: ${path} is the string "${name}"; for the key of wallet account ${name} write {"key": "${name}"})`
    }
  }
  return ''
}

/** Plain strings in a list of JSON-form values (not inside explicit forms), with where they sit. */
function plainStrings (v: unknown, path: string): Array<[string, string]> {
  if (typeof v === 'string') return [[path, v]]
  if (Array.isArray(v)) return v.flatMap((x, i) => plainStrings(x, `${path}[${i}]`))
  return []
}

function parseValues (json: unknown): Value[] {
  try {
    return parseJsonArgs(json)
  } catch (err) {
    if (err instanceof ArgumentError) throw new ArgumentError(`--args ${err.path}`, err.message.slice(err.path.length + 2))
    throw err
  }
}

const KEY_HEX = /^[0-9a-fA-F]{64}$/

/** Calls `found` for every `{"key": name}` where the forms allow one (not inside int, bytes or str, not a map's object keys). */
async function resolveNames (v: unknown, found: (name: string) => Promise<void>): Promise<void> {
  if (Array.isArray(v)) { for (const x of v) await resolveNames(x, found); return }
  if (v === null || typeof v !== 'object') return
  const entries = Object.entries(v)
  if (entries.length !== 1) return
  const [form, body] = entries[0]!
  if (form === 'key' && typeof body === 'string' && body !== '' && !KEY_HEX.test(body)) await found(body)
  else if (form === 'map') {
    if (Array.isArray(body)) await resolveNames(body, found)
    else if (body !== null && typeof body === 'object') for (const x of Object.values(body)) await resolveNames(x, found)
  }
}

function replaceNames (v: unknown, names: ReadonlyMap<string, string>): unknown {
  if (names.size === 0) return v
  if (Array.isArray(v)) return v.map(x => replaceNames(x, names))
  if (v === null || typeof v !== 'object') return v
  const entries = Object.entries(v)
  if (entries.length !== 1) return v
  const [form, body] = entries[0]!
  if (form === 'key' && typeof body === 'string' && names.has(body)) return { key: names.get(body)! }
  if (form === 'map') {
    if (Array.isArray(body)) return { map: replaceNames(body, names) }
    if (body !== null && typeof body === 'object') return { map: Object.fromEntries(Object.entries(body).map(([k, x]) => [k, replaceNames(x, names)])) }
  }
  return v
}
