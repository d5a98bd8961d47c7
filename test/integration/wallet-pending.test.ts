// The wallet never signs two ops for one slot: an op stays pending until its fate is known, and
// the next command resubmits the same bytes, whatever error, timeout, lost answer or kill comes
// between signing and knowing. Checked against a fake node API that misbehaves at every request,
// through sendOp in process and through the real `bftnode` binary (killed with SIGKILL).

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fromHex, sha256, toHex } from '../../src/core/crypto/hash.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import { ApiClient } from '../../src/client/api-client.js'
import { sendOp } from '../../src/cli/ops.js'
import type { Sent } from '../../src/cli/ops.js'
import { Wallet } from '../../src/cli/wallet.js'
import { FakeApi, GET_FAULTS, POST_FAULTS } from '../support/fake-api.js'
import type { Fault, FakeRequest } from '../support/fake-api.js'
import { freePort, waitFor } from '../support/ports.js'

const BIN = fileURLToPath(new URL('../../../bin/bftnode.js', import.meta.url))
const BOB = '0b'.repeat(32)
const NAME = 'alice'

function seed (label: string): Uint8Array {
  const s = new Uint8Array(32)
  s.set(new TextEncoder().encode(label).subarray(0, 32))
  return s
}

async function tempDir (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'bftnode-wallet-'))
}

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Scenario {
  /** Validators down for the first `stalled` commands: accepted ops stay bound, undelivered. */
  readonly stalled: number
  readonly fault: (req: FakeRequest) => Fault | undefined
}

const COMMANDS = 3
const FAULTY_TIMEOUT_MS = 120

/**
 * Three transfers with faults injected, then validators up and commands without faults until the
 * wallet holds nothing pending. Checks what must hold whatever the faults were; returns the
 * requests the server saw.
 */
async function runScenario (s: Scenario, label: string): Promise<FakeRequest[]> {
  const fake = await new FakeApi(await freePort()).start()
  const dir = await tempDir()
  try {
    const wallet = new Wallet(dir)
    const signer = signerFrom(nobleScheme, seed('pending-alice'))
    const me = toHex(signer.publicKey)
    const send = async (amount: number, timeoutMs: number): Promise<Sent> => await sendOp({
      api: new ApiClient(fake.url), wallet, name: NAME, signer, body: { kind: 'transfer', to: fromHex(BOB), amount: BigInt(amount) }, timeoutMs, say: () => {}
    })
    const sent: Sent[] = []
    fake.live = s.stalled === 0
    fake.fault = s.fault
    for (let i = 0; i < COMMANDS; i++) {
      if (i === s.stalled) fake.release()
      await send(i + 1, FAULTY_TIMEOUT_MS).then(r => { sent.push(r) }, () => {})
    }
    fake.fault = () => undefined
    fake.release()
    let recovery: Error | undefined
    try {
      for (let i = 0; i < 3 && (await wallet.pending(NAME)) !== undefined; i++) sent.push(await send(100 + i, 5000))
    } catch (err) { recovery = err as Error }
    assert.deepEqual(fake.equivocations(), [], `${label}: the wallet sent two ops for one slot`)
    assert.equal(recovery, undefined, `${label}: a command without faults failed: ${recovery?.message ?? ''}`)
    assert.equal(await wallet.pending(NAME), undefined, `${label}: a command without faults settles what is pending`)
    for (const r of sent) {
      // what the wallet reports delivered is the op the node holds in that slot
      const held = fake.deliveredOp(me, r.slot.seq)
      if (r.status.status === 'delivered') assert.equal(held === undefined ? undefined : toHex(sha256(fromHex(held))), r.hash, label)
    }
    return [...fake.requests]
  } finally {
    await fake.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Runs scenarios a few at a time (each has its own server and wallet). */
async function inParallel<T> (items: readonly T[], run: (item: T) => Promise<void>, width = 8): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await run(items[next++]!)
  }))
}

