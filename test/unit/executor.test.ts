// The host's action executor: the ordering contract the node, the simulator and LocalNet all rely
// on (a persist finishes before anything after it; nothing is dropped; an error stops it).

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Action, PersistRecord } from '../../src/core/broadcast/actions.js'
import type { CertifiedCheckpoint, Divergence } from '../../src/core/checkpoint/keeper.js'
import type { Outcome } from '../../src/core/ledger/ledger.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { ActionExecutor } from '../../src/host/executor.js'
import type { ActionPorts, PortResult } from '../../src/host/ports.js'

// the executor only passes these through, so stand-ins do
const op = { seq: 1 } as unknown as SignedOp
const evidence = { seq: 2 } as unknown as SignedOp
const outcome = { status: 'applied' } as unknown as Outcome
const checkpoint = { msg: { height: 5 } } as unknown as CertifiedCheckpoint
const record: PersistRecord = { kind: 'certificate', bytes: new Uint8Array([1]) }

/** One action of every kind: a Record over Action['type'] fails to compile when a kind is added. */
const ONE_OF_EACH: { [K in Action['type']]: Extract<Action, { type: K }> } = {
  send: { type: 'send', to: 'peer-a', bytes: new Uint8Array([1]), kind: 'vote' },
  broadcast: { type: 'broadcast', bytes: new Uint8Array([2]), kind: 'certified' },
  persist: { type: 'persist', record },
  deliver: { type: 'deliver', op, outcome, cert: 'c1' },
  dropped: { type: 'dropped', op, reason: 'equivocated', evidence },
  checkpoint: { type: 'checkpoint', checkpoint },
  behind: { type: 'behind', height: 9, peers: ['peer-b'] },
  evidence: { type: 'evidence', evidence: { voter: new Uint8Array([7]), certificate: new Uint8Array(), ops: [], sig: new Uint8Array() } },
  epoch: { type: 'epoch', epoch: 3 },
  diverged: { type: 'diverged', divergence: { height: 11 } as unknown as Divergence }
}

const send = (to: string): Action => ({ type: 'send', to, bytes: new Uint8Array(), kind: 'test' })
const persist: Action = { type: 'persist', record }

/** Ports that log each call as `port.method args`; `persist` answers with what `store` returns. */
function recorder (store: (r: readonly PersistRecord[]) => PortResult = () => {}): { ports: ActionPorts, calls: string[] } {
  const calls: string[] = []
  const ports: ActionPorts = {
    network: {
      send: (to, _bytes, kind) => { calls.push(`network.send ${to} ${kind}`) },
      publish: (_bytes, kind) => { calls.push(`network.publish ${kind}`) }
    },
    store: { persist: r => { calls.push(`store.persist ${r.map(x => x.kind).join(',')}`); return store(r) } },
    deliveries: {
      delivered: (o, out, cert) => { assert.equal(o, op); assert.equal(out, outcome); calls.push(`deliveries.delivered ${cert}`) },
      dropped: (o, reason, ev) => { assert.equal(o, op); assert.equal(ev, evidence); calls.push(`deliveries.dropped ${reason}`) }
    },
    checkpoints: { certified: cp => { calls.push(`checkpoints.certified ${cp.msg.height}`) } },
    sync: { behind: (height, peers) => { calls.push(`sync.behind ${height} ${peers.join(',')}`) } },
    misbehaviour: {
      validatorVotedTwice: ev => { calls.push(`misbehaviour.validatorVotedTwice ${ev.voter[0]!}`) },
      stateDiverged: d => { calls.push(`misbehaviour.stateDiverged ${d.height}`) }
    },
    epochs: { changed: epoch => { calls.push(`epochs.changed ${epoch}`) } }
  }
  return { ports, calls }
}

function deferred (): { promise: Promise<void>, resolve: () => void, reject: (err: Error) => void } {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((_resolve, _reject) => { resolve = _resolve; reject = _reject })
  return { promise, resolve, reject }
}

const noError = (err: unknown): void => { throw err }

