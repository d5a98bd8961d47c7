// Message sequence charts from traces (src/node/trace.ts): one lifeline per node, an arrow per
// message labelled with its type and slot, local events (deliveries, crashes, checkpoints,
// equivocations) as boxes. Pure: trace events in, SVG or Mermaid text out.

import { BftError } from '../core/errors.js'
import type { MessageInfo, TraceEvent } from '../node/trace.js'
import { renderSvg } from './chart-svg.js'

export class ChartError extends BftError {
  readonly code = 'ERR_CHART'
}

export interface ChartOptions {
  /** Keep the messages and deliveries of one slot: `<account hex prefix>:<seq>`. */
  readonly slot?: string
  /** Keep the messages and deliveries naming an account that starts with this hex prefix. */
  readonly account?: string
  /** Time window, in ms after the trace's first event. */
  readonly from?: number
  readonly to?: number
  /** At most this many messages (0: no cap); the chart says what it left out. */
  readonly max?: number
  readonly title?: string
}

export const DEFAULT_MAX_MESSAGES = 400

export type ChartFormat = 'svg' | 'mermaid' | 'markdown'

/** The format an output file's extension asks for: .svg, .mmd or .md. */
export function formatOf (path: string): ChartFormat {
  if (/\.svg$/i.test(path)) return 'svg'
  if (/\.mmd$/i.test(path)) return 'mermaid'
  if (/\.md$/i.test(path)) return 'markdown'
  throw new ChartError(`cannot tell the chart format from ${JSON.stringify(path)}: name the file .svg, .mmd (Mermaid) or .md (Mermaid in Markdown)`)
}

export interface Lane { readonly id: string, readonly label: string, readonly role?: string }

export interface MessageItem {
  readonly kind: 'msg'
  readonly t: number
  readonly from: string
  readonly to: string
  readonly msg: MessageInfo
  /** When it left (absent: the sender is not in the traces). */
  readonly sentAt?: number
  /** Lost by the network, or never received by a traced node. */
  readonly lost: boolean
}

export type BoxStyle = 'deliver' | 'crash' | 'restart' | 'fault' | 'checkpoint' | 'equivocation' | 'evidence' | 'epoch' | 'note'

export interface BoxItem {
  readonly kind: 'box'
  readonly t: number
  readonly node: string
  readonly style: BoxStyle
  readonly text: string
  /** The slot (full name) a delivery or an equivocation is about. */
  readonly slot?: string
}

export type ChartItem = MessageItem | BoxItem

export interface ChartModel {
  readonly title: string
  readonly lanes: readonly Lane[]
  /** In time order; `t` in ms after the trace's first event. */
  readonly items: readonly ChartItem[]
  /** What the filters and caps left out, in words. */
  readonly omitted: readonly string[]
}

/**
 * `propose a1b2c3:3-4 +1`: the type (`nack conflict` when it proves an equivocation), the first
 * account's slots it names as a seq range, and how many slots of other accounts; or its height or epoch.
 */
export function messageLabel (m: MessageInfo): string {
  const slots = m.slots ?? []
  let what = ''
  if (slots.length > 0) {
    const account = slots[0]!.split(':')[0]!
    const seqs = slots.filter(s => s.startsWith(account + ':')).map(s => Number(s.split(':')[1]))
    const lo = Math.min(...seqs)
    const hi = Math.max(...seqs)
    const others = slots.length - seqs.length
    what = ` ${account.slice(0, 6)}:${lo === hi ? lo : `${lo}-${hi}`}${others > 0 ? ` +${others}` : ''}`
  } else if (m.accounts !== undefined && m.accounts.length > 0) what = ` ${m.accounts[0]!.slice(0, 6)}`
  else if (m.heights !== undefined && m.heights.length > 0 && m.type === 'checkpoint') what = ` h=${m.heights[0]!}`
  else if (m.epoch !== undefined) what = ` e=${m.epoch}`
  return `${m.type}${m.conflict === true ? ' conflict' : ''}${what}`
}

const shortSlot = (slot: string): string => {
  const [account, seq] = slot.split(':')
  return `${(account ?? '').slice(0, 6)}:${seq ?? ''}`
}

function parseSlotFilter (slot: string): { account: string, seq: number } {
  const m = /^([0-9a-f]+):(\d+)$/i.exec(slot)
  if (m === null) throw new ChartError(`--slot takes <account hex prefix>:<seq>, such as a1b2c3:4; got ${JSON.stringify(slot)}`)
  return { account: m[1]!.toLowerCase(), seq: Number(m[2]) }
}

/** Whether a slot name `<account>:<seq>` matches the filters (none: everything does). */
function slotMatcher (opts: ChartOptions): ((slot: string) => boolean) | undefined {
  if (opts.slot !== undefined) {
    const want = parseSlotFilter(opts.slot)
    return slot => {
      const [account, seq] = slot.split(':')
      return Number(seq) === want.seq && (account ?? '').startsWith(want.account)
    }
  }
  if (opts.account !== undefined) {
    const prefix = opts.account.toLowerCase()
    if (!/^[0-9a-f]+$/.test(prefix)) throw new ChartError(`--account takes a hex prefix of an account; got ${JSON.stringify(opts.account)}`)
    return slot => slot.startsWith(prefix)
  }
  return undefined
}

