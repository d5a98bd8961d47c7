// The client library (bftnode/client): its browser entry imports nothing of Node's, its pending
// stores keep one op per account and refuse a second, and BftClient.send never signs two ops for
// one slot whatever the node does (times out, fails, loses the answer, answers conflict), checked
// against the fake node API the wallet tests use. Op bodies and deps are built as the node reads them.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  BftClient, MemoryPendingStore, callBody, contractAddress, deployBody, fillDeps, generateSeed, publicKeyOf, signerFromSeed, toSimulateBody,
  transferBody, signOp, toHex, fromHex, decodeOp
} from '../../src/client/index.js'
import type { PendingOp, PendingStore, SendEvent, Sent } from '../../src/client/index.js'
import { FilePendingStore } from '../../src/client/node.js'
import { contractAddress as coreAddress } from '../../src/core/ledger/contracts.js'
import { Wallet } from '../../src/cli/wallet.js'
import { FakeApi, POST_FAULTS } from '../support/fake-api.js'
import type { Fault } from '../support/fake-api.js'
import { freePort } from '../support/ports.js'

const ENTRY = fileURLToPath(new URL('../../src/client/index.js', import.meta.url))
const BOB = '0b'.repeat(32)
/** The packages the browser entry may import, which the example's import map serves. */
const ALLOWED = ['@noble/curves', '@noble/hashes', '@noble/ciphers', 'cborg']

const code = (c: string) => (err: Error & { code?: string }) => err.code === c

/** Every module a file reaches through static and dynamic imports: files, and bare specifiers with who imports them. */
async function importGraph (entry: string): Promise<{ files: Set<string>, bare: Map<string, string> }> {
  const files = new Set<string>()
  const bare = new Map<string, string>()
  const todo = [entry]
  const IMPORTS = /(?:^|[\n;}])\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g
  while (todo.length > 0) {
    const file = todo.pop()!
    if (files.has(file)) continue
    files.add(file)
    // comments out (JSDoc types say import('./x.js') without importing anything)
    const text = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    for (const m of text.matchAll(IMPORTS)) {
      const spec = (m[1] ?? m[2] ?? m[3])!
      if (spec.startsWith('.') || spec.startsWith('/')) todo.push(join(dirname(file), spec))
      else {
        bare.set(spec, file)
        // into the dependency too, as resolved for Node (the same files the import map serves)
        if (!spec.startsWith('node:') && !builtinModules.includes(spec)) todo.push(fileURLToPath(import.meta.resolve(spec, pathToFileURL(file).href)))
      }
    }
  }
  return { files, bare }
}

describe('the browser entry', () => {
  test('reaches no Node module, only the packages the example maps', async () => {
    const { files, bare } = await importGraph(ENTRY)
    assert.ok(files.size > 10, `only ${files.size} modules: the walk missed imports`)
    const node = [...bare].filter(([s]) => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]!))
    assert.deepEqual(node, [], 'Node modules reachable from bftnode/client')
    const fromUs = [...bare].filter(([, by]) => by.includes(`${sep}dist${sep}src${sep}`)).map(([s]) => s)
    for (const s of fromUs) assert.ok(ALLOWED.some(p => s === p || s.startsWith(`${p}/`)), `bftnode/client imports ${s}, which the example's import map does not serve`)
    assert.ok(![...files].some(f => f.endsWith('pending-file.js') || f.includes(`${sep}src${sep}cli${sep}`)), 'the file store is reachable from the browser entry')
  })
})

