// The node's options: one table read by config files, BFTNODE_* variables and flags alike. Every
// source accepts the same values and refuses the same ones, each refusal names its source (and, in
// a file, the line and column), and the commented file `testnet init` writes reads back exactly.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { defaultConfig, envNames, flagOf, OPTION_NAMES, OPTIONS } from '../../src/node/config.js'
import type { NodeConfig, OptionSpec } from '../../src/node/config.js'
import { parseConfigText, renderConfigFile } from '../../src/node/config-file.js'
import { configFromEnv, configFromFlags, MASK, mergeConfig, shownConfig } from '../../src/node/config-sources.js'

const BASE = '/etc/bftnode'
const CWD = '/home/op'

const file = (text: string): ReturnType<typeof parseConfigText> => parseConfigText(text, 'config.json', BASE)
const refuses = (fn: () => unknown, message: string): void => assert.throws(fn, (err: Error & { code?: string }) => {
  assert.equal(err.code, 'ERR_CONFIG')
  assert.equal(err.message, message)
  return true
})

describe('the option table', () => {
  test('every option has a schema that accepts its default, a description, and a flag or env name', () => {
    const d = defaultConfig('/data')
    for (const k of OPTION_NAMES) {
      const spec = OPTIONS[k] as OptionSpec<unknown>
      assert.ok(spec.describe.length > 10, k)
      if (d[k] !== undefined) assert.ok(spec.schema.safeParse(d[k]).success, `${k}: default ${JSON.stringify(d[k])} refused by its own schema`)
      assert.ok(envNames(k)[0]!.startsWith('BFTNODE_'))
    }
    // the flags promised in docs/running.md, and the old spellings that keep working
    assert.equal(flagOf('maxConnections'), 'max-connections')
    assert.equal(flagOf('inboundRate'), 'inbound-rate')
    assert.equal(flagOf('tickMs'), 'tick-ms')
    assert.equal(flagOf('statusIntervalMs'), 'status-interval-ms')
    assert.equal(flagOf('genesisFile'), 'genesis')
    assert.equal(flagOf('keyFile'), 'key')
    assert.equal(flagOf('dataDir'), 'data-dir')
    assert.deepEqual(envNames('tickMs'), ['BFTNODE_TICK_MS'])
    assert.deepEqual(envNames('genesisFile'), ['BFTNODE_GENESIS_FILE', 'BFTNODE_GENESIS'])
    assert.equal(flagOf('passphrase'), undefined, 'the global --passphrase sets it')
  })

  test('defaults of files in the data dir follow the data dir', () => {
    const d = defaultConfig('/data')
    assert.equal(d.genesisFile, join('/data', 'genesis.json'))
    assert.equal(d.keyFile, join('/data', 'node-key.json'))
    assert.equal(d.tickMs, 5)
    assert.equal(d.passphrase, undefined)
  })
})

