// Message sequence charts: a small simulated run (a Byzantine validator, a crash-prone one, an
// equivocating account, checkpoints) drawn as SVG and Mermaid holds every message of the run, every
// delivery and crash; the filters keep exactly the messages about a slot or an account; the cap
// says what it left out; the SVG is well-formed XML; a trace file stops at its byte cap.

import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runSeed } from '../sim/simulation.js'
import type { SimReport } from '../sim/simulation.js'
import { buildChart, ChartError, formatOf, renderChart, renderMermaid } from '../../src/devtools/chart.js'
import { renderSvg } from '../../src/devtools/chart-svg.js'
import { parseTrace, TraceFile } from '../../src/node/trace.js'
import type { MessageInfo, TraceEvent } from '../../src/node/trace.js'

const SMALL = { validators: 4, byzantine: [0], crashProne: [1], crashChance: 0.05, honestAccounts: 1, equivocators: 1, opsPerAccount: 2, duplicateRate: 0, partitions: [], contracts: false, floodClients: 0, checkpointInterval: 2, maxDelay: 20, dropRate: 0.05 }

type Msg = Extract<TraceEvent, { ev: 'send' | 'lost' }>
const messagesOf = (events: readonly TraceEvent[]): Msg[] => events.filter((e): e is Msg => e.ev === 'send' || e.ev === 'lost')

function countBy<T> (xs: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>()
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1)
  return new Map([...m].sort())
}