describe('the wallet against a node API that fails at every step', () => {
  for (const stalled of [0, 2]) {
    const when = stalled === 0 ? 'validators up' : 'validators down for two commands'
    test(`one fault at any request never makes the wallet send two ops for one slot (${when})`, { timeout: 180_000 }, async () => {
      const clean = await runScenario({ stalled, fault: () => undefined }, 'no fault')
      const cases: Array<{ index: number, fault: Fault }> = []
      clean.forEach((r, index) => {
        for (const fault of r.method === 'POST' ? POST_FAULTS : GET_FAULTS) cases.push({ index, fault })
      })
      assert.ok(cases.length > 30, `only ${cases.length} cases`)
      await inParallel(cases, async ({ index, fault }) => {
        const at = (r: FakeRequest): boolean => r.index === index && (r.method === 'POST' || GET_FAULTS.includes(fault))
        await runScenario({ stalled, fault: r => (at(r) ? fault : undefined) }, `${fault} at request ${index} (${clean[index]!.method} ${clean[index]!.path})`)
      })
    })

    test(`faults at random requests never make the wallet send two ops for one slot (${when})`, { timeout: 180_000 }, async () => {
      const seeds = Array.from({ length: 40 }, (_, i) => 1000 + i)
      await inParallel(seeds, async s => {
        const next = rng(s)
        await runScenario({
          stalled,
          fault: r => {
            if (next() > 0.35) return undefined
            const list = r.method === 'POST' ? POST_FAULTS : GET_FAULTS
            return list[Math.floor(next() * list.length)]
          }
        }, `seed ${s}`)
      })
    })
  }
})