describe('pending stores', () => {
  const signer = signerFromSeed('11'.repeat(32))
  const me = toHex(signer.publicKey)
  const net = new Uint8Array(32)
  const record = (amount: bigint, seq = 1): PendingOp => {
    const op = signOp(signer, net, { account: signer.publicKey, seq, deps: [], body: transferBody(BOB, amount) })
    return { seq, op: toHex(op.bytes), hash: toHex(op.hash), account: me, network: toHex(net) }
  }

  const contract = async (store: PendingStore): Promise<void> => {
    assert.equal(await store.get(me), undefined)
    const first = record(1n)
    await store.set(me, first)
    await store.set(me, first) // the same op again: a no-op
    await assert.rejects(store.set(me, record(2n)), code('ERR_PENDING_EXISTS'))
    assert.deepEqual(await store.get(me), first)
    await store.clear(me)
    assert.equal(await store.get(me), undefined)
    await store.set(me, record(3n, 2))
    assert.equal((await store.get(me))?.seq, 2)
  }

  test('memory: one op per account, the same op again is a no-op, another is refused', async () => {
    await contract(new MemoryPendingStore())
  })

  test('file: the same contract, in the wallet\'s own file format; an unreadable file is an error, never "none"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-client-'))
    try {
      const store = new FilePendingStore(join(dir, 'pending'))
      await contract(store)
      // the CLI wallet reads the same file as the record of the account named by its key
      const held = await new Wallet(join(dir, 'pending')).pending(me)
      assert.equal(held?.hash, (await store.get(me))?.hash)
      assert.deepEqual(Object.keys(JSON.parse(await readFile(join(dir, 'pending', `${me}.pending.json`), 'utf8')) as object).sort(), ['hash', 'network', 'op', 'seq'])
      await writeFile(join(dir, 'pending', `${me}.pending.json`), '{"seq": 1, "op": "00')
      await assert.rejects(store.get(me), (err: Error & { code?: string }) => err.code === 'ERR_PENDING_CORRUPT' && err.message.includes('pending.json'))
      await assert.rejects(store.set(me, record(1n)), code('ERR_PENDING_CORRUPT'))
      // names: a wallet's account names instead of keys
      const named = new FilePendingStore(join(dir, 'named'), { nameOf: () => 'alice' })
      await named.set(me, record(1n))
      assert.equal((await new Wallet(join(dir, 'named')).pending('alice'))?.hash, record(1n).hash)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('BftClient.send against a node that misbehaves', () => {
  const setup = async (label: string, store: PendingStore = new MemoryPendingStore(), timeoutMs = 300): Promise<{ fake: FakeApi, client: (t?: number) => BftClient, me: string, events: SendEvent[], store: PendingStore }> => {
    const fake = await new FakeApi(await freePort()).start()
    const signer = signerFromSeed(toHex(new TextEncoder().encode(label.padEnd(32, '.').slice(0, 32))))
    const events: SendEvent[] = []
    return { fake, me: toHex(signer.publicKey), events, store, client: (t = timeoutMs) => new BftClient({ api: fake.url, signer, pending: store, timeoutMs: t, onEvent: e => events.push(e) }) }
  }

  // what each fault at the first submission leaves: the error, and the op still pending
  const expected: Partial<Record<Fault, string>> = {
    'cut-before': 'ERR_UNCONFIRMED',
    'cut-after': 'ERR_UNCONFIRMED',
    '500-before': 'ERR_UNCONFIRMED',
    '500-after': 'ERR_UNCONFIRMED',
    hang: 'ERR_UNCONFIRMED',
    busy: 'ERR_BUSY',
    'too-far-ahead': 'ERR_TOO_FAR_AHEAD',
    'not-accepted': 'ERR_NOT_ACCEPTED',
    conflict: 'ERR_SLOT_CONTESTED',
    malformed: 'ERR_MALFORMED'
  }

  for (const fault of POST_FAULTS) {
    test(`a fault at the submission (${fault}) never leads to a second op for the slot`, { timeout: 30_000 }, async () => {
      const { fake, client, me, store } = await setup(`fault-${fault}`)
      try {
        fake.live = false // validators down: an accepted op waits, bound
        fake.fault = r => (r.method === 'POST' && fake.received.length === 0 ? fault : undefined)
        await assert.rejects(client().transfer(BOB, 1n), code(expected[fault]!))
        const first = fake.received[0]?.op
        if (fault === 'malformed') {
          // refused for good: nothing is bound, the record goes, the next op may take the slot
          assert.equal(await store.get(me), undefined)
        } else {
          assert.equal((await store.get(me))?.op, first, 'the signed op stays pending')
          fake.fault = () => undefined
          // the next send resubmits the same bytes (and times out waiting: validators still down)
          await assert.rejects(client().transfer(BOB, 2n), code('ERR_TIMEOUT'))
          assert.ok(fake.received.every(r => r.op === first), 'only the first op went out')
        }
        fake.fault = () => undefined
        fake.release()
        const sent = await client(5000).transfer(BOB, 3n)
        assert.equal(sent.status.status, 'delivered')
        assert.deepEqual(fake.equivocations(), [])
        assert.equal(await store.get(me), undefined)
        if (fault !== 'malformed') {
          assert.equal(fake.deliveredOp(me, 1), first, 'the first op took its slot')
          assert.equal(sent.slot.seq, 2)
        }
      } finally {
        await fake.close()
      }
    })
  }

  test('a node that times out on every request: nothing is signed twice, and the op goes through once it answers', { timeout: 30_000 }, async () => {
    const { fake, client, me } = await setup('hang-all')
    try {
      fake.fault = r => (r.method === 'GET' && r.path.startsWith('/v1/ops/') ? 'hang' : undefined)
      fake.live = false
      const results: Array<Sent | Error> = []
      for (let i = 0; i < 3; i++) results.push(await client().transfer(BOB, BigInt(i + 1)).catch((err: Error) => err))
      assert.ok(results.every(r => r instanceof Error && (r as Error & { code: string }).code === 'ERR_TIMEOUT'), String(results))
      assert.equal(new Set(fake.received.map(r => r.op)).size, 1)
      fake.fault = () => undefined
      fake.release()
      const sent = await client(5000).transfer(BOB, 9n)
      assert.equal(sent.slot.seq, 2)
      assert.ok(fake.deliveredOp(me, 1) !== undefined)
      assert.deepEqual(fake.equivocations(), [])
    } finally {
      await fake.close()
    }
  })

  test('what it tells: signed, queued, delivered; an earlier op\'s fate as a note', { timeout: 30_000 }, async () => {
    const { fake, client, events } = await setup('events')
    try {
      fake.live = false
      await assert.rejects(client().transfer(BOB, 1n), code('ERR_TIMEOUT'))
      assert.deepEqual(events.map(e => e.type), ['signed', 'queued'])
      fake.release()
      events.length = 0
      await client(5000).transfer(BOB, 2n)
      assert.deepEqual(events.map(e => e.type), ['note', 'signed', 'queued', 'delivered'])
      assert.match((events[0] as { text: string }).text, /left pending was delivered: applied/)
    } finally {
      await fake.close()
    }
  })

  test('an op that could only be refused is not signed; a record for another network is kept, not resubmitted', { timeout: 30_000 }, async () => {
    const { fake, client, me, store } = await setup('refuse')
    try {
      await assert.rejects(client().transfer(BOB, 5000n), (err: Error & { code?: string }) => err.code === 'ERR_INSUFFICIENT_FUNDS' && /nothing was signed/.test(err.message))
      assert.equal(fake.received.length, 0)
      const signer = signerFromSeed(toHex(new TextEncoder().encode('refuse'.padEnd(32, '.'))))
      const other = '77'.repeat(32)
      const op = signOp(signer, fromHex(other), { account: signer.publicKey, seq: 1, deps: [], body: transferBody(BOB, 1n) })
      await store.set(me, { seq: 1, op: toHex(op.bytes), hash: toHex(op.hash), account: me, network: other })
      await assert.rejects(client().transfer(BOB, 2n), code('ERR_PENDING_MISMATCH'))
      assert.equal(fake.received.length, 0)
      assert.equal((await store.get(me))?.hash, toHex(op.hash))
    } finally {
      await fake.close()
    }
  })
})

describe('op bodies and deps', () => {
  test('keys, amounts and arguments in every form the library takes', () => {
    const seed = generateSeed()
    assert.equal(seed.length, 32)
    assert.equal(publicKeyOf(seed), toHex(signerFromSeed(toHex(seed)).publicKey))
    assert.deepEqual(transferBody(BOB, 5n), transferBody(fromHex(BOB), 5n))
    assert.throws(() => transferBody('xyz', 5n), code('ERR_BAD_KEY'))
    assert.throws(() => transferBody(BOB, 0n), code('ERR_BAD_ARGUMENT'))
    const a = callBody({ contract: BOB, fn: 'transfer', args: { json: [{ key: BOB }, 10, { bytes: 'ab' }] }, value: 3n, deadline: 7 })
    const b = callBody({ contract: BOB, fn: 'transfer', args: [fromHex(BOB), 10n, new Uint8Array([0xab])], value: 3n, deadline: 7 })
    assert.deepEqual(a, b)
    assert.deepEqual(toSimulateBody(a), { kind: 'call', contract: BOB, fn: 'transfer', args: [{ bytes: BOB }, { int: '10' }, { bytes: 'ab' }], value: '3', gasLimit: a.gasLimit, deadline: 7 })
    assert.equal(deployBody({ code: '(define (init) 0)', sequencer: null }).sequencer, null)
    assert.equal(contractAddress(BOB, 4), toHex(coreAddress(fromHex(BOB), 4)))
    // an op the library builds is one the node decodes, to the same op
    const signer = signerFromSeed(seed)
    const op = signOp(signer, new Uint8Array(32), { account: signer.publicKey, seq: 1, deps: [], body: a })
    const again = signOp(signer, new Uint8Array(32), { account: signer.publicKey, seq: 1, deps: [], body: decodeOp(op.bytes).body })
    assert.equal(toHex(again.bytes), toHex(op.bytes))
  })

  test('ordering deps come first, a credit that is also an ordering dep is cited once, up to 64 deps', () => {
    const c = (i: number): { account: string, seq: number, amount: string } => ({ account: toHex(new Uint8Array(32).fill(i)), seq: i, amount: '10' })
    const ordering = [{ account: new Uint8Array(32).fill(1), seq: 1 }]
    const { deps, credits } = fillDeps({ credits: [c(1), c(2), c(3)] }, ordering)
    assert.deepEqual(deps.map(d => [toHex(d.account).slice(0, 2), d.seq]), [['01', 1], ['02', 2], ['03', 3]])
    assert.equal(credits, 20n)
    const many = fillDeps({ credits: Array.from({ length: 80 }, (_, i) => c(i + 2)) }, ordering)
    assert.equal(many.deps.length, 64)
    assert.equal(many.credits, 630n)
  })
})
