// The contract REPL: a contract deployed into a fresh local chain, then forms read from a stream
// (a terminal or a pipe): the steps of a test file, or any expression, run as a read-only query of
// the contract. Every call and query prints its result, gas and events.

import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { basename, extname } from 'node:path'
import { ContractError } from '../core/vm/errors.js'
import { READER_LIMITS, read } from '../core/vm/reader.js'
import type { Node } from '../core/vm/reader.js'
import { BftError } from '../core/errors.js'
import { LocalChainError, TestFileError } from './errors.js'
import { contractLoader } from './runner.js'
import { Session, StepError } from './session.js'
import type { SessionHooks } from './session.js'
import { isLanguageName, parseReplForm } from './test-file.js'
import type { DeployStep, Step } from './test-file.js'

export const REPL_ACCOUNTS: ReadonlyArray<readonly [string, bigint]> = [['alice', 1_000_000n], ['bob', 1_000_000n], ['carol', 1_000_000n]]

export interface ReplOptions {
  /** The contract file, relative to the working directory. */
  readonly file: string
  /** Init arguments as contract-language expressions; account names stand for their keys. */
  readonly args?: string
  /** The deployer (one of the accounts), and the caller until an (as NAME). */
  readonly from?: string
  readonly gas?: number
  readonly input: Readable
  readonly output: Writable
  /** Show a prompt: for a person at a terminal, not for a pipe. */
  readonly prompt?: boolean
}

const HELP = `Forms (as in a .test.lisp file; see docs/contract-testing.md):
  (balance-of bob)                    any expression: a read-only query of the contract
  (call (transfer bob 10))            a call, executed at once; options (as NAME) (value N) (gas N) (time MS)
  (query (get "supply") (as bob))     a query with options
  (as bob)  (time 1700000000000)      the default caller, the time of the next execute
  (balance bob)                       money an account or contract holds, e.g. in (expect ...)
  (transfer alice bob 100)            move money
  (account dave 500)                  a new account with money
  (deploy other "file.lisp" (args ...) (as NAME) (gas N))
  (expect "what" VALUE ACTION)  (expect-failure "what" ["error"] ACTION)  (expect-event "what" "name" [DATA])
Commands:
  .help   this text
  .state  the contract's storage, keys shown as values
  .reset  back to the state right after the deploy
  .exit   leave (so does end of input)`

/** A name for the contract from its file: token.lisp is `token`. */
function contractName (file: string): string {
  const name = basename(file, extname(file))
  // true.lisp must not make `true` the contract's address in every expression
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) && !isLanguageName(name) ? name : 'contract'
}

/** The REPL's error for a bad command line: nothing to read forms against. */
export class ReplStartError extends BftError {
  readonly code = 'ERR_REPL_START'
}

export class Repl {
  private session: Session
  private readonly initial: Session

  constructor (private readonly opts: ReplOptions) {
    const hooks: SessionHooks = {
      log: line => this.say(line),
      fail: f => { this.say(`fail: ${f.message}`); for (const d of f.details) this.say(`  ${d}`) },
      events: true
    }
    const base = Session.start('input', hooks)
    const setup: Step[] = REPL_ACCOUNTS.map(([name, balance]) => ({ kind: 'account', pos: { line: 1, col: 1 }, name: { name, pos: { line: 1, col: 1 } }, balance }))
    if (opts.from !== undefined) setup.push({ kind: 'as', pos: { line: 1, col: 1 }, name: { name: opts.from, pos: { line: 1, col: 1 } } })
    const deploy = this.deployStep()
    try {
      for (const s of setup) base.run(s)
      const r = base.action(deploy)
      if (!r.ok) throw new ReplStartError(`cannot deploy ${opts.file}: ${r.error}${opts.args === undefined ? ' (does init need --args?)' : ''}`)
    } catch (err) {
      if (err instanceof StepError || err instanceof LocalChainError) throw new ReplStartError(err instanceof StepError ? err.detail : err.message)
      throw err
    }
    this.initial = base
    this.session = base.fork()
  }

