// The history index: bounded by entries and bytes with the oldest evicted first, nothing evicted
// kept reachable, pages newest first with cursors that continue where they stopped, the name
// filter, the merged order a resumed stream reads, and the SSE parser the client reads it with.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { toHex } from '../../src/core/crypto/hash.js'
import { cursorOf, DEFAULT_HISTORY_LIMITS, eventView, formatCursor, HistoryIndex, opView, parseCursor } from '../../src/node/history.js'
import type { HistoryLimits, OpRecord } from '../../src/node/history.js'
import { SseParser } from '../../src/client/sse.js'
import { ContractHarness } from '../support/contract-harness.js'

const EMITTER = `
(defun init () (emit "born" (dict "n" 1)) true)
(defun ping (n) (emit "ping" (dict "n" n "tag" "s:x")) (emit "pong" n) true)
(defun big (s) (emit "big" s) true)
`

/** A harness whose every applied op is delivered to the index, as the node's hook does. */
function setup (limits: Partial<HistoryLimits> = {}): { h: ContractHarness, index: HistoryIndex, sync: () => void } {
  const h = new ContractHarness(['alice', 'bob', 'carol', 'dave'])
  const index = new HistoryIndex({ ...DEFAULT_HISTORY_LIMITS, ...limits })
  let fed = 0
  const sync = (): void => {
    for (; fed < h.applied.length; fed++) {
      const { op, outcome } = h.applied[fed]!
      index.delivered(op, outcome, undefined, h.ledger)
    }
  }
  return { h, index, sync }
}

function weakRefs (records: OpRecord[]): Array<WeakRef<OpRecord>> {
  return records.map(r => new WeakRef(r))
}

const hex = (h: ContractHarness, name: string): string => toHex(h.key(name))

