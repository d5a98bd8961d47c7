// The bftnode dashboard: polls GET /v1/dashboard every second and draws what it says. Plain
// browser JavaScript with no build step and no outside requests (the node's CSP allows none).
// Text from the node only ever goes in through textContent, never as HTML.
/* global document, fetch, sessionStorage, location, Intl */

const POLL_MS = 1000
const HISTORY_MS = 120_000
const RETRY_MS = [1000, 2000, 5000, 10_000]
const TOKEN_KEY = 'bftnode.apiToken'
const SVG = 'http://www.w3.org/2000/svg'

const $ = id => document.getElementById(id)
const number = new Intl.NumberFormat('en')

/** Samples of the delivered count and latency, one per successful poll, for the charts. */
let history = []
let failures = 0
let timer

class TokenNeeded extends Error {}

/** A GET to the node's API with the token, if any; a 401 asks for the token once. */
async function api (path) {
  const token = sessionStorage.getItem(TOKEN_KEY)
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' })
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY)
    askForToken(token !== null)
    throw new TokenNeeded('the API needs a token')
  }
  const body = await res.json().catch(() => undefined)
  if (!res.ok) {
    const err = new Error(body?.error?.message ?? `HTTP ${res.status}`)
    err.status = res.status
    throw err
  }
  return body
}

function askForToken (wasWrong) {
  const form = $('token-form')
  form.querySelector('p').textContent = wasWrong
    ? 'The node refused that token. Enter the API token again.'
    : 'This node\'s API needs a token (apiToken in its config).'
  form.hidden = false
  setConnection('down', 'token needed')
  $('token').focus()
}

$('token-form').addEventListener('submit', event => {
  event.preventDefault()
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim())
  $('token').value = ''
  $('token-form').hidden = true
  poll()
})

$('retry').addEventListener('click', () => poll())

async function poll () {
  clearTimeout(timer)
  let view
  try {
    view = await api('/v1/dashboard')
  } catch (err) {
    if (err instanceof TokenNeeded) return // polling resumes once a token is given
    failures++
    const wait = RETRY_MS[Math.min(failures - 1, RETRY_MS.length - 1)]
    showUnreachable(err, wait)
    timer = setTimeout(poll, wait)
    return
  }
  failures = 0
  $('banner').hidden = true
  document.querySelector('main').classList.remove('stale')
  setConnection('live', 'live')
  record(view)
  render(view)
  timer = setTimeout(poll, POLL_MS)
}

function showUnreachable (err, wait) {
  const why = err.status === undefined ? 'no answer' : err.message
  $('banner-text').textContent = `Cannot reach the node at ${location.origin} (${why}). Retrying in ${Math.round(wait / 1000)} s; the figures below are from the last answer.`
  $('banner').hidden = false
  document.querySelector('main').classList.add('stale')
  setConnection('down', 'unreachable')
}

function setConnection (state, text) {
  const el = $('conn')
  el.dataset.state = state
  el.textContent = text
}

function record (view) {
  const last = history[history.length - 1]
  // a restarted node counts from zero again: start the charts afresh
  if (last !== undefined && view.counters.delivered < last.delivered) history = []
  history.push({ time: view.time, delivered: view.counters.delivered, p50: view.latency.p50, p99: view.latency.p99 })
  while (history.length > 2 && history[0].time < view.time - HISTORY_MS) history.shift()
}

/** Delivered ops per second between consecutive samples. */
function rates () {
  const out = []
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1]
    const b = history[i]
    const secs = (b.time - a.time) / 1000
    if (secs > 0) out.push({ time: b.time, value: (b.delivered - a.delivered) / secs })
  }
  return out
}

/** Delivered ops per second over about the last `ms` (null: too few samples yet). */
function recentRate (ms) {
  const last = history[history.length - 1]
  if (last === undefined) return null
  let from = history[0]
  for (const h of history) if (h.time <= last.time - ms) from = h
  return last.time > from.time ? (last.delivered - from.delivered) * 1000 / (last.time - from.time) : null
}

// ---------------------------------------------------------------------------------------------
// Rendering

