// `bftnode chart <trace.jsonl ...> --out chart.svg`: merges the trace files of one or more nodes
// (written with --trace-file) into one message sequence chart, SVG or Mermaid by the extension
// of --out, optionally narrowed to a slot, an account, a time window or a number of messages.

import { readFile, writeFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { formatOf, renderChart, DEFAULT_MAX_MESSAGES } from '../../devtools/chart.js'
import type { ChartOptions } from '../../devtools/chart.js'
import { parseTrace } from '../../node/trace.js'
import type { TraceEvent } from '../../node/trace.js'
import { say, UsageError } from '../context.js'
import type { CliCommand } from '../context.js'

interface ChartArgs {
  traces: string[]
  out: string
  slot?: string
  account?: string
  from?: number
  to?: number
  max: number
  title?: string
}

export const chartCommand: CliCommand<ChartArgs> = {
  command: 'chart <traces..>',
  describe: 'draw trace files of one or more nodes (--trace-file) as one message sequence chart: SVG, or Mermaid for .mmd/.md',
  positionals: {
    traces: { type: 'string', describe: 'trace files (JSON lines), one per node; their events are merged by time' }
  },
  options: {
    out: { type: 'string', demandOption: true, describe: 'the chart to write: .svg, .mmd (Mermaid) or .md (Mermaid in Markdown)' },
    slot: { type: 'string', describe: 'keep the messages and deliveries of one slot: <account hex prefix>:<seq>' },
    account: { type: 'string', describe: 'keep the messages and deliveries naming an account starting with this hex prefix' },
    from: { type: 'number', describe: 'leave out what happened before this many ms after the first event' },
    to: { type: 'number', describe: 'leave out what happened after this many ms after the first event' },
    max: { type: 'number', default: DEFAULT_MAX_MESSAGES, describe: 'draw at most this many messages (0: all); the chart says what it left out' },
    title: { type: 'string', describe: 'the chart\'s title (default: the files\' names)' }
  },
  examples: [
    ['bftnode chart net/node*/trace.jsonl --out run.svg', 'one chart of every node\'s trace'],
    ['bftnode chart net/node*/trace.jsonl --out run.md --account 3f2a --max 100', 'the first 100 messages about one account, as Mermaid in Markdown']
  ],
  handler: async a => {
    const format = formatOf(a.out)
    for (const n of [a.from, a.to, a.max]) {
      if (n !== undefined && (!Number.isFinite(n) || n < 0)) throw new UsageError('--from, --to and --max take numbers from 0')
    }
    const events: TraceEvent[] = []
    for (const file of a.traces) {
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (err) {
        throw new UsageError(`cannot read trace ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
      const got = parseTrace(text)
      if (got.length === 0) throw new UsageError(`${file} holds no trace events (a node writes them with --trace-file)`)
      events.push(...got)
    }
    const opts: ChartOptions = {
      title: a.title ?? `bftnode chart ${a.traces.map(f => basename(f)).join(' ')}${a.slot !== undefined ? ` --slot ${a.slot}` : a.account !== undefined ? ` --account ${a.account}` : ''}`,
      max: a.max,
      ...(a.slot === undefined ? {} : { slot: a.slot }),
      ...(a.account === undefined ? {} : { account: a.account }),
      ...(a.from === undefined ? {} : { from: a.from }),
      ...(a.to === undefined ? {} : { to: a.to })
    }
    const chart = renderChart(events, format, opts)
    await writeFile(a.out, chart)
    say(`${a.out}: ${format === 'svg' ? 'SVG' : 'Mermaid'} chart of ${events.length} events from ${a.traces.length} trace file${a.traces.length === 1 ? '' : 's'}`)
  }
}
