// `bftnode history <account>`: the ops of an account, newest first, one line each; `bftnode events
// <contract>`: a contract's events, oldest of the last N first, and with --follow the new ones as
// the node delivers them (GET /v1/events) until Ctrl-C. Both read the node's history index, which
// holds what the node delivered since its latest checkpoint (docs/api.md, History).

import type { AccountOpView, ContractEventView } from '../../client/api-client.js'
import { showJson } from '../../client/values.js'
import { api, say, UsageError, wallet } from '../context.js'
import type { CliCommand } from '../context.js'

/** Entries one page of the API holds at most. */
const PAGE = 200
const CONTRACT_HEX = /^[0-9a-f]{64}$/

const short = (hex: string): string => `${hex.slice(0, 8)}…`

/** What the op did, in a few words. */
export function opLine (o: AccountOpView): string {
  const detail = ((): string => {
    switch (o.kind) {
      case 'transfer':
      case 'mint': return `${String(o.amount)} to ${short(String(o.to))}`
      case 'call': return `${short(String(o.contract))} ${String(o.fn)}${o.value === '0' ? '' : ` value ${String(o.value)}`}`
      case 'deploy': return o.address === undefined ? '' : `contract ${String(o.address)}`
      case 'execute': return `${(o.calls as unknown[]).length} call(s)`
      case 'cancel': return `call #${String(o.call)} of ${short(String(o.contract))}`
      case 'rotate-key': return `new key ${short(String(o.to))}`
      case 'rotate-sequencer': return `new sequencer ${short(String(o.to))}`
      case 'set-add':
      case 'set-remove': return JSON.stringify(String(o.element))
      default: return ''
    }
  })()
  const outcome = o.outcome.status === 'applied' ? 'applied' : `rejected (${o.outcome.reason}): ${o.outcome.detail}`
  return `#${o.seq}  ${o.kind.padEnd(8)} ${detail}${detail === '' ? '' : '  '}${outcome}  [${o.index}]`
}

export function eventLine (e: ContractEventView): string {
  const data = e.dataOmitted === true ? '(data too large, not kept)' : showJson(e.data)
  return `${e.name} ${data}  (call ${short(e.call.account)} #${e.call.seq}) [${e.index}:${e.position}]`
}

function checkLimit (n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError('--limit is a whole number from 1')
  return n
}

export const historyCommand: CliCommand<{ account: string, limit: number }> = {
  command: 'history <account>',
  describe: 'the ops of an account this node delivered, newest first (as far back as its history holds)',
  examples: [['bftnode history alice', 'by wallet name'], ['bftnode history 3f1c...e9 --limit 10', 'by key']],
  positionals: { account: { type: 'string', describe: 'wallet name or account key' } },
  options: { limit: { type: 'number', default: 20, describe: 'how many ops' } },
  handler: async (a) => {
    const limit = checkLimit(a.limit)
    const key = await wallet(a).resolve(a.account)
    const client = api(a)
    const hex = Buffer.from(key).toString('hex')
    let shown = 0
    let before: string | undefined
    do {
      const page = await client.accountOps(hex, { limit: Math.min(PAGE, limit - shown), ...(before === undefined ? {} : { before }) })
      for (const o of page.items) say(opLine(o))
      shown += page.items.length
      before = page.next
    } while (before !== undefined && shown < limit)
    if (shown === 0) say(`no ops of ${a.account} in this node's history (it holds what it delivered since its latest checkpoint)`)
  }
}

export const eventsCommand: CliCommand<{ contract: string, name?: string, limit: number, follow: boolean }> = {
  command: 'events <contract>',
  describe: 'the events a contract emitted (the last --limit, oldest first); --follow prints new ones as they come, until Ctrl-C',
  examples: [['bftnode events 3fa1...c0', 'the last 20 events'], ['bftnode events 3fa1...c0 --name transfer --follow', 'transfers, then new ones as they happen']],
  positionals: { contract: { type: 'string', describe: 'contract address (64 hex digits)' } },
  options: {
    name: { type: 'string', describe: 'only events of this name' },
    limit: { type: 'number', default: 20, describe: 'how many past events to print' },
    follow: { type: 'boolean', default: false, describe: 'then wait for new events and print them as the node delivers them' }
  },
  handler: async (a) => {
    if (!CONTRACT_HEX.test(a.contract)) throw new UsageError('the contract address is 64 hex digits')
    const limit = checkLimit(a.limit)
    const client = api(a)
    // the node's delivery height before listing: with nothing listed, following starts after it,
    // so an event delivered between the listing and the subscription is not missed
    const height = a.follow ? Number((await client.status()).delivered) : 0
    const past: ContractEventView[] = []
    let before: string | undefined
    do {
      const page = await client.contractEvents(a.contract, { limit: Math.min(PAGE, limit - past.length), ...(before === undefined ? {} : { before }), ...(a.name === undefined ? {} : { name: a.name }) })
      past.push(...page.items)
      before = page.next
    } while (before !== undefined && past.length < limit)
    for (const e of past.reverse()) say(eventLine(e))
    if (!a.follow) {
      if (past.length === 0) say(`no events of ${a.contract} in this node's history${a.name === undefined ? '' : ` named ${a.name}`}`)
      return
    }
    // resumed after the newest listed, so nothing delivered meanwhile is missed
    const newest = past.at(-1)
    const from = { lastEventId: newest === undefined ? `${height}:999999` : `${newest.index}:${newest.position}` }
    for await (const m of client.subscribe({ contract: a.contract, ...from })) {
      if (m.type === 'event' && (a.name === undefined || m.event.name === a.name)) say(eventLine(m.event))
      if (m.type === 'gap') process.stderr.write(`warning: entries after ${m.after} up to ${m.through} left this node's history before they could be printed; some events may be missing\n`)
    }
    process.stderr.write('the node ended the stream (it stopped)\n')
    process.exitCode = 1
  }
}
