// Logs: one line per event, human-readable by default, JSON with --log-format json. Levels let a
// person follow what the node did without reading a stack trace.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  debug (msg: string, fields?: Record<string, unknown>): void
  info (msg: string, fields?: Record<string, unknown>): void
  warn (msg: string, fields?: Record<string, unknown>): void
  error (msg: string, fields?: Record<string, unknown>): void
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

/** `level` is a level, or a spec like `info,net=debug` (per-module levels are not applied yet). */
export function createLogger (opts: { level: string, format: 'text' | 'json', prefix?: string, write?: (line: string) => void }): Logger {
  const base = (opts.level.split(',').find(part => !part.includes('=')) ?? 'info') as LogLevel
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[level] < ORDER[base]) return
    const time = new Date().toISOString()
    if (opts.format === 'json') {
      write(JSON.stringify({ time, level, msg, ...fields }, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v))
      return
    }
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? x.toString() : x)}`).join(' ')
    write(`${time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${opts.prefix ?? ''}${msg}${extra === '' ? '' : ' ' + extra}`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f)
  }
}

export const silentLogger: Logger = { debug () {}, info () {}, warn () {}, error () {} }
