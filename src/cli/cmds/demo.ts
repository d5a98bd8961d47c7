// `bftnode demo` (the README's first command): a throwaway local network of four validators, each a
// real `bftnode` process on 127.0.0.1, with a few transfers, a token contract deployed and called,
// and every node's balances and state hash printed at the end. Nothing is left behind.

import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fromHex, toHex } from '../../core/crypto/hash.js'
import { contractAddress } from '../../core/ledger/contracts.js'
import { FAULT_MODELS, quorumSize } from '../../core/ledger/genesis.js'
import type { FaultModel } from '../../core/ledger/genesis.js'
import { ApiClient } from '../../client/api-client.js'
import { say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { InsufficientFundsError } from '../../client/errors.js'
import type { Sent } from '../../client/client.js'
import type { OpBody } from '../../client/bodies.js'
import type { Slot } from '../../core/ledger/op.js'
import { walletClient } from '../ops.js'
import { initTestnet, startChild, stopChildren } from './testnet.js'
import { cleanUpOnSignal } from '../lifecycle.js'

async function freePorts (n: number): Promise<number[]> {
  const ports: number[] = []
  while (ports.length < n) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer()
      s.once('error', reject)
      s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
    })
    if (!ports.includes(port)) ports.push(port)
  }
  return ports
}

/** Consecutive free ports for libp2p and the APIs: probe a random base until a run of 2n is free. */
async function freeRange (n: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const [seed] = await freePorts(1)
    const base = Math.min(seed!, 60_000)
    const ok = await Promise.all(Array.from({ length: 2 * n }, async (_, i) => await new Promise<boolean>(resolve => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)))
    })))
    if (ok.every(Boolean)) return base
  }
  throw new UsageError('could not find free ports on 127.0.0.1')
}

async function waitUntil (what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new UsageError(`timed out waiting for ${what}`)
}