/** The message types Mermaid arrows name, one per arrow (`A->>B: <type> ...`). */
const mermaidArrows = (text: string): string[] => [...text.matchAll(/^ {2}N\d+(?:->>|-x)N\d+: ([a-z-]+)/gm)].map(m => m[1]!)
const svgArrows = (svg: string): string[] => [...svg.matchAll(/<g class="msg ([a-z-]+)/g)].map(m => m[1]!)

/**
 * A strict enough XML well-formedness check for what the renderer writes: every tag closed in
 * order, attributes quoted, no stray `<` or `&` in text or attribute values.
 */
function assertWellFormedXml (xml: string): void {
  const stack: string[] = []
  let i = 0
  let roots = 0
  const text = (s: string): void => {
    assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(s), `a bare & in ${JSON.stringify(s.slice(0, 80))}`)
  }
  while (i < xml.length) {
    const lt = xml.indexOf('<', i)
    if (lt < 0) { text(xml.slice(i)); assert.equal(xml.slice(i).trim(), ''); break }
    const between = xml.slice(i, lt)
    text(between)
    if (stack.length === 0) assert.equal(between.trim(), '', 'text outside the root element')
    const gt = xml.indexOf('>', lt)
    assert.ok(gt > lt, 'an unclosed tag')
    const tag = xml.slice(lt + 1, gt)
    assert.ok(!tag.includes('<'), `a < inside tag ${tag.slice(0, 60)}`)
    if (tag.startsWith('/')) {
      assert.equal(stack.pop(), tag.slice(1).trim(), 'tags closed out of order')
    } else {
      const m = /^([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)$/.exec(tag)
      assert.ok(m !== null, `malformed tag <${tag.slice(0, 80)}>`)
      for (const [, v] of m[2]!.matchAll(/="([^"]*)"/g)) text(v!)
      if (stack.length === 0) roots++
      if (m[3] !== '/') stack.push(m[1]!)
    }
    i = gt + 1
  }
  assert.deepEqual(stack, [], 'elements left open')
  assert.equal(roots, 1, 'one root element')
}

describe('message sequence charts', () => {
  let events: TraceEvent[] = []
  let report: SimReport
  let equivocator: string

  before(() => {
    report = runSeed(12, 'mixed', SMALL, undefined, e => { events = e })
    equivocator = report.accounts[report.accounts.length - 1]!.account
  })

  test('the run is small and has what a chart should show', () => {
    assert.ok(report.messages > 50 && report.messages < 1000, `${report.messages} messages`)
    assert.ok(report.crashes > 0 && report.checkpoints > 0 && report.dropped > 0)
  })

  test('the trace holds every message the simulated network carried, sent or lost', () => {
    // no duplicates in this run: one trace event per message the simulator counted
    assert.equal(messagesOf(events).length, report.messages)
    // no partitions: every message the simulator dropped was lost on the way
    assert.equal(events.filter(e => e.ev === 'lost').length, report.dropped)
    assert.equal(events.filter(e => e.ev === 'deliver').length, report.delivered)
    assert.equal(events.filter(e => e.ev === 'crash').length, report.crashes)
    assert.equal(events.filter(e => e.ev === 'checkpoint').length, report.checkpoints)
  })

  test('Mermaid and SVG charts draw every message, named by its type, and every delivery and crash', () => {
    const want = countBy(messagesOf(events), e => e.msg.type)
    const mermaid = renderChart(events, 'mermaid', { max: 0 })
    assert.match(mermaid, /^sequenceDiagram\n/)
    assert.deepEqual(countBy(mermaidArrows(mermaid), t => t), want)
    assert.equal((mermaid.match(/: deliver /g) ?? []).length, report.delivered)
    assert.equal((mermaid.match(/: CRASH/g) ?? []).length, report.crashes)
    // one participant per node, the Byzantine one marked
    assert.equal((mermaid.match(/^ {2}participant /gm) ?? []).length, 4)
    assert.match(mermaid, /participant N0 as n0 [0-9a-f]{6} \(byzantine\)/)

    const svg = renderChart(events, 'svg', { max: 0 })
    assert.deepEqual(countBy(svgArrows(svg), t => t), want)
    assert.equal((svg.match(/<g class="event deliver">/g) ?? []).length, report.delivered)
    assert.equal((svg.match(/<g class="event crash">/g) ?? []).length, report.crashes)
    // lost messages are drawn crossed out, as many as were lost
    assert.equal((svg.match(/<g class="msg [a-z-]+ lost">/g) ?? []).length, messagesOf(events).length - events.filter(e => e.ev === 'recv').length)
    assertWellFormedXml(svg)
  })

  test('an account filter keeps exactly the messages naming the account; a slot filter those naming the slot', () => {
    const prefix = equivocator.slice(0, 10)
    const about = (m: MessageInfo, match: (s: string) => boolean): boolean => (m.slots ?? []).some(match) || (m.accounts ?? []).some(match)
    const byAccount = messagesOf(events).filter(e => about(e.msg, s => s.startsWith(prefix)))
    assert.ok(byAccount.length > 0 && byAccount.length < report.messages)
    const chart = renderMermaid(buildChart(events, { account: prefix, max: 0 }))
    assert.deepEqual(countBy(mermaidArrows(chart), t => t), countBy(byAccount, e => e.msg.type))
    assert.match(chart, new RegExp(`left out - ${report.messages - byAccount.length} messages not about account ${prefix}`))
    // deliveries of other accounts go; those of this one stay
    const delivered = events.filter(e => e.ev === 'deliver' && e.slot.startsWith(prefix)).length
    assert.ok(delivered > 0)
    assert.equal((chart.match(/: deliver /g) ?? []).length, delivered)

    // the busiest slot of the equivocating account (its contested one, most likely)
    const slots = countBy(byAccount.flatMap(e => (e.msg.slots ?? []).filter(s => s.startsWith(prefix))), s => s)
    const [slot] = [...slots].sort((a, b) => b[1] - a[1])[0]!
    const [account, seq] = slot.split(':')
    const bySlot = messagesOf(events).filter(e => (e.msg.slots ?? []).includes(slot))
    const slotChart = renderChart(events, 'svg', { slot: `${account!.slice(0, 8)}:${seq!}`, max: 0 })
    assert.deepEqual(countBy(svgArrows(slotChart), t => t), countBy(bySlot, e => e.msg.type))
    assertWellFormedXml(slotChart)
    assert.throws(() => buildChart(events, { slot: 'nope' }), ChartError)
  })

  test('a capped chart draws that many messages and says how many it left out', () => {
    const chart = buildChart(events, { max: 10 })
    assert.equal(chart.items.filter(i => i.kind === 'msg').length, 10)
    assert.ok(chart.omitted.some(o => o.startsWith(`${report.messages - 10} messages after t=`)), chart.omitted.join('; '))
    const windowed = buildChart(events, { from: 1000, to: 2000, max: 0 })
    assert.ok(windowed.items.every(i => i.t >= 1000 && i.t <= 2000))
    assert.ok(windowed.omitted.some(o => / messages outside t=1000\.\.2000 ms$/.test(o)))
  })

  test('titles and labels are escaped: the SVG stays well-formed', () => {
    const svg = renderSvg(buildChart(events, { title: 'a <b> & "c"', max: 30 }))
    assertWellFormedXml(svg)
    assert.ok(svg.includes('a &lt;b&gt; &amp; &quot;c&quot;'))
  })

  test('the output extension picks the format', () => {
    assert.equal(formatOf('x.svg'), 'svg')
    assert.equal(formatOf('x.mmd'), 'mermaid')
    assert.equal(formatOf('README.md'), 'markdown')
    assert.match(renderChart(events, 'markdown', { max: 5 }), /^```mermaid\nsequenceDiagram\n[^]*```\n$/)
    assert.throws(() => formatOf('x.png'), ChartError)
  })

  test('sends pair with receipts across trace files; gossip pairs with every receiver', () => {
    const msg = { type: 'certified', slots: ['aa:1'] }
    const merged: TraceEvent[] = [
      { t: 100, node: 'A', ev: 'send', to: 'B', id: 'x', msg },
      { t: 100, node: 'A', ev: 'send', to: '*', id: 'x', msg },
      { t: 101, node: 'A', ev: 'send', to: 'B', id: 'x', msg }, // a resend of the same bytes
      { t: 105, node: 'B', ev: 'recv', from: 'A', id: 'x', msg },
      { t: 107, node: 'C', ev: 'recv', from: 'A', id: 'x', msg },
      { t: 200, node: 'A', ev: 'send', to: 'C', id: 'y', msg: { type: 'vote' } },
      // another machine's clock runs behind: its receipt pairs with the earliest send
      { t: 300, node: 'D', ev: 'send', to: 'B', id: 'z', msg: { type: 'propose' } },
      { t: 310, node: 'D', ev: 'send', to: 'B', id: 'z', msg: { type: 'propose' } },
      { t: 290, node: 'B', ev: 'recv', from: 'D', id: 'z', msg: { type: 'propose' } }
    ]
    const chart = buildChart(merged)
    const arrows = chart.items.filter(i => i.kind === 'msg')
    assert.deepEqual(arrows.map(a => a.kind === 'msg' && [a.from, a.to, a.t, a.sentAt, a.lost]), [
      ['A', 'B', 0, 0, true], // the first copy never arrived: its resend did
      ['A', 'B', 5, 1, false],
      ['A', 'C', 7, 0, false],
      ['A', 'C', 100, 100, true],
      ['D', 'B', 190, 200, false],
      ['D', 'B', 210, 210, true]
    ])
  })

  test('a trace file stops at its byte cap with a note, and reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bftnode-trace-'))
    try {
      const path = join(dir, 'trace.jsonl')
      const file = new TraceFile(path, 4000)
      const written = events.slice(0, 500)
      for (const e of written) file.write(e)
      file.close()
      const back = parseTrace(readFileSync(path, 'utf8'))
      const last = back.pop()!
      assert.equal(last.ev, 'note')
      assert.match((last as { text: string }).text, /cap of 4000 bytes/)
      assert.deepEqual(back, written.slice(0, back.length))
      assert.ok(statSync(path).size <= 4000 + 200, `${statSync(path).size} bytes`)
      assert.ok(back.length > 5 && back.length < written.length)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