/** Whether a message concerns the filtered slot or account. */
function concerns (m: MessageInfo, match: (slot: string) => boolean, opts: ChartOptions): boolean {
  if ((m.slots ?? []).some(match)) return true
  // a fetch names an account and a seq range: an account filter keeps it
  return opts.slot === undefined && (m.accounts ?? []).some(a => a.startsWith(opts.account!.toLowerCase()))
}

function boxOf (e: TraceEvent, t: number): BoxItem | undefined {
  const box = (style: BoxStyle, text: string, slot?: string): BoxItem => ({ kind: 'box', t, node: e.node, style, text, ...(slot === undefined ? {} : { slot }) })
  switch (e.ev) {
    case 'deliver': return box('deliver', `deliver ${shortSlot(e.slot)}${e.outcome === 'applied' ? '' : ` (${e.outcome})`}`, e.slot)
    case 'equivocation': return box('equivocation', `equivocation ${shortSlot(e.slot)}`, e.slot)
    case 'evidence': return box('evidence', `${e.voter.slice(0, 6)} voted twice`)
    case 'checkpoint': return box('checkpoint', `checkpoint h=${e.height}`)
    case 'epoch': return box('epoch', `epoch ${e.epoch}`)
    case 'behind': return box('note', `behind h=${e.height}`)
    case 'crash': return box('crash', 'CRASH')
    case 'restart': return box('restart', 'restart')
    case 'fault': return box('fault', e.text)
    case 'note': return box('note', e.text)
    default: return undefined
  }
}

/**
 * Pairs sends with receipts (same sender, receiver and message id; see takeSend; gossip to
 * `*` with any receiver), applies the filters and the cap, and lays the events out in time order.
 * A message is drawn when it arrived; one never received (lost, or its receiver not traced) when
 * it left, crossed out.
 */
export function buildChart (events: readonly TraceEvent[], opts: ChartOptions = {}): ChartModel {
  const match = slotMatcher(opts)
  const sorted = [...events].sort((a, b) => a.t - b.t)
  const t0 = sorted[0]?.t ?? 0
  const lanes = new Map<string, Lane>()
  const lane = (id: string, role?: string, label?: string): void => {
    const had = lanes.get(id)
    const r = role ?? had?.role
    lanes.set(id, { id, label: label ?? had?.label ?? (id.length > 12 ? id.slice(0, 8) : id), ...(r === undefined ? {} : { role: r }) })
  }
  const pending = new Map<string, MessageItem[]>()
  const received = new Set<MessageItem>()
  const gossip = new Map<string, { t: number, heard: number }>()
  const items: ChartItem[] = []
  /** Each item's event's place in the trace: ties in time keep the order the events happened in. */
  const order = new Map<ChartItem, number>()
  const add = (item: ChartItem, i: number): void => { items.push(item); order.set(item, i) }
  // every send first, so a receipt stamped before its send (another machine's clock) still pairs
  for (const [i, e] of sorted.entries()) {
    if (e.ev === 'node') { lane(e.node, e.role, e.label); continue }
    if (!lanes.has(e.node)) lane(e.node)
    const t = e.t - t0
    if (e.ev === 'send') {
      if (e.to === '*') { gossip.set(`${e.node}|${e.id}`, { t, heard: 0 }); continue }
      if (!lanes.has(e.to)) lane(e.to)
      const placeholder: MessageItem = { kind: 'msg', t, from: e.node, to: e.to, msg: e.msg, sentAt: t, lost: true }
      const key = `${e.node}|${e.to}|${e.id}`
      pending.set(key, [...(pending.get(key) ?? []), placeholder])
      add(placeholder, i)
    } else if (e.ev === 'lost') {
      if (!lanes.has(e.to)) lane(e.to)
      add({ kind: 'msg', t, from: e.node, to: e.to, msg: e.msg, sentAt: t, lost: true }, i)
    }
  }
  for (const [i, e] of sorted.entries()) {
    const t = e.t - t0
    if (e.ev === 'recv') {
      if (!lanes.has(e.from)) lane(e.from)
      const sent = takeSend(pending, `${e.from}|${e.node}|${e.id}`, t)
      if (sent !== undefined) {
        received.add(sent)
        add({ kind: 'msg', t, from: e.from, to: e.node, msg: e.msg, sentAt: sent.t, lost: false }, i)
        continue
      }
      const g = gossip.get(`${e.from}|${e.id}`)
      if (g !== undefined) g.heard++
      add({ kind: 'msg', t, from: e.from, to: e.node, msg: e.msg, ...(g === undefined ? {} : { sentAt: g.t }), lost: false }, i)
    } else if (e.ev !== 'send' && e.ev !== 'lost' && e.ev !== 'node') {
      const box = boxOf(e, t)
      if (box !== undefined) add(box, i)
    }
  }
  const kept = items.filter(i => i.kind !== 'msg' || !received.has(i)).sort((a, b) => a.t - b.t || order.get(a)! - order.get(b)!)
  return select(kept, [...lanes.values()], opts, match, [...gossip.values()].filter(g => g.heard === 0).length)
}

