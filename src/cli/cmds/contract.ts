// `bftnode contract`: tools for writing contracts, which need no network (`test` runs .test.lisp
// files against a local chain; `repl` deploys a contract into one and reads forms), and
// `rotate-sequencer` (rotation.ts), which gives a deployed contract a new sequencer.

import { GAS_LIMITS } from '../../core/vm/gas.js'
import { Repl } from '../../devtools/repl.js'
import { runTestFiles } from '../../devtools/runner.js'
import { say } from '../context.js'
import { rotateSequencerCommand } from './rotation.js'
import type { CliCommand } from '../context.js'

const testCommand: CliCommand<{ files: string[] }> = {
  command: 'test <files..>',
  describe: 'run contract test files (.test.lisp) on a local chain; exit 1 if a test failed, 2 if a file could not be run',
  examples: [
    ['bftnode contract test contracts/token.test.lisp', 'one file'],
    ['bftnode contract test contracts/*.test.lisp', 'every test file of the sample contracts']
  ],
  positionals: { files: { type: 'string', array: true, describe: 'test files; contracts they deploy are found relative to each file' } },
  handler: async (a) => {
    process.exitCode = runTestFiles(a.files, say).exitCode
  }
}

const replCommand: CliCommand<{ file: string, args?: string, from: string, gas: number }> = {
  command: 'repl <file>',
  describe: 'deploy a contract into a fresh local chain (accounts alice, bob and carol) and read calls, queries and expressions from stdin',
  examples: [
    ['bftnode contract repl contracts/token.lisp --args "alice 1000000"', 'a token owned by alice; then type (call (transfer bob 10)) or (balance-of bob)'],
    ['echo \'(call (transfer bob 10)) (balance-of bob)\' | bftnode contract repl contracts/token.lisp --args "alice 100"', 'forms from a pipe']
  ],
  positionals: { file: { type: 'string', describe: 'contract source file' } },
  options: {
    args: { type: 'string', describe: 'init arguments, written as in the contract language: "alice 1000000" (account names stand for their keys)' },
    from: { type: 'string', default: 'alice', describe: 'the account that deploys, and calls until (as NAME)' },
    gas: { type: 'number', default: GAS_LIMITS.defaultCall, describe: 'gas limit for init' }
  },
  handler: async (a) => {
    const repl = new Repl({ file: a.file, ...(a.args === undefined ? {} : { args: a.args }), from: a.from, gas: a.gas, input: process.stdin, output: process.stdout, prompt: process.stdin.isTTY })
    await repl.run()
  }
}

export const contractCommand: CliCommand = {
  command: 'contract',
  describe: 'develop contracts offline (run test files, try a contract in a REPL: no network needed), or give a deployed contract a new sequencer',
  subcommands: [testCommand, replCommand, rotateSequencerCommand]
}
