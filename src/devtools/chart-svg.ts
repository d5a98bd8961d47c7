// The SVG drawing of a chart: self-contained (no fonts, scripts or links), one column per node,
// time running down in rows. An arrow is drawn in the row its message arrived (crossed out when it
// never did); boxes on a lifeline are local events; a crashed node's lifeline is dashed until it restarts.

import type { BoxStyle, ChartModel, MessageItem } from './chart.js'
import { laneTitle, messageLabel } from './chart.js'

const LANE = 190
const MARGIN = 70
const ROW = 28
const TOP = 96
const FONT = 'font-family="ui-monospace,Menlo,Consolas,monospace"'

/** Colour of a message type (unknown types: grey). */
const COLOURS: Record<string, string> = {
  propose: '#1f6feb',
  vote: '#2da44e',
  nack: '#d4670b',
  certified: '#8250df',
  checkpoint: '#0a7d87',
  frontier: '#8c959f',
  fetch: '#6e7781',
  reconfigure: '#9a6700',
  handoff: '#9a6700',
  'handoff-request': '#9a6700',
  malformed: '#cf222e'
}

const OTHER = '#6e7781'
const markerId = (colour: string): string => `head-${colour.slice(1)}`

const BOXES: Record<BoxStyle, { fill: string, stroke: string, text: string }> = {
  deliver: { fill: '#dafbe1', stroke: '#2da44e', text: '#116329' },
  crash: { fill: '#cf222e', stroke: '#82071e', text: '#ffffff' },
  restart: { fill: '#fff8c5', stroke: '#9a6700', text: '#4d2d00' },
  fault: { fill: '#fff1e5', stroke: '#d4670b', text: '#762c00' },
  checkpoint: { fill: '#e0f7f9', stroke: '#0a7d87', text: '#064a50' },
  equivocation: { fill: '#ffebe9', stroke: '#cf222e', text: '#82071e' },
  evidence: { fill: '#ffebe9', stroke: '#cf222e', text: '#82071e' },
  epoch: { fill: '#fbefff', stroke: '#8250df', text: '#3e1f79' },
  note: { fill: '#f6f8fa', stroke: '#8c959f', text: '#24292f' }
}

export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const clip = (s: string, n: number): string => s.length <= n ? s : s.slice(0, n - 1) + '…'

/** Rows: each message takes one; boxes at the same time on different lifelines share one. */
function layout (model: ChartModel): number[] {
  const rows: number[] = []
  let row = -1
  let boxLanes = new Set<string>()
  let lastT = -Infinity
  for (const item of model.items) {
    if (item.kind === 'box' && row >= 0 && boxLanes.size > 0 && !boxLanes.has(item.node) && item.t === lastT) {
      boxLanes.add(item.node)
    } else {
      row++
      boxLanes = item.kind === 'box' ? new Set([item.node]) : new Set()
    }
    lastT = item.t
    rows.push(row)
  }
  return rows
}

