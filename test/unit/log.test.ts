// The node's logger: levels per module, JSON and text lines, values JSON cannot hold, the log
// file (read back, also after process.exit), and the throttle that keeps repeated records short.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LogConfigError, createLogger, formatText, parseLevelSpec } from '../../src/node/log.js'
import type { LoggerOptions } from '../../src/node/log.js'
import { LogThrottle } from '../../src/node/log-throttle.js'

const LOG_MODULE = fileURLToPath(new URL('../../src/node/log.js', import.meta.url))

function capture (opts: Omit<LoggerOptions, 'destination'>): { lines: string[], log: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  const log = createLogger({ ...opts, destination: { write: (s: string) => { lines.push(...s.split('\n').filter(l => l !== '')) } } })
  return { lines, log }
}

const records = (lines: string[]): Array<Record<string, unknown>> => lines.map(l => JSON.parse(l) as Record<string, unknown>)

async function tempDir (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'bftnode-log-'))
}

describe('log levels', () => {
  test('a spec sets a base level and levels per module', () => {
    assert.deepEqual(parseLevelSpec('warn'), { base: 'warn', modules: new Map() })
    assert.deepEqual(parseLevelSpec('warn,net=debug,store=info'), { base: 'warn', modules: new Map([['net', 'debug'], ['store', 'info']]) })
    assert.deepEqual(parseLevelSpec('net=debug'), { base: 'info', modules: new Map([['net', 'debug']]) })
    assert.throws(() => parseLevelSpec('loud'), LogConfigError)
    assert.throws(() => parseLevelSpec('info,net=verbose'), /"verbose" is not one of debug, info, warn, error/)
    assert.throws(() => parseLevelSpec('info,Net!=debug'), /not a module name/)
  })

  test('each module logs at its own level; one without a level of its own uses the base level', () => {
    const { lines, log } = capture({ level: 'warn,net=debug,store=error', format: 'json' })
    const net = log.child('net')
    const store = log.child('store')
    const node = log.child('node')
    log.info('root info'); log.warn('root warn')
    net.debug('net debug')
    store.warn('store warn'); store.error('store error')
    node.info('node info'); node.warn('node warn')
    assert.deepEqual(records(lines).map(r => [r.module ?? '-', r.level, r.msg]), [
      ['-', 'warn', 'root warn'],
      ['net', 'debug', 'net debug'],
      ['store', 'error', 'store error'],
      ['node', 'warn', 'node warn']
    ])
  })

  test('a child of a child carries one module field, the last, with that module\'s level', () => {
    const { lines, log } = capture({ level: 'info,join=debug', format: 'json' })
    log.child('node').child('join').debug('asking peers')
    assert.equal(lines.length, 1)
    assert.equal(lines[0]!.match(/"module"/g)?.length, 1)
    assert.equal(records(lines)[0]!.module, 'join')
  })

  test('a level for a module the node does not log under is kept, and the logger says so', () => {
    const { lines, log } = capture({ level: 'info,nett=debug', format: 'json' })
    assert.match(String(records(lines)[0]!.msg), /names a module the node does not log under/)
    assert.equal(records(lines)[0]!.name, 'nett')
    log.child('nett').debug('kept')
    assert.equal(records(lines).at(-1)!.msg, 'kept')
  })
})