describe('config files', () => {
  test('comments and trailing commas are allowed; relative paths resolve against the file\'s folder', () => {
    const l = file('// a node\n{\n  /* block */ "tickMs": 7, // inline\n  "dataDir": "data",\n  "logFile": "/var/log/b.log",\n  "listen": ["/ip4/0.0.0.0/tcp/7100",],\n}\n')
    assert.deepEqual(l.values, { tickMs: 7, dataDir: join(BASE, 'data'), logFile: '/var/log/b.log', listen: ['/ip4/0.0.0.0/tcp/7100'] })
    assert.equal(l.from.tickMs, 'file:config.json')
  })

  test('a value out of bounds is refused at its line and column', () => {
    refuses(() => file('{\n  "apiPort": 7200,\n    "tickMs": 5000\n}'), 'config.json:3:5: option "tickMs" must be between 1 and 1000')
    refuses(() => file('{ "maxPendingOps": 0 }'), 'config.json:1:3: option "maxPendingOps" must be a whole number from 1 to 100000')
    refuses(() => file('{ "statusIntervalMs": 1.5 }'), 'config.json:1:3: option "statusIntervalMs" must be a whole number of ms from 0 to 3600000')
    refuses(() => file('{ "apiToken": "short" }'), 'config.json:1:3: option "apiToken" must be at least 16 characters')
    // a secret of the wrong type is not quoted back
    refuses(() => file('{ "apiToken": 12345678901234567890 }'), 'config.json:1:3: option "apiToken" must be a string (the value is a secret: not shown)')
    refuses(() => file('{ "trustedRoot": "ABC" }'), 'config.json:1:3: option "trustedRoot" must be 64 lowercase hex characters (a checkpoint\'s state root)')
  })

  test('a value of the wrong type is refused with what was given', () => {
    refuses(() => file('{\n"tickMs": "5"\n}'), 'config.json:2:1: option "tickMs" must be a number, got "5"')
    refuses(() => file('{ "mdns": "no" }'), 'config.json:1:3: option "mdns" must be true or false, got "no"')
    refuses(() => file('{ "logFormat": "xml" }'), 'config.json:1:3: option "logFormat" must be text or json, got "xml"')
    refuses(() => file('{ "bootstrap": "/ip4/1.2.3.4/tcp/1" }'), 'config.json:1:3: option "bootstrap" must be a list, got "/ip4/1.2.3.4/tcp/1"')
  })

  test('a bad element of a list is pointed at, not its option', () => {
    refuses(() => file('{\n  "listen": [\n    "/ip4/127.0.0.1/tcp/1",\n    "localhost:7100"\n  ]\n}'),
      'config.json:4:5: option "listen" must be multiaddrs such as /ip4/127.0.0.1/tcp/7100; "localhost:7100" is not one')
    refuses(() => file('{ "apiCors": ["https://a.example", 7] }'), 'config.json:1:36: option "apiCors" must be a string, got 7')
  })

  test('the log level spec: a level, optionally per module', () => {
    assert.equal(file('{ "logLevel": "info,net=debug,api=warn" }').values.logLevel, 'info,net=debug,api=warn')
    refuses(() => file('{ "logLevel": "verbose" }'), 'config.json:1:3: option "logLevel" must be debug, info, warn or error, optionally followed by per-module levels (info,net=debug)')
    refuses(() => file('{ "logLevel": "info,net=loud" }'), 'config.json:1:3: option "logLevel" must be debug, info, warn or error, optionally followed by per-module levels (info,net=debug)')
  })

  test('an unknown option is named, with the option it probably meant', () => {
    refuses(() => file('{\n  "tickMs": 5,\n  "tcikMs": 4\n}'), 'config.json:3:3: unknown option "tcikMs" (did you mean "tickMs"?)')
    refuses(() => file('{ "tick_ms": 4 }'), 'config.json:1:3: unknown option "tick_ms" (did you mean "tickMs"?)')
    refuses(() => file('{ "colour": 4 }'), 'config.json:1:3: unknown option "colour"')
  })

  test('syntax errors, duplicates and non-objects say where', () => {
    refuses(() => file('{\n  "tickMs": 5\n  "apiPort": 7200\n}'), 'config.json:3:3: expected a comma (not valid JSON with comments)')
    refuses(() => file('{ "tickMs": 5, /* open'), 'config.json:1:16: unterminated comment (not valid JSON with comments)')
    refuses(() => file('{ "tickMs": 5, "tickMs": 6 }'), 'config.json:1:16: option "tickMs" is set twice')
    refuses(() => file('["tickMs"]'), 'config.json:1:1: expected a JSON object of options ({ "tickMs": 5, ... })')
    refuses(() => file('  // nothing but a comment\n'), 'config.json: empty; expected a JSON object')
  })
})