export function renderSvg (model: ChartModel): string {
  const x = new Map(model.lanes.map((l, i) => [l.id, MARGIN + LANE / 2 + i * LANE]))
  const rows = layout(model)
  const rowCount = (rows[rows.length - 1] ?? -1) + 1
  const notes = model.omitted.length
  const top = TOP + notes * 16
  const width = Math.max(2 * MARGIN + model.lanes.length * LANE, 640)
  const bottom = top + rowCount * ROW + 30
  const height = bottom + 50
  const y = (row: number): number => top + row * ROW + ROW / 2
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`)
  out.push(`<title>${escapeXml(model.title)}</title>`)
  // one arrowhead per colour: context-stroke is not drawn by every viewer yet
  out.push(`<defs>${[...new Set([...Object.values(COLOURS), OTHER])].map(c => `<marker id="${markerId(c)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`).join('')}</defs>`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${MARGIN / 2}" y="26" font-size="15" font-weight="bold" fill="#24292f">${escapeXml(model.title)}</text>`)
  const counts = model.items.filter(i => i.kind === 'msg').length
  out.push(`<text x="${MARGIN / 2}" y="44" fill="#57606a">${counts} messages, ${model.items.length - counts} local events; time in ms down the left; a crossed-out arrow never arrived</text>`)
  model.omitted.forEach((o, i) => out.push(`<text x="${MARGIN / 2}" y="${60 + i * 16}" fill="#9a6700">left out: ${escapeXml(o)}</text>`))

  // lifelines: solid while up, dashed from a crash to the restart
  const down = new Map<string, number>()
  const segments: string[] = []
  model.items.forEach((item, i) => {
    if (item.kind !== 'box') return
    if (item.style === 'crash' && !down.has(item.node)) down.set(item.node, y(rows[i]!))
    if (item.style === 'restart' && down.has(item.node)) {
      segments.push(`<line class="down" x1="${x.get(item.node)!}" y1="${down.get(item.node)!}" x2="${x.get(item.node)!}" y2="${y(rows[i]!)}" stroke="#ffffff" stroke-width="3"/><line x1="${x.get(item.node)!}" y1="${down.get(item.node)!}" x2="${x.get(item.node)!}" y2="${y(rows[i]!)}" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="2 4"/>`)
      down.delete(item.node)
    }
  })
  for (const [node, from] of down) segments.push(`<line class="down" x1="${x.get(node)!}" y1="${from}" x2="${x.get(node)!}" y2="${bottom}" stroke="#ffffff" stroke-width="3"/><line x1="${x.get(node)!}" y1="${from}" x2="${x.get(node)!}" y2="${bottom}" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="2 4"/>`)
  for (const l of model.lanes) {
    const cx = x.get(l.id)!
    const byz = l.role !== undefined && /byz/i.test(l.role)
    out.push(`<g class="lane"><rect x="${cx - LANE / 2 + 12}" y="${top - 34}" width="${LANE - 24}" height="24" rx="4" fill="${byz ? '#ffebe9' : '#f6f8fa'}" stroke="${byz ? '#cf222e' : '#8c959f'}"/>` +
      `<text x="${cx}" y="${top - 18}" text-anchor="middle" font-weight="bold" fill="#24292f">${escapeXml(clip(laneTitle(l), 26))}</text>` +
      `<line x1="${cx}" y1="${top - 10}" x2="${cx}" y2="${bottom}" stroke="#afb8c1" stroke-width="1.5"/></g>`)
  }
  out.push(...segments)

  let lastTime = ''
  model.items.forEach((item, i) => {
    const cy = y(rows[i]!)
    const time = String(item.t)
    if (time !== lastTime) out.push(`<text x="8" y="${cy + 4}" fill="#8c959f">${time}</text>`)
    lastTime = time
    if (item.kind === 'msg') out.push(arrow(item, x.get(item.from)!, x.get(item.to)!, cy))
    else {
      const st = BOXES[item.style]
      const text = clip(item.text, 24)
      const w = Math.min(LANE - 16, text.length * 6.8 + 12)
      const cx = x.get(item.node)!
      out.push(`<g class="event ${item.style}"><rect x="${cx - w / 2}" y="${cy - 9}" width="${w}" height="18" rx="${item.style === 'crash' ? 0 : 4}" fill="${st.fill}" stroke="${st.stroke}"/>` +
        `<text x="${cx}" y="${cy + 4}" text-anchor="middle" fill="${st.text}"${item.style === 'crash' ? ' font-weight="bold"' : ''}>${escapeXml(text)}</text></g>`)
    }
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function arrow (m: MessageItem, x1: number, x2: number, cy: number): string {
  const colour = COLOURS[m.msg.type] ?? OTHER
  const dir = x2 >= x1 ? 1 : -1
  const end = m.lost ? x1 + (x2 - x1) * 0.75 : x2 - dir * 2
  const label = messageLabel(m.msg)
  const delay = m.sentAt === undefined || m.lost ? '' : `  (${m.t - m.sentAt} ms)`
  const tx = x1 + dir * 8
  const parts = [`<g class="msg ${escapeXml(m.msg.type)}${m.lost ? ' lost' : ''}">`]
  parts.push(`<line x1="${x1}" y1="${cy}" x2="${end}" y2="${cy}" stroke="${colour}" stroke-width="1.5"${m.lost ? ' stroke-dasharray="5 3"' : ` marker-end="url(#${markerId(colour)})"`}/>`)
  if (m.lost) parts.push(`<path d="M${end - 5},${cy - 5} L${end + 5},${cy + 5} M${end - 5},${cy + 5} L${end + 5},${cy - 5}" stroke="#cf222e" stroke-width="2"/>`)
  parts.push(`<text x="${tx}" y="${cy - 4}" text-anchor="${dir > 0 ? 'start' : 'end'}" fill="${colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(label + delay)}</text>`)
  parts.push('</g>')
  return parts.join('')
}