describe('log formats', () => {
  test('json: one object per line with time, level, module, msg and the fields; bigints and bytes as strings', () => {
    const { lines, log } = capture({ level: 'info', format: 'json' })
    log.child('node').info('delivered', { amount: 123456789012345678901234567890n, nested: { fee: 5n, list: [1n, 'x'] }, key: new Uint8Array([0xab, 0xcd]), error: new Error('boom') })
    assert.equal(lines.length, 1)
    const r = JSON.parse(lines[0]!) as Record<string, unknown>
    assert.equal(r.level, 'info')
    assert.equal(r.module, 'node')
    assert.equal(r.msg, 'delivered')
    assert.ok(!Number.isNaN(Date.parse(String(r.time))) && String(r.time).endsWith('Z'), String(r.time))
    assert.equal(r.amount, '123456789012345678901234567890')
    assert.deepEqual(r.nested, { fee: '5', list: ['1', 'x'] })
    assert.equal(r.key, 'abcd')
    assert.equal(r.error, 'boom')
    assert.equal(r.pid, undefined)
  })

  test('json: a field named like one of the record\'s own keys is renamed, not duplicated', () => {
    const { lines, log } = capture({ level: 'info', format: 'json' })
    log.child('net').info('odd fields', { level: 'mine', msg: 'mine', module: 'mine' })
    for (const key of ['level', 'msg', 'module']) assert.equal(lines[0]!.match(new RegExp(`"${key}"`, 'g'))?.length, 1, lines[0])
    const r = records(lines)[0]!
    assert.equal(r.level, 'info')
    assert.equal(r.level_, 'mine')
    assert.equal(r.module, 'net')
  })

  test('text: one line with time, level, module, message and key=value fields', () => {
    const { lines, log } = capture({ level: 'debug', format: 'text' })
    log.child('net').warn('peer cut off', { peer: 'ab12cd', amount: 10n ** 30n, why: 'too many frames', n: 3, list: [1, 2] })
    log.info('no module')
    assert.equal(lines.length, 2)
    assert.match(lines[0]!, /^[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d\.\d{3} WARN {2}\[net\] peer cut off peer=ab12cd amount=1000000000000000000000000000000 why="too many frames" n=3 list=\[1,2\]$/)
    assert.match(lines[1]!, /^[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}no module$/)
    assert.ok(!lines.join('').includes('\x1b'), 'no colour unless asked')
  })

  test('text: the time is the record\'s, in local time', () => {
    const at = new Date(2025, 2, 1, 12, 3, 4, 56)
    assert.equal(formatText({ time: at.toISOString(), level: 'error', module: 'store', msg: 'x' }), 'Mar-01 12:03:04.056 ERROR [store] x')
    assert.ok(formatText({ time: at.toISOString(), level: 'warn', msg: 'x' }, true).endsWith('\x1b[33mWARN \x1b[0m x'))
  })

  test('text: a message with line breaks or control characters stays one line, escaped', () => {
    const line = formatText({ time: new Date(2025, 2, 1).toISOString(), level: 'warn', module: 'status', msg: 'from a peer: "a\nMar-01 00:00:00.000 ERROR forged\r\x1b[2J\u2028b"' })
    assert.equal(line, 'Mar-01 00:00:00.000 WARN  [status] from a peer: "a\\nMar-01 00:00:00.000 ERROR forged\\r\\u001b[2J\\u2028b"')
    assert.equal(formatText({ time: new Date(2025, 2, 1).toISOString(), level: 'debug', msg: 'x', error: 'no\x1b[2Jspace' }), 'Mar-01 00:00:00.000 DEBUG x error="no\\u001b[2Jspace"')
  })
})

describe('log file', () => {
  test('every record is appended to the file as a JSON line, whatever the format on screen', async () => {
    const dir = await tempDir()
    try {
      const path = join(dir, 'sub', 'node.log')
      await writeFile(join(dir, 'placeholder'), '')
      const { lines, log } = capture({ level: 'info,net=debug', format: 'text', file: path })
      for (let i = 0; i < 2000; i++) log.child('net').debug('frame', { i, big: BigInt(i) * 10n ** 20n })
      log.child('node').debug('not at this level')
      log.warn('last', { done: true })
      await log.close()
      log.info('after close: on screen only')
      const filed = records((await readFile(path, 'utf8')).split('\n').filter(l => l !== ''))
      assert.equal(filed.length, 2001)
      assert.deepEqual(filed[1999], { ...filed[1999], module: 'net', msg: 'frame', i: 1999, big: String(1999n * 10n ** 20n) })
      assert.equal(filed[2000]!.msg, 'last')
      assert.equal(lines.length, 2002, 'the screen got the text lines too')
      // appended, not overwritten
      const again = capture({ level: 'info', format: 'json', file: path })
      again.log.info('second run')
      await again.log.close()
      const all = (await readFile(path, 'utf8')).split('\n').filter(l => l !== '')
      assert.equal(all.length, 2002)
      assert.equal((JSON.parse(all[2001]!) as { msg: string }).msg, 'second run')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a process that exits right after logging loses none of its file records', async () => {
    const dir = await tempDir()
    try {
      const path = join(dir, 'exit.log')
      const script = `import { createLogger } from ${JSON.stringify(LOG_MODULE)}
const log = createLogger({ level: 'info', format: 'json', file: ${JSON.stringify(path)}, destination: { write () {} } })
for (let i = 0; i < 20000; i++) log.child('node').info('record', { i })
log.info('last words')
process.exit(3)`
      const code = await new Promise<number | null>(resolve => {
        execFile(process.execPath, ['--input-type=module', '-e', script], (err) => resolve(err === null ? 0 : (err as { code?: number }).code ?? null))
      })
      assert.equal(code, 3)
      const filed = (await readFile(path, 'utf8')).split('\n').filter(l => l !== '')
      assert.equal(filed.length, 20001)
      assert.equal((JSON.parse(filed.at(-1)!) as { msg: string }).msg, 'last words')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a log file that cannot be opened is refused at once, by its path', async () => {
    const dir = await tempDir()
    try {
      await writeFile(join(dir, 'a-file'), '')
      const path = join(dir, 'a-file', 'node.log')
      assert.throws(() => createLogger({ level: 'info', format: 'json', file: path }), (err: Error) => err instanceof LogConfigError && err.message.includes(path))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('log throttle', () => {
  test('a key is let through once per interval, with the count held back since', () => {
    let now = 0
    const t = new LogThrottle(1000, () => now)
    assert.equal(t.take('a'), 0)
    assert.equal(t.take('a'), undefined)
    assert.equal(t.take('a'), undefined)
    assert.equal(t.take('b'), 0, 'keys are independent')
    now = 999
    assert.equal(t.take('a'), undefined)
    now = 1000
    assert.equal(t.take('a'), 3)
    assert.equal(t.take('a'), undefined)
  })
})