/**
 * The send a receipt pairs with: of the unreceived sends of the same bytes, the latest that left
 * before it arrived (a resend after a loss is the copy that got through); with none (clocks of
 * two machines disagree), the earliest.
 */
function takeSend (pending: Map<string, MessageItem[]>, key: string, t: number): MessageItem | undefined {
  const queue = pending.get(key)
  if (queue === undefined) return undefined
  let i = queue.length - 1
  while (i > 0 && queue[i]!.t > t) i--
  const [sent] = queue.splice(i, 1)
  if (queue.length === 0) pending.delete(key)
  return sent
}

function select (all: ChartItem[], lanes: Lane[], opts: ChartOptions, match: ((slot: string) => boolean) | undefined, unheardGossip: number): ChartModel {
  const omitted: string[] = []
  let items = all
  if (opts.from !== undefined || opts.to !== undefined) {
    const from = opts.from ?? -Infinity
    const to = opts.to ?? Infinity
    const before = items.filter(i => i.kind === 'msg').length
    items = items.filter(i => i.t >= from && i.t <= to)
    const left = before - items.filter(i => i.kind === 'msg').length
    if (left > 0) omitted.push(`${left} messages outside t=${opts.from ?? 0}..${opts.to ?? 'end'} ms`)
  }
  if (match !== undefined) {
    const before = items.filter(i => i.kind === 'msg').length
    // crashes, restarts, faults and checkpoints stay: they explain what the kept messages do
    items = items.filter(i => i.kind === 'msg' ? concerns(i.msg, match, opts) : i.slot === undefined || match(i.slot))
    const left = before - items.filter(i => i.kind === 'msg').length
    omitted.push(`${left} messages not about ${opts.slot !== undefined ? `slot ${opts.slot}` : `account ${opts.account!}`}`)
  }
  const max = opts.max ?? DEFAULT_MAX_MESSAGES
  const messages = items.filter(i => i.kind === 'msg')
  if (max > 0 && messages.length > max) {
    const last = messages[max - 1]!.t
    const cut = items.indexOf(messages[max]!)
    items = items.slice(0, cut).filter(i => i.kind === 'msg' || i.t <= last)
    omitted.push(`${messages.length - max} messages after t=${last} ms (cap ${max}: use --max, --from/--to or a filter)`)
  }
  if (unheardGossip > 0) omitted.push(`${unheardGossip} gossip publications no traced node received`)
  const title = opts.title ?? 'message sequence chart'
  return { title, lanes: sortLanes(lanes), items, omitted }
}

function sortLanes (lanes: Lane[]): Lane[] {
  // simulator nodes n0, n1, ... in index order; peer ids by name
  const index = (id: string): number => /^n\d+$/.test(id) ? Number(id.slice(1)) : Infinity
  return lanes.sort((a, b) => index(a.id) - index(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/** Mermaid `sequenceDiagram` text: arrows `->>`, lost ones `-x`, local events as notes. */
export function renderMermaid (model: ChartModel): string {
  const id = new Map(model.lanes.map((l, i) => [l.id, `N${i}`]))
  // `:` ends a Mermaid participant or starts a label, `;` and `#` end a line or start an entity:
  // slot names keep their colon as a middle dot
  const clean = (s: string): string => s.replace(/:/g, '·').replace(/[;#\n]/g, ' ').replace(/\s+/g, ' ').trim()
  const out = ['sequenceDiagram', `  title ${clean(model.title)}`]
  for (const l of model.lanes) out.push(`  participant ${id.get(l.id)!} as ${clean(laneTitle(l))}`)
  const first = id.get(model.lanes[0]?.id ?? '')
  const last = id.get(model.lanes[model.lanes.length - 1]?.id ?? '')
  if (first !== undefined && model.omitted.length > 0) out.push(`  Note over ${first},${last}: left out - ${clean(model.omitted.join(', '))}`)
  for (const item of model.items) {
    if (item.kind === 'msg') {
      const label = `${messageLabel(item.msg)} t=${item.t}${item.lost ? ' (lost)' : ''}`
      out.push(`  ${id.get(item.from)!}${item.lost ? '-x' : '->>'}${id.get(item.to)!}: ${clean(label)}`)
    } else {
      out.push(`  Note over ${id.get(item.node)!}: ${clean(item.text)}${item.style === 'crash' ? ' ✖' : ''}`)
    }
  }
  return out.join('\n') + '\n'
}

export function laneTitle (l: Lane): string {
  return l.role === undefined ? l.label : `${l.label} (${l.role})`
}

/** Renders events as the format asks (Markdown: Mermaid in a fenced block). */
export function renderChart (events: readonly TraceEvent[], format: ChartFormat, opts: ChartOptions = {}): string {
  const model = buildChart(events, opts)
  if (format === 'svg') return renderSvg(model)
  const mermaid = renderMermaid(model)
  return format === 'mermaid' ? mermaid : `\`\`\`mermaid\n${mermaid}\`\`\`\n`
}
