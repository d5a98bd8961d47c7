// Contract interpreter speed, no networking: evaluation steps per second on a loop-heavy program,
// token transfers per second in the VM alone, and through the ledger (Call ops delivered, then
// Execute ops running 64 calls each; signing is done beforehand, as wallets and sequencers would).
// Run: npm run build && node dist/bench/vm.js

import { readFileSync } from 'node:fs'
import { BUILTIN_TABLE } from '../src/core/vm/builtins.js'
import { compile, invoke } from '../src/core/vm/compile.js'
import { Context } from '../src/core/vm/interpreter.js'
import type { Host } from '../src/core/vm/interpreter.js'
import { keyTag } from '../src/core/vm/values.js'
import type { VmValue } from '../src/core/vm/values.js'
import { ContractHarness } from '../test/support/contract-harness.js'

const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

function memoryHost (caller: Uint8Array): Host {
  const store = new Map<string, VmValue>()
  return {
    caller, value: 0n, self: new Uint8Array(32), now: 0n,
    balance: () => 0n,
    get: k => store.get(keyTag(k)),
    put: (k, v) => { store.set(keyTag(k), v) },
    del: k => { store.delete(keyTag(k)) },
    transfer: () => {},
    emit: () => {}
  }
}

// 1. raw evaluation speed: a fold over the longest list a contract may build, many times
const spin = compile('(defun spin (n) (fold (fn (acc x) (if (= (mod x 3) 0) (+ acc x) (- acc 1))) 0 (range 0 n)))')
let steps = 0
let gasTotal = 0
let t = cpu()
for (let i = 0; i < 30; i++) {
  const ctx = new Context(spin, BUILTIN_TABLE, 1e12, undefined)
  ctx.callFunction('spin', [10_000n], { line: 1, col: 1 })
  steps += ctx.steps
  gasTotal += ctx.gasUsed
}
let s = cpu() - t
console.log(`evaluation: ${(steps / s).toFixed(0)} steps/s, ${(gasTotal / s).toFixed(0)} gas/s (${steps} steps, ${gasTotal} gas in ${s.toFixed(2)} cpu-s)`)

// 2. token transfers in the VM alone
const token = readFileSync(new URL('../../contracts/token.lisp', import.meta.url), 'utf8')
const mod = compile(token)
const alice = new Uint8Array(32).fill(1)
const host = memoryHost(alice)
invoke(mod, 'init', [alice, 1_000_000_000n], host)
const n = 20_000
let gas = 0
t = cpu()
for (let i = 0; i < n; i++) {
  const to = new Uint8Array(32); to[0] = i % 251; to[1] = 7
  const r = invoke(mod, 'transfer', [to, 1n], host)
  if (!r.ok) throw new Error(r.error.message)
  gas += r.gasUsed
}
s = cpu() - t
console.log(`token transfer in the VM: ${(n / s).toFixed(0)} calls/s (${(gas / n).toFixed(0)} gas each)`)

// 3. token transfers through the ledger: Call ops, then Executes of 64 calls
const h = new ContractHarness(['alice', 'bob'])
const c = h.deploy('alice', token, [h.key('alice'), 1_000_000_000n])
if (c.outcome.status !== 'applied') throw new Error(JSON.stringify(c.outcome))
const calls = 6400
t = cpu()
for (let i = 0; i < calls; i++) {
  h.call('alice', c, 'transfer', [h.key('bob'), 1n])
  if ((i + 1) % 64 === 0) h.execute(c, i)
}
s = cpu() - t
const last = h.ledger.callOutcome({ account: h.key('alice'), seq: h.ledger.nextSeq(h.key('alice')) - 1 })
console.log(`token transfer through the ledger (signing included, 1 call op + 1/64 execute op each): ${(calls / s).toFixed(0)} calls/s; last outcome ${last?.status}`)