describe('the pending record', () => {
  test('a corrupted pending file stops the wallet from signing, with a clear error', { timeout: 30_000 }, async () => {
    const fake = await new FakeApi(await freePort()).start()
    const dir = await tempDir()
    try {
      const signer = signerFrom(nobleScheme, seed('pending-corrupt'))
      for (const text of ['', '{"seq": 1, "op": "00', '{"seq": 1, "op": "zz", "hash": "00"}', 'null']) {
        await writeFile(join(dir, `${NAME}.pending.json`), text)
        await assert.rejects(sendOp({ api: new ApiClient(fake.url), wallet: new Wallet(dir), name: NAME, signer, body: { kind: 'transfer', to: fromHex(BOB), amount: 1n }, timeoutMs: 2000, say: () => {} }),
          (err: Error & { code?: string }) => err.code === 'ERR_PENDING_CORRUPT' && err.message.includes('pending.json'), `pending file ${JSON.stringify(text)}`)
      }
      assert.equal(fake.received.length, 0, 'nothing was signed and sent')
    } finally {
      await fake.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a pending record for a slot is never replaced by another op for that slot', { timeout: 30_000 }, async () => {
    const dir = await tempDir()
    try {
      const wallet = new Wallet(dir)
      const signer = signerFrom(nobleScheme, seed('pending-replace'))
      const net = new Uint8Array(32)
      const op = (amount: bigint): ReturnType<typeof signOp> => signOp(signer, net, { account: signer.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: fromHex(BOB), amount } })
      const first = op(1n)
      const second = op(2n)
      await wallet.setPending(NAME, first.seq, first.bytes, first.hash)
      await wallet.setPending(NAME, first.seq, first.bytes, first.hash)
      await assert.rejects(wallet.setPending(NAME, second.seq, second.bytes, second.hash), (err: Error & { code?: string }) => err.code === 'ERR_PENDING_EXISTS')
      assert.equal((await wallet.pending(NAME))?.op, toHex(first.bytes))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('an op pending for another network is neither resubmitted nor dropped', { timeout: 30_000 }, async () => {
    const fake = await new FakeApi(await freePort()).start()
    const dir = await tempDir()
    try {
      const wallet = new Wallet(dir)
      const signer = signerFrom(nobleScheme, seed('pending-network'))
      const other = '77'.repeat(32)
      const op = signOp(signer, fromHex(other), { account: signer.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: fromHex(BOB), amount: 1n } })
      await writeFile(join(dir, `${NAME}.pending.json`), JSON.stringify({ seq: 1, op: toHex(op.bytes), hash: toHex(op.hash), network: other }))
      await assert.rejects(sendOp({ api: new ApiClient(fake.url), wallet, name: NAME, signer, body: { kind: 'transfer', to: fromHex(BOB), amount: 2n }, timeoutMs: 2000, say: () => {} }),
        (err: Error & { code?: string }) => err.code === 'ERR_PENDING_MISMATCH')
      assert.equal(fake.received.length, 0)
      assert.equal((await wallet.pending(NAME))?.hash, toHex(op.hash))
    } finally {
      await fake.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('the bftnode CLI against a node API that fails', () => {
  interface Run { code: number, out: string, err: string }

  const setup = async (): Promise<{ fake: FakeApi, dir: string, me: string, pendingFile: string, args: string[], env: NodeJS.ProcessEnv }> => {
    const fake = await new FakeApi(await freePort()).start()
    const dir = await tempDir()
    const walletDir = join(dir, 'wallet')
    const file = await new Wallet(walletDir).create(NAME, undefined)
    return {
      fake,
      dir,
      me: file.publicKey,
      pendingFile: join(walletDir, `${NAME}.pending.json`),
      args: ['--api', fake.url, '--wallet-dir', walletDir, '--timeout', '600'],
      env: { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    }
  }

  const cli = async (env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> => await new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 30_000 }, (err, out, errOut) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), out, err: errOut })
    })
  })

  const transfer = (amount: number): string[] => ['transfer', '--from', NAME, '--to', BOB, '--amount', String(amount)]

  const pendingOp = async (file: string): Promise<string> => (JSON.parse(await readFile(file, 'utf8')) as { op: string }).op

  const gone = async (file: string): Promise<boolean> => await readFile(file).then(() => false, () => true)

  /** With the node healthy again, the next transfer delivers the first op at seq 1, its own at 2, and nothing is pending. */
  const settlesWith = async (op: string, { fake, me, pendingFile, args, env }: Omit<Awaited<ReturnType<typeof setup>>, 'dir'>): Promise<void> => {
    fake.release()
    const third = await cli(env, ...transfer(3), ...args)
    assert.equal(third.code, 0, third.err)
    assert.equal(fake.deliveredOp(me, 1), op)
    assert.ok(fake.deliveredOp(me, 2) !== undefined)
    assert.deepEqual(fake.equivocations(), [])
    assert.ok(await gone(pendingFile))
  }

  test('a transfer whose answer is cut keeps its op pending, and the next one resubmits the same bytes', { timeout: 120_000 }, async () => {
    const { fake, dir, me, pendingFile, args, env } = await setup()
    try {
      // the run: validators down, the POST reaches the node, its answer is lost
      fake.live = false
      fake.fault = r => (r.method === 'POST' && fake.received.length === 0 ? 'cut-after' : undefined)
      const first = await cli(env, ...transfer(1), ...args)
      assert.equal(first.code, 1)
      assert.match(first.err, /pending/)
      const op = await pendingOp(pendingFile)
      assert.equal(fake.received[0]?.op, op)
      fake.fault = () => undefined
      const second = await cli(env, ...transfer(2), ...args)
      assert.equal(second.code, 1, 'the first op is still undelivered')
      assert.match(second.out, /resubmitting op/)
      assert.ok(fake.received.length >= 2 && fake.received.every(r => r.op === op), 'only the first op was sent, twice')
      await settlesWith(op, { fake, me, pendingFile, args, env })
    } finally {
      await fake.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  // where the CLI dies, then what the next command's resubmission meets
  const kills = ['pending file written', 'POST sent', 'waiting for delivery'] as const
  const thens: Fault[] = ['cut-after', 'conflict']
  for (const kill of kills) {
    for (const then of thens) {
      test(`a CLI killed at "${kill}" leaves its op pending; the next commands resubmit those bytes (then: ${then})`, { timeout: 120_000 }, async () => {
        const { fake, dir, me, pendingFile, args, env } = await setup()
        try {
          fake.live = false
          fake.fault = r => (r.method === 'POST' && kill !== 'waiting for delivery' ? 'hang' : undefined)
          const child = spawn(process.execPath, [BIN, ...transfer(1), ...args], { env, stdio: 'ignore' })
          const exited = new Promise(resolve => child.once('exit', resolve))
          await waitFor(kill, 20_000, async () => {
            if (kill === 'pending file written') return !(await gone(pendingFile))
            if (kill === 'POST sent') return fake.received.length > 0
            return fake.requests.some(r => r.method === 'GET' && r.path.startsWith('/v1/ops/'))
          })
          child.kill('SIGKILL')
          await exited
          const op = await pendingOp(pendingFile)

          const mark = fake.received.length
          fake.fault = r => (r.method === 'POST' && fake.received.length === mark ? then : undefined)
          const second = await cli(env, ...transfer(2), ...args)
          assert.equal(second.code, 1, second.out)
          assert.equal(fake.received[mark]?.op, op, 'the next command resubmits the identical bytes')
          assert.equal(await pendingOp(pendingFile), op, 'and keeps them pending')

          fake.fault = () => undefined
          await settlesWith(op, { fake, me, pendingFile, args, env })
        } finally {
          await fake.close()
          await rm(dir, { recursive: true, force: true })
        }
      })
    }
  }
})