function render (view) {
  const n = view.node
  document.title = `bftnode ${n.network} · ${short(n.id)}`
  $('network').textContent = `network ${n.network} (${short(n.networkId)})`
  $('role').textContent = n.role === 'validator' ? 'validator' : 'observer'
  $('node-id').textContent = short(n.id)
  $('node-id').title = n.id

  const c = view.counters
  $('delivered').textContent = number.format(c.delivered)
  $('delivered-split').textContent = `applied ${number.format(c.applied)} · rejected ${number.format(c.rejected)} · accepted here ${number.format(c.accepted)} · refused ${number.format(c.refused)}`
  const r = rates()
  const now = recentRate(5000)
  $('throughput-now').textContent = now === null ? '–' : formatRate(now)
  $('throughput-peak').textContent = r.length === 0 ? '' : `peak ${formatRate(Math.max(...r.map(x => x.value)))} ops/s in 2 min`
  $('latency-p50').textContent = formatMs(view.latency.p50)
  $('latency-p99').textContent = formatMs(view.latency.p99)
  $('latency-count').textContent = `${number.format(view.latency.count)} ops delivered in the last minute of those submitted here`

  const up = view.validators.filter(v => v.connected).length
  // a validator that does not vote counts itself as connected, but its vote certifies nothing
  const votes = up - (n.role === 'validator' && !n.voting ? 1 : 0)
  $('validators-summary').textContent = `${up} / ${view.validators.length}`
  $('quorum').textContent = `connected (this node included); quorum ${view.quorum}${votes < view.quorum ? ': BELOW QUORUM' : ''}`
  $('uptime').textContent = formatDuration(n.uptimeMs)
  $('voting').textContent = n.role !== 'validator' ? 'follows without voting' : n.voting ? 'voting' : `not voting: ${n.notVoting ?? ''}`

  renderValidators(view)
  drawChart($('throughput-chart'), [{ points: r, cls: 'line' }], { area: true, label: 'Delivered ops per second over the last two minutes', unit: 'ops/s' })
  const lat = history.filter(h => h.p50 !== null)
  drawChart($('latency-chart'), [
    { points: lat.map(h => ({ time: h.time, value: h.p50 })), cls: 'line' },
    { points: lat.map(h => ({ time: h.time, value: h.p99 })), cls: 'line p99' }
  ], { label: 'Submit-to-delivered latency p50 and p99 over the last two minutes', unit: 'ms' })
  renderQueues(view.queues)
  renderCheckpoint(view.checkpoint)
  renderRejections(view.rejections, view.time)
  $('updated').textContent = `last update ${new Date(view.time).toLocaleTimeString()}`
}

function renderValidators (view) {
  const rows = view.validators.map((v, i) => {
    const state = v.self ? 'this node' : v.connected ? 'connected' : 'not connected'
    const tr = el('tr', { 'data-connected': String(v.connected), 'data-self': String(v.self) },
      el('td', { class: 'hide-narrow' }, String(i + 1)),
      el('td', { class: 'id mono', title: v.id }, short(v.id, 10), v.self ? el('span', { class: 'tag hide-narrow' }, 'you') : ''),
      el('td', { class: `state ${v.connected ? 'ok' : 'bad'}` }, (v.connected ? '● ' : '○ ') + state),
      el('td', {}, v.self ? '–' : v.lastHeardMs === null ? 'never' : `${formatAgo(v.lastHeardMs)}`))
    return tr
  })
  $('validators').tBodies[0].replaceChildren(...rows)
  const up = view.validators.filter(v => v.connected).length
  $('validators-caption').textContent = `Validators of epoch ${view.epoch ?? 0}: ${up} of ${view.validators.length} connected (quorum ${view.quorum})`
  $('observers').textContent = view.observers.length === 0
    ? 'No other peers (observers) connected.'
    : `Other peers connected: ${view.observers.map(o => short(o.id)).join(', ')}`
}