describe('history index', () => {
  test('ops: an entry per delivery with its kind\'s fields, index counting on from the start height', () => {
    const { h, index, sync } = setup()
    index.startAt(1000)
    h.transfer('alice', h.key('bob'), 5n)
    h.transfer('alice', h.key('bob'), 10_000_000n) // rejected: insufficient funds
    const c = h.deploy('alice', EMITTER)
    h.call('bob', c, 'ping', [7n])
    h.execute(c)
    sync()
    const page = index.accountOps(hex(h, 'alice'), undefined, 50)
    assert.deepEqual(page.items.map(r => [r.index, r.kind, r.seq]), [[1003, 'deploy', 3], [1002, 'transfer', 2], [1001, 'transfer', 1]])
    assert.equal(page.next, undefined)
    const [deploy, rejected, transfer] = page.items.map(opView)
    assert.deepEqual(transfer, { hash: transfer!.hash, account: hex(h, 'alice'), seq: 1, kind: 'transfer', outcome: { status: 'applied' }, index: 1001, to: hex(h, 'bob'), amount: '5' })
    assert.equal(rejected!.outcome.status, 'rejected')
    assert.equal(deploy!.address, toHex(c.address))
    const call = opView(index.accountOps(hex(h, 'bob'), undefined, 1).items[0]!)
    assert.deepEqual([call.kind, call.contract, call.fn, call.value], ['call', toHex(c.address), 'ping', '0'])
    const exec = opView(index.accountOps(toHex(c.address), undefined, 1).items[0]!)
    assert.deepEqual(exec.calls, [{ account: hex(h, 'bob'), seq: 1 }])
    assert.equal(index.lastIndex, 1005)
    // the start height never goes back
    index.startAt(10)
    assert.equal(index.lastIndex, 1005)
  })

  test('events: init\'s and each executed call\'s, in order, data in JSON forms', () => {
    const { h, index, sync } = setup()
    const c = h.deploy('alice', EMITTER)
    const a = h.call('bob', c, 'ping', [1n])
    const b = h.call('carol', c, 'ping', [2n])
    h.executeCalls(c, [a.id, b.id])
    sync()
    const addr = toHex(c.address)
    const items = index.contractEvents(addr, undefined, 50).items.map(eventView)
    assert.deepEqual(items.map(e => [e.name, e.index, e.position, e.call.seq]), [['pong', 4, 3, 1], ['ping', 4, 2, 1], ['pong', 4, 1, 1], ['ping', 4, 0, 1], ['born', 1, 0, 1]])
    assert.deepEqual(items.map(e => e.call.account).slice(0, 4), [hex(h, 'carol'), hex(h, 'carol'), hex(h, 'bob'), hex(h, 'bob')])
    // an Execute's events ran in the contract's stream; init's in the deploy
    assert.deepEqual(items[0]!.executedIn, { account: addr, seq: 1 })
    assert.deepEqual(items[4]!.executedIn, { account: hex(h, 'alice'), seq: 1 })
    // JSON forms: no internal key tags, a string that looks like one goes out as {"str": ...}
    assert.deepEqual(items[1]!.data, { map: { n: { int: '2' }, tag: 's:x' } })
    assert.deepEqual(items[0]!.data, { int: '2' })
    assert.doesNotMatch(JSON.stringify(items), /"s:n"/)
    // the name filter
    const pings = index.contractEvents(addr, undefined, 50, 'ping').items
    assert.deepEqual(pings.map(e => e.position), [2, 0])
    assert.equal(index.contractEvents(addr, undefined, 50, 'nothing').items.length, 0)
    // a failed or rejected execute runs nothing: no events
    assert.equal(index.contractEvents('00'.repeat(32), undefined, 50).items.length, 0)
  })

  test('paging: newest first, next continues exactly where a page stopped, to the end', () => {
    const { h, index, sync } = setup()
    for (let i = 0; i < 7; i++) h.transfer('alice', h.key('bob'), 1n)
    h.transfer('bob', h.key('alice'), 1n) // interleaved: another account's entry
    for (let i = 0; i < 3; i++) h.transfer('alice', h.key('carol'), 1n)
    sync()
    const seen: number[] = []
    let before
    let pages = 0
    for (;;) {
      const page = index.accountOps(hex(h, 'alice'), before, 3)
      seen.push(...page.items.map(r => r.seq))
      pages++
      if (page.next === undefined) break
      // a cursor survives its string form
      before = parseCursor(formatCursor(page.next))
    }
    assert.deepEqual(seen, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    assert.equal(pages, 4)
    // a cursor older than everything: an empty page
    assert.deepEqual(index.accountOps(hex(h, 'alice'), { index: 1, position: -1 }, 3), { items: [] })
    // events paged by (index, position)
    const c = h.deploy('dave', EMITTER)
    const calls = ['alice', 'bob', 'carol'].map(n => h.call(n, c, 'ping', [1n]).id)
    h.executeCalls(c, calls)
    sync()
    const addr = toHex(c.address)
    const first = index.contractEvents(addr, undefined, 4)
    assert.equal(first.items.length, 4)
    const rest = index.contractEvents(addr, first.next, 50)
    assert.deepEqual([...first.items, ...rest.items].map(e => `${e.index}:${e.position}`), [...Array.from({ length: 6 }, (_, i) => `${first.items[0]!.index}:${5 - i}`), `${first.items[0]!.index - 4}:0`])
    assert.equal(rest.next, undefined)
  })

  test('cursors: ops before the events of their delivery; malformed ones refused', () => {
    assert.deepEqual(parseCursor('12'), { index: 12, position: -1 })
    assert.deepEqual(parseCursor('12:3'), { index: 12, position: 3 })
    for (const bad of ['', '-1', '1.5', 'a', '1:', ':1', '1:2:3', '9'.repeat(16)]) assert.equal(parseCursor(bad), undefined, bad)
    assert.equal(formatCursor({ index: 12, position: -1 }), '12')
    assert.equal(formatCursor({ index: 12, position: 0 }), '12:0')
  })

  test('after: ops and events merged in delivery order, filtered, from any cursor', () => {
    const { h, index, sync } = setup()
    const c = h.deploy('alice', EMITTER)
    h.transfer('alice', h.key('bob'), 1n)
    const call = h.call('bob', c, 'ping', [3n])
    h.executeCalls(c, [call.id])
    h.transfer('carol', h.key('bob'), 1n)
    sync()
    const ids = (from: string, filter: Parameters<HistoryIndex['after']>[1], max = 100): string[] => index.after(parseCursor(from)!, filter, max).map(r => formatCursor(cursorOf(r)))
    assert.deepEqual(ids('0', { ops: true, events: true }), ['1', '1:0', '2', '3', '4', '4:0', '4:1', '5'])
    assert.deepEqual(ids('4', { ops: true, events: true }), ['4:0', '4:1', '5'])
    assert.deepEqual(ids('4:0', { ops: true, events: true }), ['4:1', '5'])
    assert.deepEqual(ids('0', { ops: true, events: true }, 3), ['1', '1:0', '2'])
    assert.deepEqual(ids('0', { ops: true, events: false, account: hex(h, 'alice') }), ['1', '2'])
    assert.deepEqual(ids('0', { ops: false, events: true, contract: toHex(c.address) }), ['1:0', '4:0', '4:1'])
    assert.deepEqual(ids('0', { ops: true, events: true, account: hex(h, 'carol'), contract: toHex(c.address) }), ['1:0', '4:0', '4:1', '5'])
    assert.deepEqual(ids('99', { ops: true, events: true }), [])
  })

  test('bounded by entries: the oldest evicted first, emptied accounts forgotten', () => {
    const { h, index, sync } = setup({ maxOps: 10, maxEvents: 4 })
    for (let i = 0; i < 6; i++) h.transfer('alice', h.key('bob'), 1n)
    for (let i = 0; i < 6; i++) h.transfer('bob', h.key('carol'), 1n)
    for (let i = 0; i < 4; i++) h.transfer('carol', h.key('dave'), 1n)
    sync()
    assert.equal(index.size.ops, 10)
    assert.equal(index.evictedOps, 6)
    // alice's six were the oldest: all gone, and her list with them
    assert.deepEqual(index.accountOps(hex(h, 'alice'), undefined, 50).items, [])
    assert.equal(index.size.accounts, 2)
    assert.equal(index.accountOps(hex(h, 'bob'), undefined, 50).items.length, 6)
    const c = h.deploy('dave', EMITTER)
    for (let i = 0; i < 3; i++) h.run('bob', c, 'ping', [BigInt(i)])
    sync()
    assert.equal(index.size.events, 4)
    assert.deepEqual(index.contractEvents(toHex(c.address), undefined, 50).items.map(e => eventView(e).data), [{ int: '2' }, { map: { n: { int: '2' }, tag: 's:x' } }, { int: '1' }, { map: { n: { int: '1' }, tag: 's:x' } }])
  })

  test('bounded by bytes: large entries push out more, oversized event data is not kept', () => {
    const { h, index, sync } = setup({ maxOpBytes: 5_000, maxEventBytes: 15_000, maxEventDataBytes: 8192 })
    for (let i = 0; i < 40; i++) h.transfer('alice', h.key('bob'), 1n)
    sync()
    assert.ok(index.size.opBytes <= 5_000)
    assert.ok(index.size.ops < 40 && index.size.ops > 3, String(index.size.ops))
    const c = h.deploy('alice', EMITTER)
    h.run('bob', c, 'big', ['x'.repeat(3000)])
    h.run('bob', c, 'big', ['y'.repeat(3000)])
    h.run('bob', c, 'big', ['z'.repeat(3000)])
    sync()
    // three of ~6 KB (UTF-16) do not fit in 15,000 bytes: the oldest went first
    const held = index.contractEvents(toHex(c.address), undefined, 50).items.map(eventView)
    assert.ok(index.size.eventBytes <= 15_000)
    assert.deepEqual(held.map(e => e.data), ['z'.repeat(3000), 'y'.repeat(3000)])
    h.run('bob', c, 'big', ['w'.repeat(5000)])
    sync()
    const omitted = eventView(index.contractEvents(toHex(c.address), undefined, 1).items[0]!)
    assert.deepEqual([omitted.data, omitted.dataOmitted], [null, true])
  })

  test('nothing evicted stays reachable from the index (counted after a collection)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { h, index, sync } = setup({ maxOps: 200 })
    for (let i = 0; i < 150; i++) h.transfer(i % 2 === 0 ? 'alice' : 'bob', h.key('carol'), 1n)
    sync()
    // made in a function of its own: a suspended async frame may keep its last loop value
    let refs = weakRefs(['alice', 'bob'].flatMap(who => index.accountOps(hex(h, who), undefined, 200).items))
    assert.equal(refs.length, 150)
    // 300 more from carol and dave: every one of the 150 above is evicted
    for (let i = 0; i < 300; i++) h.transfer(i % 2 === 0 ? 'carol' : 'dave', h.key('alice'), 1n)
    sync()
    assert.equal(index.size.ops, 200)
    assert.deepEqual(index.accountOps(hex(h, 'alice'), undefined, 200).items, [])
    // the harness keeps every op it applied; the index must not keep the records
    h.applied.length = 0
    await new Promise(resolve => setImmediate(resolve))
    gc()
    const alive = refs.filter(r => r.deref() !== undefined).length
    refs = []
    assert.equal(alive, 0, `${alive} evicted entries still reachable`)
  })

  test('listeners get each entry once; a throwing one does not reach the delivery hook; close tells them', () => {
    const { h, index, sync } = setup()
    const got: string[] = []
    let closed = 0
    const stop = index.listen({ op: r => got.push(`op ${r.index}`), event: r => got.push(`event ${r.index}:${r.position}`), closed: () => closed++ })
    index.listen({ op: () => { throw new Error('listener bug') } })
    const c = h.deploy('alice', EMITTER)
    sync()
    stop()
    h.transfer('alice', h.key('bob'), 1n)
    sync()
    assert.deepEqual(got, ['op 1', 'event 1:0'])
    index.close()
    assert.equal(closed, 0, 'a listener that stopped is not told')
    assert.ok(index.stopped)
    let late = 0
    index.listen({ closed: () => late++ })
    assert.equal(late, 1)
    void c
  })
})

describe('SSE parser', () => {
  test('events, ids, comments and multi-line data, whatever the chunking and line ends', () => {
    const text = ': hello\r\nretry: 3000\r\n\r\nid: 1\nevent: delivered\ndata: {"a":1}\n\nid: 1:0\revent: event\rdata: line one\rdata:line two\r\r: ping\n\ndata: plain\n\n'
    const expected = [
      { event: 'delivered', data: '{"a":1}', id: '1' },
      { event: 'event', data: 'line one\nline two', id: '1:0' },
      { event: 'message', data: 'plain', id: '1:0' }
    ]
    for (const size of [1, 2, 3, 7, text.length]) {
      const p = new SseParser()
      const out = []
      for (let i = 0; i < text.length; i += size) out.push(...p.feed(text.slice(i, i + size)))
      assert.deepEqual(out, expected, `chunks of ${size}`)
    }
  })

  test('an endless event is refused, not buffered', () => {
    const p = new SseParser()
    assert.throws(() => { for (let i = 0; i < 10_000; i++) p.feed(`data: ${'x'.repeat(1024)}\n`) }, { code: 'ERR_STREAM_CLOSED' })
  })
})