describe('BFTNODE_* variables', () => {
  test('every kind of option is read from its variable; relative paths resolve against the working directory', () => {
    const l = configFromEnv({
      BFTNODE_TICK_MS: '2', BFTNODE_MAX_CONNECTIONS: '10', BFTNODE_INBOUND_RATE: '100', BFTNODE_METRICS: 'false', BFTNODE_DASHBOARD: 'YES',
      BFTNODE_BOOTSTRAP: '/ip4/1.2.3.4/tcp/1, /ip4/1.2.3.5/tcp/2', BFTNODE_LOG_FILE: 'logs/n.log', BFTNODE_GENESIS: 'g.json', BFTNODE_API_TOKEN: 'x'.repeat(16), BFTNODE_HOME: '/ignored'
    }, CWD)
    assert.deepEqual(l.values, {
      tickMs: 2, maxConnections: 10, inboundRate: 100, metrics: false, dashboard: true, bootstrap: ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.5/tcp/2'],
      logFile: join(CWD, 'logs/n.log'), genesisFile: join(CWD, 'g.json'), apiToken: 'x'.repeat(16)
    })
    assert.equal(l.from.tickMs, 'env:BFTNODE_TICK_MS')
    assert.equal(l.from.genesisFile, 'env:BFTNODE_GENESIS')
    assert.equal(l.from.passphrase, undefined)
  })

  test('a bad value names its variable', () => {
    refuses(() => configFromEnv({ BFTNODE_TICK_MS: 'abc' }, CWD), 'BFTNODE_TICK_MS: must be a number, got "abc"')
    refuses(() => configFromEnv({ BFTNODE_TICK_MS: '0' }, CWD), 'BFTNODE_TICK_MS: must be between 1 and 1000')
    refuses(() => configFromEnv({ BFTNODE_MDNS: 'maybe' }, CWD), 'BFTNODE_MDNS: must be true or false, got "maybe"')
    refuses(() => configFromEnv({ BFTNODE_API_PORT: '70000' }, CWD), 'BFTNODE_API_PORT: must be a whole number from 0 to 65535')
    refuses(() => configFromEnv({ BFTNODE_LISTEN: '/ip4/1.2.3.4/tcp/1,nope' }, CWD), 'BFTNODE_LISTEN: must be multiaddrs such as /ip4/127.0.0.1/tcp/7100; "nope" is not one')
  })
})

describe('flags', () => {
  test('flags as yargs parses them (camelCased; numbers it could not read stay text)', () => {
    const l = configFromFlags({ tickMs: 3, genesis: 'net/g.json', metrics: false, apiCors: ['https://a.example,https://b.example'], listen: ['/ip4/0.0.0.0/tcp/1'] }, CWD, { passphrase: 'pw' })
    assert.deepEqual(l.values, { tickMs: 3, genesisFile: join(CWD, 'net/g.json'), metrics: false, apiCors: ['https://a.example', 'https://b.example'], listen: ['/ip4/0.0.0.0/tcp/1'], passphrase: 'pw' })
    assert.equal(l.from.tickMs, 'flag:--tick-ms')
    assert.equal(l.from.metrics, 'flag:--no-metrics')
    assert.equal(l.from.passphrase, 'flag:--passphrase')
    // given twice: the last one counts
    assert.equal(configFromFlags({ tickMs: [3, 4] }, CWD).values.tickMs, 4)
  })

  test('a bad value names its flag', () => {
    refuses(() => configFromFlags({ tickMs: 'abc' }, CWD), '--tick-ms: must be a number, got "abc"')
    refuses(() => configFromFlags({ tickMs: 0 }, CWD), '--tick-ms: must be between 1 and 1000')
    refuses(() => configFromFlags({ maxConnections: 0 }, CWD), '--max-connections: must be a whole number from 1 to 100000')
    refuses(() => configFromFlags({ logFormat: 'xml' }, CWD), '--log-format: must be text or json, got "xml"')
  })
})

