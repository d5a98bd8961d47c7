// Logs: pino records, each with the module that wrote it (node, net, store, ...), levels per
// module (`warn,net=debug`), one readable line per record or JSON lines, and optionally JSON lines
// appended to a file as well. Call sites see only the small Logger interface.

import { mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { pino } from 'pino'
import type { DestinationStream, Logger as Pino, StreamEntry } from 'pino'
import { BftError } from '../core/errors.js'

/** pino's file stream (sonic-boom, which pino depends on; we do not). */
type FileStream = ReturnType<typeof pino.destination>

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/**
 * The modules the node logs under, for per-module levels (docs/running.md lists them). A level
 * for a name not here is kept (bench scripts log under their own), but the logger says so.
 */
export const LOG_MODULES = {
  node: 'start, restore, peers, dropped ops, the node\'s own decisions',
  net: 'libp2p: connections, dials, peers cut off, frames refused',
  store: 'LevelDB: slow writes',
  checkpoint: 'certified checkpoints, pruning, snapshots installed',
  join: 'joining from a snapshot: offers, chunks, peers that lied',
  status: 'the periodic status line and the warnings about peers, quorum and load',
  api: 'the local HTTP API'
} as const

export type LogFields = Record<string, unknown>

export interface Logger {
  debug (msg: string, fields?: LogFields): void
  info (msg: string, fields?: LogFields): void
  warn (msg: string, fields?: LogFields): void
  error (msg: string, fields?: LogFields): void
  /** A logger whose records carry `module` and obey that module's level. */
  child (module: string): Logger
}

/** The logger a process creates once: it owns the log file. */
export interface RootLogger extends Logger {
  /** Writes out what is buffered for the log file and closes it. Records after this are not filed. */
  close (): Promise<void>
}

/** A log level spec that does not parse, or a log file that cannot be opened. */
export class LogConfigError extends BftError {
  readonly code = 'ERR_LOG_CONFIG'
}

export interface LevelSpec {
  readonly base: LogLevel
  readonly modules: ReadonlyMap<string, LogLevel>
}

/** `info`, `info,net=debug`, `net=debug` (the rest at info), `warn,net=debug,store=info`. */
export function parseLevelSpec (spec: string): LevelSpec {
  let base: LogLevel = 'info'
  const modules = new Map<string, LogLevel>()
  for (const part of spec.split(',').map(p => p.trim())) {
    const [name, level] = part.includes('=') ? part.split('=', 2) as [string, string] : [undefined, part]
    if (!LOG_LEVELS.includes(level as LogLevel)) throw new LogConfigError(`log level "${spec}": "${level}" is not one of ${LOG_LEVELS.join(', ')} (e.g. info,net=debug)`)
    if (name === undefined) base = level as LogLevel
    else if (/^[a-z][a-z0-9-]*$/.test(name)) modules.set(name, level as LogLevel)
    else throw new LogConfigError(`log level "${spec}": "${name}" is not a module name`)
  }
  return { base, modules }
}

export interface LoggerOptions {
  /** A level spec (see parseLevelSpec). */
  readonly level: string
  readonly format: 'text' | 'json'
  /** Also append every record, as a JSON line, to this file. */
  readonly file?: string
  /** Where records go; standard error by default. */
  readonly destination?: DestinationStream
  /** Colour the level in text lines (default: when standard error is a terminal and NO_COLOR is unset). */
  readonly color?: boolean
}

/** Field names pino writes itself: a field of the same name is renamed rather than duplicated. */
const RESERVED = new Set(['time', 'level', 'msg', 'module'])

export function createLogger (opts: LoggerOptions): RootLogger {
  const spec = parseLevelSpec(opts.level)
  const out = opts.destination ?? { write: (s: string) => process.stderr.write(s) }
  const color = opts.color ?? (opts.destination === undefined && process.stderr.isTTY && process.env.NO_COLOR === undefined)
  const streams: StreamEntry[] = [{ level: 'debug', stream: opts.format === 'json' ? out : textLines(out, color) }]
  // pino writes out a file stream's buffer at exit, so process.exit loses no record
  const file = opts.file === undefined ? undefined : openLogFile(opts.file)
  let filing = file !== undefined
  // a full disk must not stop the node: say it once on standard error and go on without the file
  file?.once('error', err => {
    filing = false
    process.stderr.write(`log file ${opts.file!}: ${err.message}; records are no longer filed\n`)
    file.destroy()
  })
  // records after close go to the screen only (a closed file stream throws on write)
  if (file !== undefined) streams.push({ level: 'debug', stream: { write: (line: string) => { if (filing) file.write(line) } } })
  const root = pino({
    level: spec.base,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: label => ({ level: label }),
      log: fields => plainFields(fields)
    }
  }, pino.multistream(streams))
  const levelOf = (module: string): LogLevel => spec.modules.get(module) ?? spec.base
  const logger = wrap(root, module => root.child({ module }, { level: levelOf(module) }))
  for (const name of spec.modules.keys()) {
    if (!(name in LOG_MODULES)) logger.warn('a log level names a module the node does not log under', { name, modules: Object.keys(LOG_MODULES).join(',') })
  }
  return {
    ...logger,
    close: async () => {
      if (file === undefined || !filing) return
      filing = false
      await new Promise<void>(resolve => {
        file.once('close', () => resolve())
        file.once('error', () => resolve())
        file.end()
      })
    }
  }
}