export const demoCommand: CliCommand<{ validators: number, keep: boolean, faults: string }> = {
  command: 'demo',
  describe: 'run a throwaway 4-validator network on this machine and show it working',
  examples: [['bftnode demo', 'four validator processes, transfers, a token contract, balances']],
  options: {
    validators: { type: 'number', default: 4, describe: 'how many validator processes' },
    keep: { type: 'boolean', default: false, describe: 'keep the network directory afterwards' },
    faults: { type: 'string', default: 'byzantine', describe: 'the fault model: byzantine or crash (docs/faults.md)' }
  },
  handler: async (a) => {
    if (!Number.isInteger(a.validators) || a.validators < 1 || a.validators > 64) throw new UsageError('--validators must be between 1 and 64')
    if (!(FAULT_MODELS as readonly string[]).includes(a.faults)) throw new UsageError(`--faults must be ${FAULT_MODELS.join(' or ')}, got "${a.faults}"`)
    const faults = a.faults as FaultModel
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-demo-'))
    const g: GlobalArgs = { ...a, walletDir: join(dir, 'wallet'), timeout: 30_000 }
    const n = a.validators
    const base = await freeRange(n)
    let children: ChildProcess[] = []
    const cleanUp = async (): Promise<void> => {
      await stopChildren(children)
      if (!a.keep) await rm(dir, { recursive: true, force: true })
    }
    const forget = cleanUpOnSignal(cleanUp)
    say(`== a ${n}-validator network in ${dir} (quorum ${quorumSize(n, faults)}${faults === 'crash' ? ', crash-only' : ''}), p2p ports ${base}-${base + n - 1}`)
    await initTestnet({ validators: n, dir, basePort: base, apiPort: base + n, network: 'demo', treasury: '1000000', force: true, faults, walletDir: g.walletDir }, () => {})
    children = Array.from({ length: n }, (_, i) => startChild(join(dir, `node${i + 1}`, 'config.json'), `node${i + 1}`, { BFTNODE_LOG_LEVEL: 'warn' }))
    const apis = Array.from({ length: n }, (_, i) => new ApiClient(`http://127.0.0.1:${base + n + i}`))
    try {
      await waitUntil('the validators to connect', 60_000, async () => {
        const seen = await Promise.all(apis.map(async api => Number((await api.status()).validatorsConnected)))
        return seen.every(s => s >= quorumSize(n, faults) - 1)
      })
      say('== all validators up and connected')
      const w = wallet(g)
      const api = apis[0]!
      const send = async (from: string, body: OpBody, what: string, ordering: readonly Slot[] = []): Promise<Sent> => {
        const started = performance.now()
        const client = walletClient({ api, wallet: w, name: from, signer: await w.unlock(from, undefined), timeoutMs: 30_000, say })
        const sent = await client.send(body, { ordering })
        const o = sent.status.outcome
        say(`${what.padEnd(46)} ${o?.status === 'applied' ? 'applied' : `rejected: ${o?.status === 'rejected' ? o.detail : sent.status.status}`} in ${(performance.now() - started).toFixed(0)} ms`)
        return sent
      }
      for (const name of ['alice', 'bob']) await w.create(name, undefined)
      const alice = await w.resolve('alice')
      const bob = await w.resolve('bob')
      await send('treasury', { kind: 'transfer', to: alice, amount: 500n }, 'treasury -> alice 500')
      await send('treasury', { kind: 'transfer', to: bob, amount: 200n }, 'treasury -> bob 200')
      await send('alice', { kind: 'transfer', to: bob, amount: 120n }, 'alice -> bob 120 (cites the 500 she received)')
      try {
        await send('bob', { kind: 'transfer', to: alice, amount: 10_000n }, 'bob -> alice 10000 (more than he has)')
      } catch (err) {
        // the wallet does not sign what could only be rejected
        if (!(err instanceof InsufficientFundsError)) throw err
        say(`${'bob -> alice 10000 (more than he has)'.padEnd(46)} refused before signing: ${err.message.split(';')[0]!}`)
      }
      const tokenFile = fileURLToPath(new URL('../../../../contracts/token.lisp', import.meta.url))
      const code = await readFile(tokenFile, 'utf8')
      const node1 = fromHex(String((await api.status()).nodeId))
      const deploy = await send('alice', { kind: 'deploy', code, args: [alice, 1_000_000n], sequencer: node1, gasLimit: 100_000 }, 'alice deploys contracts/token.lisp (node1 sequences)')
      const token = contractAddress(deploy.slot.account, deploy.slot.seq)
      const call = await send('alice', { kind: 'call', contract: token, fn: 'transfer', args: [bob, 2500n], value: 0n, gasLimit: 100_000 }, 'alice calls token transfer(bob, 2500)', [deploy.slot])
      await waitUntil('the token call to be executed', 30_000, async () => (await api.call(toHex(call.slot.account), call.slot.seq)).status !== 'queued')
      const outcome = await api.call(toHex(call.slot.account), call.slot.seq)
      say(`${'token transfer executed by the sequencer'.padEnd(46)} ${outcome.status}${'gasUsed' in outcome ? `, gas ${outcome.gasUsed}` : ''}`)
      // every node must reach the same state: wait for the last op everywhere, and for roots
      // taken at the node's current delivered count (a busy node serves one up to a second old)
      await waitUntil('every node to reach the same state', 30_000, async () => {
        const all = await Promise.all(apis.map(async x => await x.status()))
        return all.every(s => s.stateHashAt === s.delivered && s.stateHash === all[0]!.stateHash)
      })
      say('')
      say('account    spendable  balance   received  ops')
      for (const [name, key] of [['treasury', await w.resolve('treasury')], ['alice', alice], ['bob', bob]] as const) {
        const v = await api.account(toHex(key))
        say(`${name.padEnd(11)}${v.spendable.padEnd(11)}${v.balance.padEnd(10)}${v.pending.padEnd(10)}${v.nextSeq - 1}`)
      }
      say('')
      for (let i = 0; i < n; i++) {
        const s = await apis[i]!.status()
        say(`node${i + 1}  delivered ${String(s.delivered).padEnd(4)} peers ${String(s.peers).padEnd(3)} state ${String(s.stateHash).slice(0, 16)}`)
      }
      say('== every node holds the same state; stopping the network')
    } finally {
      forget()
      await cleanUp()
      if (a.keep) say(`network kept in ${dir}`)
    }
  }
}
