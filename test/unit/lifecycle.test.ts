// Which command a signal during loading belongs to: read from the raw arguments, before yargs has
// loaded, so a long-running command stopped that early still exits 0 and any other 128+n.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { namesLongRunning } from '../../src/cli/lifecycle.js'

test('start, join and testnet start are named long-running, wherever the global options sit', () => {
  for (const argv of [['start'], ['start', '--config', 'x.json'], ['join', '--genesis', 'g.json'], ['testnet', 'start', '--dir', 'net'],
    ['--verbose', 'start'], ['--api', 'http://127.0.0.1:7200', 'start'], ['--timeout', '5', 'testnet', 'start']]) {
    assert.equal(namesLongRunning(argv), true, argv.join(' '))
  }
})

test('every other command, and no command, is not', () => {
  for (const argv of [[], ['--help'], ['status'], ['testnet', 'init'], ['transfer', '--from', 'start'], ['version'], ['demo'], ['--api', 'start', 'status'], ['account', 'new', '--name', 'start']]) {
    assert.equal(namesLongRunning(argv), false, argv.join(' '))
  }
})
