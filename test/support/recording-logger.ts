// A logger for tests that keeps every record, at every level, with the module of the child that
// wrote it, so a test can check what a node said and under which module.

import type { Logger } from '../../src/node/log.js'

export interface LogLine { level: string, module?: string, msg: string, fields: Record<string, unknown> }

export function recordingLogger (lines: LogLine[] = [], module?: string): Logger & { lines: LogLine[] } {
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => { lines.push({ level, ...(module === undefined ? {} : { module }), msg, fields }) }
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: m => recordingLogger(lines, m) }
}