describe('merging sources', () => {
  test('defaults, then the file, then env, then flags; each value keeps its source', () => {
    const f = file('{ "tickMs": 7, "apiPort": 7300, "maxConnections": 9, "dataDir": "d" }')
    const e = configFromEnv({ BFTNODE_TICK_MS: '8', BFTNODE_API_PORT: '7400' }, CWD)
    const g = configFromFlags({ apiPort: 7500 }, CWD)
    const r = mergeConfig([f, e, g])
    assert.equal(r.config.maxConnections, 9)
    assert.equal(r.config.tickMs, 8)
    assert.equal(r.config.apiPort, 7500)
    assert.equal(r.config.inboundRate, 5000)
    // the key file's default follows the data dir the file set
    assert.equal(r.config.keyFile, join(BASE, 'd', 'node-key.json'))
    assert.deepEqual([r.sources.maxConnections, r.sources.tickMs, r.sources.apiPort, r.sources.inboundRate, r.sources.keyFile],
      ['file:config.json', 'env:BFTNODE_TICK_MS', 'flag:--api-port', 'default', 'default'])
  })

  test('a command\'s own defaults replace the built-in ones, and still lose to every source', () => {
    const r = mergeConfig([configFromFlags({ listen: ['/ip4/0.0.0.0/tcp/9'] }, CWD)], { apiPort: 7300, listen: ['/ip4/127.0.0.1/tcp/0'], dataDir: '/obs' })
    assert.equal(r.config.apiPort, 7300)
    assert.equal(r.sources.apiPort, 'default')
    assert.deepEqual(r.config.listen, ['/ip4/0.0.0.0/tcp/9'])
    assert.equal(r.config.genesisFile, join('/obs', 'genesis.json'))
  })

  test('shown, secrets are masked and unset options are null', () => {
    const r = mergeConfig([configFromEnv({ BFTNODE_PASSPHRASE: 'hunter2', BFTNODE_API_TOKEN: 'secret-token-0123456789' }, CWD)])
    const shown = Object.fromEntries(shownConfig(r).map(o => [o.name, o]))
    assert.deepEqual(shown.passphrase, { name: 'passphrase', value: MASK, source: 'env:BFTNODE_PASSPHRASE' })
    assert.equal(shown.apiToken!.value, MASK)
    assert.equal(shown.logFile!.value, null)
    assert.ok(!JSON.stringify(shownConfig(r)).includes('hunter2'))
    assert.ok(!JSON.stringify(shownConfig(r)).includes('secret-token'))
  })
})

describe('the commented config file', () => {
  const set: Partial<NodeConfig> = {
    dataDir: 'data',
    genesisFile: '../genesis.json',
    keyFile: 'node-key.json',
    listen: ['/ip4/127.0.0.1/tcp/7100'],
    bootstrap: ['/ip4/127.0.0.1/tcp/7101/p2p/12D3KooWBEYuQ98R8QJyUCDsNF1p4PHZKnpx1L11dVFUtiJASBjU'],
    mdns: false,
    apiPort: 7200
  }
  const text = renderConfigFile(set, ['a test node'])

  test('lists every option with its meaning, flag and variable', () => {
    for (const k of OPTION_NAMES) {
      assert.match(text, new RegExp(`"${k}":`), k)
      assert.ok(text.includes(envNames(k)[0]!), k)
    }
    assert.match(text, /^ {2}\/\/ "tickMs": 5,$/m)
    assert.match(text, /^ {2}"mdns": false,$/m)
  })

  test('reads back as exactly the values it sets', () => {
    const back = parseConfigText(text, 'config.json', BASE)
    const expected = { ...set, dataDir: join(BASE, 'data'), genesisFile: join(BASE, '../genesis.json'), keyFile: join(BASE, 'node-key.json') }
    assert.deepEqual(back.values, expected)
    assert.deepEqual(mergeConfig([back]).config, { ...defaultConfig(join(BASE, 'data')), ...expected })
  })

  test('the defaults written commented out are the real defaults: uncommenting them changes nothing', () => {
    const withDefaults = new Set(OPTION_NAMES.filter(k => (OPTIONS[k] as OptionSpec<unknown>).example === undefined))
    /** Uncomments every commented value of an option that has a default (not the examples). */
    const uncomment = (t: string): string => {
      const lines = t.split('\n')
      const out: string[] = []
      for (let i = 0; i < lines.length; i++) {
        const m = lines[i]!.match(/^ {2}\/\/ "(\w+)": (.*)$/)
        if (m === null || !withDefaults.has(m[1] as keyof NodeConfig)) { out.push(lines[i]!); continue }
        out.push(`  "${m[1]!}": ${m[2]!}`)
        // a list spans lines up to its closing bracket
        if (m[2] === '[') do out.push(lines[++i]!.replace(/^ {2}\/\/ /, '  ')); while (lines[i] !== '  // ],')
      }
      return out.join('\n')
    }
    for (const given of [set, {}]) {
      const written = renderConfigFile(given, [])
      const all = parseConfigText(uncomment(written), 'config.json', BASE)
      assert.ok(Object.keys(all.values).length >= withDefaults.size - 3, 'the defaults were uncommented')
      assert.deepEqual(mergeConfig([all]).config, mergeConfig([parseConfigText(written, 'config.json', BASE)]).config)
    }
  })
})