  private deployStep (): DeployStep {
    const pos = { line: 1, col: 1 }
    let args: Node[]
    try {
      args = read(this.opts.args ?? '')
    } catch (err) {
      if (err instanceof ContractError) throw new ReplStartError(`--args: ${err.message}`)
      throw err
    }
    let code: string
    try {
      code = contractLoader(this.opts.file, process.cwd())(this.opts.file, pos)
    } catch (err) {
      if (err instanceof TestFileError) throw new ReplStartError(err.detail)
      throw err
    }
    return { kind: 'deploy', pos, name: { name: contractName(this.opts.file), pos }, path: this.opts.file, code, args, ...(this.opts.gas === undefined ? {} : { gas: this.opts.gas }) }
  }

  private say (line: string): void {
    this.opts.output.write(line + '\n')
  }

  /** Reads forms until end of input or .exit. */
  async run (): Promise<void> {
    const c = this.session.current!
    this.say(`${c.name} deployed from ${c.path}; accounts ${REPL_ACCOUNTS.map(([n, b]) => `${n} (${b})`).join(', ')}; caller ${this.session.caller ?? '-'}, time ${this.session.time}`)
    this.say('type .help for help')
    const rl = createInterface({ input: this.opts.input, terminal: false })
    const prompt = (more: boolean): void => { if (this.opts.prompt === true) this.opts.output.write(more ? '... ' : '> ') }
    let buffer = ''
    prompt(false)
    for await (const line of rl) {
      if (buffer === '' && line.trim().startsWith('.')) {
        if (!this.command(line.trim())) break
        prompt(false)
        continue
      }
      buffer += line + '\n'
      buffer = this.forms(buffer)
      prompt(buffer !== '')
    }
    rl.close()
    if (buffer !== '') this.unfinished(buffer)
  }

  /** Input that ends inside a form (a pipe cut short): say so rather than drop it unseen. */
  private unfinished (text: string): void {
    try {
      read(text)
    } catch (err) {
      if (!(err instanceof ContractError)) throw err
      this.say(`error: the input ended inside a form: ${err.detail}`)
    }
  }

  /** Runs every whole form in `text`; returns what is left of an unfinished one. */
  private forms (text: string): string {
    let forms: Node[]
    try {
      forms = read(text)
    } catch (err) {
      if (!(err instanceof ContractError)) throw err
      // an open list or string continues on the next line
      if (/^(unclosed|unterminated)/.test(err.detail) && text.length < READER_LIMITS.maxCodeBytes) return text
      this.say(`error: ${err.detail}${err.pos === undefined ? '' : ` (at ${err.pos.line}:${err.pos.col})`}`)
      return ''
    }
    for (const form of forms) this.form(form)
    return ''
  }

  private form (form: Node): void {
    try {
      const step = parseReplForm(form, 'input', contractLoader('input', process.cwd()))
      if (step.kind !== 'expr') this.session.run(step)
      else this.say(this.session.render(this.session.value(step.node)))
    } catch (err) {
      if (err instanceof StepError || err instanceof TestFileError) this.say(`error: ${err.detail}`)
      else if (err instanceof BftError) this.say(`error: ${err.message}`)
      else throw err
    }
  }

  /** A dot command; false to stop. */
  private command (cmd: string): boolean {
    switch (cmd) {
      case '.exit': return false
      case '.help': this.say(HELP); return true
      case '.reset':
        this.session = this.initial.fork()
        this.say('back to the state right after the deploy')
        return true
      case '.state': {
        const c = this.session.current!
        const entries = this.session.chain.storage(c.address)
        this.say(`storage of ${c.name} (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}), money ${this.session.chain.holdings(c.address)}, caller ${this.session.caller ?? '-'}, time ${this.session.time}`)
        for (const [k, v] of entries) this.say(`  ${this.session.render(k)} ${this.session.render(v)}`)
        return true
      }
      default:
        this.say(`unknown command ${cmd.slice(0, 40)} (.help, .state, .reset, .exit)`)
        return true
    }
  }
}
