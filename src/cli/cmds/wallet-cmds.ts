// Wallet-side commands: accounts, balances, transfers, deploys, calls and cancels. Every op is
// signed here (the node never sees a key) and the command waits until the op is delivered, then
// says how it ended, a rejection's reason included.

import { readFile } from 'node:fs/promises'
import { fromHex, toHex } from '../../core/crypto/hash.js'
import { contractAddress } from '../../core/ledger/contracts.js'
import { compile } from '../../core/vm/compile.js'
import { ContractError } from '../../core/vm/errors.js'
import type { OpBody } from '../../core/ledger/body.js'
import { ApiRequestError } from '../../client/api-client.js'
import type { ContractView, OpStatusView } from '../../client/api-client.js'
import { showJson } from '../../client/values.js'
import { accountOf } from '../../client/keyfile.js'
import { api, nameHint, parseAmount, parseArgs, passphraseFor, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { walletClient } from '../ops.js'
import type { Sent } from '../../client/client.js'
import { nodeLabel } from '../node-id.js'
import { deleteCommand, exportCommand, importCommand, passwdCommand } from './account-keys.js'
import { rotateKeyCommand } from './rotation.js'
import { parseGas, simulateFirst } from './query.js'

async function unlock (args: GlobalArgs, name: string): Promise<Awaited<ReturnType<ReturnType<typeof wallet>['unlock']>>> {
  const w = wallet(args)
  const file = await w.load(name)
  return await w.unlock(name, file.encrypted === undefined ? undefined : await passphraseFor(args, name))
}

function outcomeLine (st: OpStatusView): string {
  if (st.status === 'dropped') return `dropped: ${st.reason ?? 'the account signed another op for this slot'}`
  const o = st.outcome
  if (o === undefined) return st.status
  return o.status === 'applied' ? 'applied' : `rejected (${o.reason}): ${o.detail}`
}

export async function send (args: GlobalArgs, from: string, body: OpBody, ordering: Array<{ account: Uint8Array, seq: number }> = []): Promise<Sent> {
  // mid-rotation the key in force is not known here: the rotation may have been delivered
  if (await wallet(args).nextKey(from) !== undefined) throw new UsageError(`a key rotation of ${from} did not finish: run \`bftnode account rotate-key --name ${from}\` to finish it first`)
  const signer = await unlock(args, from)
  // by the account's id: after a key rotation the key that signs is not the account's id
  const client = walletClient({ api: api(args), wallet: wallet(args), name: from, account: await wallet(args).account(from), signer, timeoutMs: args.timeout, say })
  const sent = await client.send(body, { ordering })
  say(`op ${sent.hash.slice(0, 16)} (${from} #${sent.slot.seq}) delivered: ${outcomeLine(sent.status)}`)
  if (sent.status.status !== 'delivered' || sent.status.outcome?.status !== 'applied') process.exitCode = 1
  return sent
}

export const accountCommand: CliCommand = {
  command: 'account',
  describe: 'manage wallet accounts (encrypted key files)',
  subcommands: [
    {
      command: 'new',
      describe: 'create an account: a new key in an encrypted key file',
      examples: [['bftnode account new --name alice', 'asks for a passphrase (or reads BFTNODE_PASSPHRASE)'], ['bftnode account new --name bob --insecure', 'clear-text key file, for tests only']],
      options: {
        name: { type: 'string', demandOption: true, describe: 'a name for the account in this wallet' },
        insecure: { type: 'boolean', default: false, describe: 'write the key in clear text (tests and throwaway networks only)' }
      },
      handler: async (a: Record<string, unknown> & GlobalArgs) => {
        const name = String(a.name)
        const pass = a.insecure === true ? undefined : await passphraseFor(a, name, true)
        const file = await wallet(a).create(name, pass)
        say(`created account ${name}: ${file.publicKey}`)
        say(`key file in ${wallet(a).dir}${pass === undefined ? ' (NOT encrypted)' : ''}`)
      }
    },
    {
      command: 'list',
      describe: 'list the accounts in the wallet',
      handler: async (a: GlobalArgs) => {
        const { accounts, broken } = await wallet(a).list()
        if (accounts.length === 0 && broken.length === 0) say(`no accounts in ${wallet(a).dir}; create one with \`bftnode account new --name <name>\``)
        for (const { name, file } of accounts) {
          const rotated = file.account !== undefined && file.account !== file.publicKey ? `  (key rotated: now signed by ${file.publicKey.slice(0, 16)}...)` : ''
          say(`${name.padEnd(16)} ${accountOf(file)}${rotated}${file.encrypted === undefined ? '  (not encrypted)' : ''}`)
        }
        // a damaged key file is reported, never hidden: it may be the only copy of a key
        for (const b of broken) process.stderr.write(`error: key file ${b.path} is unreadable: ${b.reason}\n`)
        if (broken.length > 0) process.exitCode = 1
      }
    },
    importCommand,
    exportCommand,
    rotateKeyCommand,
    passwdCommand,
    deleteCommand
  ]
}

export const balanceCommand: CliCommand<{ account: string }> = {
  command: 'balance <account>',
  describe: 'show what an account can spend, split into its balance and the credits it received but has not claimed yet',
  examples: [['bftnode balance alice', 'by wallet name'], ['bftnode balance 3f1c...e9', 'by key (64 hex digits)']],
  positionals: { account: { type: 'string', describe: 'wallet name or account key' } },
  handler: async (a) => {
    const key = await wallet(a).resolve(a.account)
    const v = await api(a).account(toHex(key))
    say(`${a.account === v.account ? '' : `${a.account}: `}${v.spendable} spendable`)
    say(`  balance    ${v.balance}`)
    say(`  received   ${v.pending} in ${v.credits.length} credit(s), claimed by the account's next op`)
    say(`  next seq   ${v.nextSeq}`)
    say(`  account    ${v.account}${v.contract ? ' (contract)' : ''}`)
  }
}

export const transferCommand: CliCommand<{ from: string, to: string, amount: string }> = {
  command: 'transfer',
  describe: 'send money from a wallet account; waits until the transfer is delivered',
  examples: [['bftnode transfer --from treasury --to alice --amount 100', 'between wallet accounts'], ['bftnode transfer --from alice --to 3f1c...e9 --amount 5', 'to any account key']],
  options: {
    from: { type: 'string', demandOption: true, describe: 'wallet account that pays' },
    to: { type: 'string', demandOption: true, describe: 'wallet name or account key that receives' },
    amount: { type: 'string', demandOption: true, describe: 'a whole number' }
  },
  handler: async (a) => {
    const to = await wallet(a).resolve(a.to)
    await send(a, a.from, { kind: 'transfer', to, amount: parseAmount(a.amount) })
  }
}

export const deployCommand: CliCommand<{ file: string, from: string, args?: string, gas: string, sequencer?: string, force: boolean }> = {
  command: 'deploy <file>',
  describe: 'deploy a contract; checks the code and simulates init first, then waits for delivery and prints its address',
  examples: [
    ['bftnode deploy contracts/token.lisp --from alice --args \'[{"key": "alice"}, 1000000]\'', 'a token owned by alice, gas estimated'],
    ['bftnode deploy contracts/token.lisp --from alice --args \'[{"key": "alice"}, 1000000]\' --gas 50000', 'with a gas limit of its own']
  ],
  positionals: { file: { type: 'string', describe: 'contract source file' } },
  options: {
    from: { type: 'string', demandOption: true, describe: 'wallet account that deploys' },
    args: { type: 'string', describe: 'JSON list of arguments for init: numbers, strings, {"key": "<name or hex>"}, {"bytes": "<hex>"}, {"int": "<digits>"}, {"map": {...}} (docs/contracts.md)' },
    gas: { type: 'string', default: 'auto', describe: 'gas limit for init; auto: what a simulation of init uses, plus a margin' },
    sequencer: { type: 'string', describe: 'wallet name or key of the sequencer (default: the key of the node the command talks to, which then runs the calls)' },
    force: { type: 'boolean', default: false, describe: 'sign and send even if the simulation says the deploy would fail' }
  },
  handler: async (a) => {
    let code: string
    try { code = await readFile(a.file, 'utf8') } catch { throw new UsageError(`cannot read ${a.file}`) }
    try { compile(code) } catch (err) {
      if (err instanceof ContractError) throw new UsageError(`${a.file}: ${err.message}`)
      throw err
    }
    const gas = parseGas(a.gas)
    const args = await parseArgs(a, a.args)
    // By default the node this command talks to sequences the contract: it holds its own key, so
    // it can sign the Execute ops that run queued calls. A wallet key would need a wallet online.
    // a wallet account's sequencer key is the key it signs with now (after a rotation, not its id)
    const sequencer = a.sequencer === undefined
      ? fromHex(String((await api(a).status()).nodeId))
      : /^[0-9a-f]{64}$/.test(a.sequencer) ? fromHex(a.sequencer) : fromHex((await wallet(a).load(a.sequencer)).publicKey)
    const me = await wallet(a).account(a.from)
    const chosen = await simulateFirst(a, me, { kind: 'deploy', code, args: args.json, sequencer: toHex(sequencer), ...(gas === 'auto' ? {} : { gasLimit: gas }) }, gas, a.force, 'deploy', async () => await nameHint(a, args))
    const sent = await send(a, a.from, { kind: 'deploy', code, args: args.values, sequencer, gasLimit: chosen.gas })
    if (sent.status.outcome?.status === 'applied') {
      say(`contract ${toHex(contractAddress(sent.slot.account, sent.slot.seq))}`)
      say(`sequenced by ${a.sequencer === undefined ? `node ${await nodeLabel(toHex(sequencer), false)}` : toHex(sequencer)}`)
    }
  }
}

/** Executes a call may wait for by default: every call can be taken back if its sequencer stalls. */
export const DEFAULT_DEADLINE_EXECUTES = 1000

const CONTRACT_HEX = /^[0-9a-f]{64}$/

/** The contract, or a one-line error when this node has none at that address. */
async function contractAt (a: GlobalArgs, address: string): Promise<ContractView> {
  try {
    return await api(a).contract(address)
  } catch (err) {
    if (err instanceof ApiRequestError && err.code === 'ERR_UNKNOWN_CONTRACT') throw new UsageError(`no contract at ${address} on this node (never deployed, its deploy was rejected, or not delivered here yet); nothing was signed`)
    throw err
  }
}

export const callCommand: CliCommand<{ contract: string, fn: string, from: string, args?: string, value: string, gas: string, deadlineExecutes: number, force: boolean }> = {
  command: 'call <contract> <fn>',
  describe: 'call a contract function; simulates it first, then waits until the sequencer executes it and prints the outcome',
  examples: [
    ['bftnode call <contract> transfer --from alice --args \'[{"key": "bob"}, 10]\'', 'a token transfer (bob: a wallet name, or {"key": "<64 hex digits>"})'],
    ['bftnode call <escrow> deposit --from bob --value 50', 'attach money to the call'],
    ['bftnode call <escrow> deposit --from bob --value 50 --deadline-executes 10', 'cancellable once the contract has run 10 more executes without it'],
    ['bftnode call <contract> transfer --from alice --args \'[{"key": "bob"}, 10]\' --force --gas 20000', 'send even if the simulation says it would fail']
  ],
  positionals: { contract: { type: 'string', describe: 'contract address (64 hex digits)' }, fn: { type: 'string', describe: 'function name' } },
  options: {
    from: { type: 'string', demandOption: true, describe: 'wallet account that calls' },
    args: { type: 'string', describe: 'JSON list of arguments: numbers, strings, {"key": "<name or hex>"}, {"bytes": "<hex>"}, {"int": "<digits>"}, {"map": {...}} (docs/contracts.md)' },
    value: { type: 'string', default: '0', describe: 'money attached to the call (refunded if the call fails)' },
    gas: { type: 'string', default: 'auto', describe: 'gas limit for the call; auto: what a simulation of the call uses now, plus a margin' },
    'deadline-executes': {
      type: 'number',
      default: DEFAULT_DEADLINE_EXECUTES,
      describe: 'only the contract\'s next N executes (counted from what the node has delivered) may run the call; after them `bftnode cancel` takes it back. 0: no deadline, never cancellable'
    },
    force: { type: 'boolean', default: false, describe: 'sign and send even if the simulation says the call would fail' }
  },
  handler: async (a) => {
    if (!CONTRACT_HEX.test(a.contract)) throw new UsageError('the contract address is 64 hex digits')
    const n = a.deadlineExecutes
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError('--deadline-executes is a whole number of executes (0: no deadline)')
    const gas = parseGas(a.gas)
    const value = parseAmount(a.value, 'value', true)
    const args = await parseArgs(a, a.args)
    const client = api(a)
    const info = await contractAt(a, a.contract)
    // the contract's next seq is executes + 1, so its next N executes end at seq executes + N
    const lastSeq = n === 0 ? {} : { deadline: info.executes + n }
    const me = await wallet(a).account(a.from)
    const chosen = await simulateFirst(a, me, { kind: 'call', contract: a.contract, fn: a.fn, args: args.json, value: value.toString(), ...(gas === 'auto' ? {} : { gasLimit: gas }), ...lastSeq }, gas, a.force, `call of ${a.fn}`, async () => await nameHint(a, args))
    const sent = await send(a, a.from, { kind: 'call', contract: fromHex(a.contract), fn: a.fn, args: args.values, value, gasLimit: chosen.gas, ...lastSeq },
      [{ account: fromHex(info.deployedAt.account), seq: info.deployedAt.seq }])
    if (sent.status.outcome?.status !== 'applied') return
    const deadline = Date.now() + a.timeout
    for (;;) {
      const out = await client.call(toHex(sent.slot.account), sent.slot.seq)
      if (out.status === 'cancelled') { say('call cancelled; its value went back to the caller'); process.exitCode = 1; return }
      if (out.status !== 'queued') {
        if (out.status === 'ok') say(`call executed: ok, result ${showJson(out.result)}, gas ${out.gasUsed}${out.events.length > 0 ? `, events ${out.events.map(e => `${e.name} ${showJson(e.data)}`).join('; ')}` : ''}`)
        else { say(`call executed: failed (${out.error}), gas ${out.gasUsed}; its value was refunded`); process.exitCode = 1 }
        return
      }
      if (Date.now() > deadline) throw new UsageError(`the call is queued but its sequencer has not executed it yet; check later, or take it back with \`bftnode cancel ${a.contract} ${sent.slot.seq} --from ${a.from}\` once the contract's stream reaches its deadline`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}

export const cancelCommand: CliCommand<{ contract: string, call: number, from: string }> = {
  command: 'cancel <contract> <call>',
  describe: 'take back a queued call that no execute ran by its deadline; its value returns to the caller',
  examples: [['bftnode cancel <contract> 7 --from bob', 'cancel bob\'s call at seq 7 of his stream']],
  positionals: { contract: { type: 'string', describe: 'contract address (64 hex digits)' }, call: { type: 'number', describe: 'the seq of the call in the caller\'s own stream' } },
  options: {
    from: { type: 'string', demandOption: true, describe: 'wallet account that made the call' }
  },
  handler: async (a) => {
    if (!CONTRACT_HEX.test(a.contract)) throw new UsageError('the contract address is 64 hex digits')
    if (!Number.isSafeInteger(a.call) || a.call < 1) throw new UsageError('the call is a seq number of the caller\'s stream (1 or more)')
    const client = api(a)
    const me = await wallet(a).account(a.from)
    const info = await client.contract(a.contract)
    // Checked here so the common mistakes cost no op; the ledger decides the same at delivery. A
    // node may have forgotten the outcome (behind a checkpoint): then the ledger alone decides.
    const out = await client.call(me, a.call).catch((err: unknown) => {
      if (err instanceof ApiRequestError && err.code === 'ERR_UNKNOWN_CALL') return undefined
      throw err
    }) as { status: string, contract?: string, deadline?: number } | undefined
    if (out !== undefined) {
      if (out.status !== 'queued') throw new UsageError(`call ${a.call} of ${a.from} is not queued: its outcome is ${out.status}`)
      if (out.contract !== undefined && out.contract !== a.contract) throw new UsageError(`call ${a.call} of ${a.from} was made to contract ${out.contract}, not ${a.contract}`)
      if (out.deadline === undefined) throw new UsageError(`call ${a.call} of ${a.from} has no deadline, so it cannot be cancelled`)
      if (info.executes < out.deadline) throw new UsageError(`call ${a.call} may still run until contract seq ${out.deadline}; the contract's stream is at ${info.executes}, so it cannot be cancelled yet`)
    }
    if (info.executes < 1) throw new UsageError('the contract has run no execute yet, so no call\'s deadline has passed')
    // citing the contract's latest slot orders the cancel after every execute that could run the call
    await send(a, a.from, { kind: 'cancel', contract: fromHex(a.contract), call: a.call }, [{ account: fromHex(a.contract), seq: info.executes }])
  }
}

export const peersCommand: CliCommand = {
  command: 'peers',
  describe: 'the peers the node is connected to, by peer id (validators with their key, as genesis lists them)',
  handler: async (a) => {
    const { peers } = await api(a).peers()
    if (peers.length === 0) say('no peers connected')
    for (const p of peers) say(await nodeLabel(p.id, p.validator))
  }
}