function renderQueues (q) {
  kv($('queues'), [
    ['Queued for a batch', number.format(q.queued), bar(q.queued, q.maxPendingOps)],
    ['Oldest queued op has waited', formatMs(q.queueWaitMs), bar(q.queueWaitMs, q.maxQueueDelayMs)],
    ['Ops on their way (queued or in batches)', `${number.format(q.heldOps)} of ${number.format(q.maxPendingOps)}`, bar(q.heldOps, q.maxPendingOps)],
    ['Batches waiting for votes', number.format(q.pendingBatches)],
    ['Certified, waiting for dependencies', number.format(q.buffered)]
  ])
}

function renderCheckpoint (cp) {
  kv($('checkpoint'), [
    ['Height', number.format(cp.height)],
    ['Certified', cp.height === 0 ? 'none yet' : cp.ageMs === null ? 'before this node started' : `${formatAgo(cp.ageMs)}`],
    ['Ops delivered since', number.format(cp.sinceCheckpoint)],
    ['State root', cp.root === null ? '–' : short(cp.root, 16)]
  ])
}

function renderRejections (list, now) {
  const rows = list.map(r => el('tr', {},
    el('td', { 'data-label': 'When' }, formatAgo(now - r.at)),
    el('td', { 'data-label': 'Where' }, { submit: 'refused by this node', delivery: 'ledger, at delivery', dropped: 'dropped (equivocation)' }[r.stage] ?? r.stage),
    el('td', { 'data-label': 'Reason', class: 'mono' }, r.reason),
    el('td', { 'data-label': 'Op', class: 'mono', title: r.hash ?? '' }, r.account === undefined ? '–' : `${r.kind ?? 'op'} ${short(r.account)}#${r.seq}`),
    el('td', { 'data-label': 'Detail', class: 'detail' }, r.detail)))
  $('rejections').tBodies[0].replaceChildren(...rows)
  $('rejections').hidden = rows.length === 0
  $('rejections-empty').hidden = rows.length !== 0
}

function kv (table, entries) {
  table.tBodies[0].replaceChildren(...entries.map(([k, v, extra]) =>
    el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, v, extra ?? ''))))
}

function bar (value, limit) {
  const share = limit > 0 ? Math.min(1, value / limit) : 0
  const span = el('span')
  span.style.width = `${(share * 100).toFixed(1)}%`
  return el('div', { class: share > 0.75 ? 'bar high' : 'bar', role: 'presentation' }, span)
}