function wrap (p: Pino, child: (module: string) => Pino): Logger {
  const at = (level: LogLevel) => (msg: string, fields?: LogFields): void => {
    if (fields === undefined) p[level](msg)
    else p[level](fields, msg)
  }
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    // from the root, so a child of a child has one module field, not two
    child: module => wrap(child(module), child)
  }
}

/** Opened here, synchronously, so a path that cannot be written fails at start with its name. */
function openLogFile (path: string): FileStream {
  let fd: number
  try {
    mkdirSync(dirname(path), { recursive: true })
    fd = openSync(path, 'a')
  } catch (err) {
    throw new LogConfigError(`cannot open the log file ${path}: ${(err as Error).message}`)
  }
  return pino.destination({ fd, sync: false })
}

/** Values as JSON has them: bigints and byte arrays as strings, errors as their message. */
function plain (v: unknown, depth = 0): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
  if (v instanceof Error) return v.message
  if (v === null || typeof v !== 'object' || depth > 4) return v
  if (Array.isArray(v)) return v.map(x => plain(x, depth + 1))
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x, depth + 1)]))
}

function plainFields (fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [RESERVED.has(k) ? `${k}_` : k, plain(v)]))
}

// -------------------------------------------------------------------------------------------
// Text lines

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const COLORS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m' }

/** pino writes JSON; a person reads `Mar-01 12:00:00.123 WARN  [net] msg key=value ...`. */
function textLines (out: DestinationStream, color: boolean): DestinationStream {
  return { write: (json: string) => out.write(formatText(JSON.parse(json) as LogFields, color) + '\n') }
}

/** One record (as pino wrote it) as one line of text, in local time. */
export function formatText (record: LogFields, color = false): string {
  const { time, level, module, msg, ...fields } = record
  const t = new Date(String(time))
  const p2 = (n: number): string => String(n).padStart(2, '0')
  const stamp = `${MONTHS[t.getMonth()]!}-${p2(t.getDate())} ${p2(t.getHours())}:${p2(t.getMinutes())}:${p2(t.getSeconds())}.${String(t.getMilliseconds()).padStart(3, '0')}`
  const label = String(level).toUpperCase().padEnd(5)
  const shown = color ? `${COLORS[String(level)] ?? ''}${label}\x1b[0m` : label
  const extra = Object.entries(fields).map(([k, v]) => `${k}=${textValue(v)}`).join(' ')
  return `${stamp} ${shown} ${module === undefined ? '' : `[${String(module)}] `}${oneLine(String(msg))}${extra === '' ? '' : ' ' + extra}`
}

/**
 * Line breaks and control characters escaped as in JSON: a message may quote what a peer sent,
 * and must not forge a record of its own or send escape sequences to a terminal.
 */
export function oneLine (s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  return s.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, c => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function textValue (v: unknown): string {
  // eslint-disable-next-line no-control-regex -- a value with control characters is quoted, escaped
  if (typeof v === 'string') return /^[^\s"=\x00-\x1f\x7f]+$/.test(v) ? v : JSON.stringify(v)
  return JSON.stringify(v)
}

export const silentLogger: Logger = { debug () {}, info () {}, warn () {}, error () {}, child: () => silentLogger }