describe('ActionExecutor', () => {
  test('every action kind reaches its port, with its fields', () => {
    const { ports, calls } = recorder()
    new ActionExecutor(ports, noError).execute(Object.values(ONE_OF_EACH))
    assert.deepEqual(calls, [
      'network.send peer-a vote',
      'network.publish certified',
      'store.persist certificate',
      'deliveries.delivered c1',
      'deliveries.dropped equivocated',
      'checkpoints.certified 5',
      'sync.behind 9 peer-b',
      'misbehaviour.validatorVotedTwice 7',
      'epochs.changed 3',
      'misbehaviour.stateDiverged 11'
    ])
  })

  test('with synchronous ports every action has run when execute returns', () => {
    const { ports, calls } = recorder()
    const ex = new ActionExecutor(ports, noError)
    ex.execute([persist, send('a')])
    assert.deepEqual(calls, ['store.persist certificate', 'network.send a test'])
    assert.equal(ex.idle, true)
  })

  test('an action after an unfinished persist waits for it, across execute calls too', async () => {
    const disk = deferred()
    const { ports, calls } = recorder(async () => await disk.promise)
    const ex = new ActionExecutor(ports, noError)
    ex.execute([send('before'), persist, send('after')])
    ex.execute([send('next-input')])
    // microtasks and a macrotask pass: still nothing after the persist
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(calls, ['network.send before test', 'store.persist certificate'])
    assert.equal(ex.idle, false)
    disk.resolve()
    await ex.settled()
    assert.deepEqual(calls, ['network.send before test', 'store.persist certificate', 'network.send after test', 'network.send next-input test'])
  })

  test('order holds over thousands of inputs that arrive while persists are pending', async () => {
    let written = 0
    const { ports, calls } = recorder(async () => await new Promise(resolve => setImmediate(resolve)))
    const store = ports.store.persist
    ports.store.persist = records => { const r = store(records); written += records.length; return r }
    const ex = new ActionExecutor(ports, noError)
    const sent: string[] = []
    const writtenBefore: number[] = []
    const send0 = ports.network.send
    ports.network.send = (to, bytes, kind) => { writtenBefore.push(written); return send0(to, bytes, kind) }
    for (let i = 0; i < 3000; i++) {
      ex.execute([persist, send(String(i))])
      sent.push(`network.send ${i} test`)
      // inputs keep arriving while the queue is never empty (it compacts rather than drains)
      if (i % 100 === 0) await new Promise(resolve => setImmediate(resolve))
    }
    await ex.settled()
    assert.deepEqual(calls.filter(c => c.startsWith('network.send')), sent)
    assert.equal(written, 3000)
    // send i ran after its own persist (and every earlier one) was written
    writtenBefore.forEach((w, i) => assert.ok(w >= i + 1, `send ${i} ran with ${w} records written`))
    assert.ok(calls.length < 6000, 'persists queued together were written together')
  })

  test('persists queued behind a pending one are written in one call, in order, before what follows them', async () => {
    const disk = deferred()
    const batches: string[][] = []
    const { ports, calls } = recorder(async records => { batches.push(records.map(r => r.kind === 'certificate' ? String(r.bytes[0]) : r.kind)); if (batches.length === 1) await disk.promise })
    const ex = new ActionExecutor(ports, noError)
    const cert = (n: number): Action => ({ type: 'persist', record: { kind: 'certificate', bytes: new Uint8Array([n]) } })
    ex.execute([cert(1), send('a')])
    ex.execute([cert(2), send('b'), cert(3), send('c')])
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(batches, [['1']])
    disk.resolve()
    await ex.settled()
    assert.deepEqual(batches, [['1'], ['2', '3']])
    // 'a' waited for 1 only; 'b' for 2 (written with 3, which is safe); 'c' for 3
    assert.deepEqual(calls, ['store.persist certificate', 'network.send a test', 'store.persist certificate,certificate', 'network.send b test', 'network.send c test'])
  })

  test('behind does not drop the actions after it', () => {
    const { ports, calls } = recorder()
    new ActionExecutor(ports, noError).execute([ONE_OF_EACH.behind, send('a'), ONE_OF_EACH.deliver, persist])
    assert.deepEqual(calls, ['sync.behind 9 peer-b', 'network.send a test', 'deliveries.delivered c1', 'store.persist certificate'])
  })

  test('a failed persist stops every later action and reaches the error handler once', async () => {
    const disk = deferred()
    const { ports, calls } = recorder(async () => await disk.promise)
    const errors: Array<[unknown, Action]> = []
    const ex = new ActionExecutor(ports, (err, action) => errors.push([err, action]))
    ex.execute([persist, send('vote')])
    ex.execute([send('queued')])
    const failure = new Error('disk full')
    disk.reject(failure)
    await ex.settled()
    ex.execute([send('later')])
    assert.deepEqual(calls, ['store.persist certificate'])
    assert.deepEqual(errors, [[failure, persist]])
    assert.equal(ex.stopped, true)
  })

  test('a port that throws stops the executor synchronously', () => {
    const { ports, calls } = recorder(() => { throw new Error('fsync failed') })
    const errors: unknown[] = []
    const ex = new ActionExecutor(ports, err => errors.push(err))
    ex.execute([send('a'), persist, send('b')])
    assert.deepEqual(calls, ['network.send a test', 'store.persist certificate'])
    assert.equal(errors.length, 1)
    assert.equal(ex.idle, true)
  })

  test('actions a port queues while running go after the rest of the current list', () => {
    const { ports, calls } = recorder()
    const ex = new ActionExecutor({ ...ports, sync: { behind: () => { calls.push('behind'); ex.execute([send('from-port')]) } } }, noError)
    ex.execute([ONE_OF_EACH.behind, send('rest')])
    assert.deepEqual(calls, ['behind', 'network.send rest test', 'network.send from-port test'])
  })
})