/** A line chart in SVG: time on x (the last two minutes), value on y from 0 to a round maximum. */
function drawChart (box, series, opts) {
  // drawn at the box's own width, so the labels keep their size on a phone
  const w = Math.max(240, Math.round(box.clientWidth || 600))
  const h = 200
  const pad = { l: 44, r: 10, t: 10, b: 22 }
  const end = history.length === 0 ? 0 : history[history.length - 1].time
  const start = end - HISTORY_MS
  const max = niceMax(Math.max(0, ...series.flatMap(s => s.points.map(p => p.value))))
  const x = t => pad.l + (w - pad.l - pad.r) * (t - start) / HISTORY_MS
  const y = v => h - pad.b - (h - pad.t - pad.b) * v / max
  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img' })
  const latest = series[0].points[series[0].points.length - 1]
  const said = series.map(s => s.points.length === 0 ? 'no data' : formatRate(s.points[s.points.length - 1].value)).join(' and ')
  svg.setAttribute('aria-label', `${opts.label}: now ${latest === undefined ? 'no data' : said} ${opts.unit}, scale up to ${max}`)
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4
    svg.append(svgEl('line', { class: 'grid', x1: pad.l, x2: w - pad.r, y1: y(v), y2: y(v) }))
    svg.append(svgEl('text', { class: 'axis', x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, formatRate(v)))
  }
  for (const s of [120, 90, 60, 30, 0]) {
    svg.append(svgEl('text', { class: 'axis', x: x(end - s * 1000), y: h - 6, 'text-anchor': s === 120 ? 'start' : s === 0 ? 'end' : 'middle' }, s === 0 ? 'now' : `-${s}s`))
  }
  for (const s of series) {
    const pts = s.points.filter(p => p.time >= start)
    if (pts.length === 0) continue
    const line = pts.map(p => `${x(p.time).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')
    if (opts.area === true) {
      svg.append(svgEl('polygon', { class: 'area', points: `${x(pts[0].time).toFixed(1)},${y(0)} ${line} ${x(pts[pts.length - 1].time).toFixed(1)},${y(0)}` }))
    }
    svg.append(svgEl('polyline', { class: s.cls, points: line }))
  }
  box.replaceChildren(svg)
}

function niceMax (v) {
  if (v <= 0) return 1
  const step = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * step) return m * step
  return 10 * step
}

// ---------------------------------------------------------------------------------------------
// Look-ups: GET /v1/accounts/:id and /v1/contracts/:addr

function lookup (formId, inputId, resultId, path, show) {
  $(formId).addEventListener('submit', async event => {
    event.preventDefault()
    const out = $(resultId)
    const key = $(inputId).value.trim().toLowerCase().replace(/^0x/, '')
    if (!/^[0-9a-f]{64}$/.test(key)) {
      out.replaceChildren(el('p', { class: 'error' }, 'Enter 64 hex digits (an optional 0x is fine).'))
      return
    }
    out.replaceChildren(el('p', { class: 'small' }, 'looking up…'))
    try {
      out.replaceChildren(show(await api(`${path}/${key}`)))
    } catch (err) {
      out.replaceChildren(el('p', { class: 'error' }, err instanceof TokenNeeded ? 'Enter the API token above, then try again.' : err.status === undefined ? 'The node did not answer.' : err.message))
    }
  })
}

lookup('account-form', 'account-input', 'account-result', '/v1/accounts', a => {
  const t = el('table', { class: 'kv' })
  t.append(el('caption', { class: 'visually-hidden' }, 'Account'), el('tbody'))
  kv(t, [
    ['Balance (spendable)', a.balance],
    ['Pending credits (not yet cited)', `${a.pending} in ${a.credits.length} credit(s)`],
    ['Ops sent (seq)', number.format(a.nextSeq - 1)],
    ['Next seq', String(a.nextSeq)],
    ['Is a contract', a.contract ? 'yes' : 'no']
  ])
  return t
})

lookup('contract-form', 'contract-input', 'contract-result', '/v1/contracts', c => {
  const t = el('table', { class: 'kv' })
  t.append(el('caption', { class: 'visually-hidden' }, 'Contract'), el('tbody'))
  kv(t, [
    ['Balance', c.balance],
    ['Sequencer', short(c.sequencer, 16)],
    ['Deployed by', `${short(c.deployedAt.account)}#${c.deployedAt.seq}`],
    ['Calls queued', number.format(c.queued)],
    ['Executes', number.format(c.executes)],
    ['Functions', (c.functions ?? []).map(f => `${f.name}(${f.params.join(' ')})`).join(', ') || 'none']
  ])
  // one entry a line, key and value in the API's JSON forms ({"int": "5"}, {"bytes": "ab.."})
  const storage = (c.storage ?? []).map(e => `${JSON.stringify(e.key)}: ${JSON.stringify(e.value)}`).join('\n') || '(empty)'
  return el('div', {}, t, el('p', { class: 'small' }, 'Storage'), el('pre', {}, storage.length > 20_000 ? storage.slice(0, 20_000) + '\n…' : storage))
})

// ---------------------------------------------------------------------------------------------
// Small helpers

function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  node.append(...children)
  return node
}

function svgEl (tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

function short (hex, n = 8) {
  return typeof hex === 'string' && hex.length > n + 4 ? `${hex.slice(0, n)}…${hex.slice(-4)}` : String(hex)
}

function formatRate (v) {
  return v >= 100 ? number.format(Math.round(v)) : v >= 10 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(2).replace(/\.?0+$/, '')
}

function formatMs (ms) {
  if (ms === null || ms === undefined) return '–'
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}

function formatAgo (ms) {
  return ms < 1500 ? 'just now' : `${formatDuration(ms)} ago`
}

function formatDuration (ms) {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`
  return `${Math.floor(s / 86_400)} d ${Math.floor(s % 86_400 / 3600)} h`
}

poll()
