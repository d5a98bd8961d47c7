// The contract reader: source text to a syntax tree of atoms and lists, each node carrying its
// line:column so every later error can point at the code. Bounded: code size, nesting, atom sizes.

import { fromHex } from '../crypto/hash.js'
import { ContractError } from './errors.js'
import { MAX_UINT64 } from '../codec/canonical.js'

const MAX_INT = MAX_UINT64
const MIN_INT = -MAX_UINT64 - 1n

export interface Pos { readonly line: number, readonly col: number }

export type Node =
  | { readonly t: 'int', readonly v: bigint, readonly pos: Pos }
  | { readonly t: 'str', readonly v: string, readonly pos: Pos }
  | { readonly t: 'bytes', readonly v: Uint8Array, readonly pos: Pos }
  | { readonly t: 'sym', readonly name: string, readonly pos: Pos }
  | { readonly t: 'list', readonly items: readonly Node[], readonly pos: Pos }

export const READER_LIMITS = {
  maxCodeBytes: 64 * 1024,
  maxNesting: 48,
  maxStringBytes: 4096,
  maxIntDigits: 24
} as const

const SYMBOL = /^[A-Za-z_+\-*/<>=!?%&.][A-Za-z0-9_+\-*/<>=!?%&.]*$/

/** Parses a whole contract: a sequence of top-level forms. */
export function read (source: string): Node[] {
  if (new TextEncoder().encode(source).length > READER_LIMITS.maxCodeBytes) {
    throw new ContractError('parse', `code is larger than ${READER_LIMITS.maxCodeBytes} bytes`, { line: 1, col: 1 })
  }
  const r = new Reader(source)
  const forms: Node[] = []
  for (;;) {
    r.skipSpace()
    if (r.done()) return forms
    forms.push(r.form(0))
  }
}

class Reader {
  private i = 0
  private line = 1
  private col = 1
  constructor (private readonly src: string) {}

  done (): boolean { return this.i >= this.src.length }

  private pos (): Pos { return { line: this.line, col: this.col } }

  private advance (): string {
    const c = this.src[this.i++]!
    if (c === '\n') { this.line++; this.col = 1 } else this.col++
    return c
  }

  skipSpace (): void {
    while (!this.done()) {
      const c = this.src[this.i]!
      if (c === ';') { while (!this.done() && this.src[this.i] !== '\n') this.advance() } else if (/\s/.test(c)) this.advance()
      else return
    }
  }

  form (depth: number): Node {
    this.skipSpace()
    const pos = this.pos()
    if (this.done()) throw new ContractError('parse', 'unexpected end of code', pos)
    const c = this.src[this.i]!
    if (c === '(') {
      if (depth >= READER_LIMITS.maxNesting) throw new ContractError('parse', `nesting deeper than ${READER_LIMITS.maxNesting}`, pos)
      this.advance()
      const items: Node[] = []
      for (;;) {
        this.skipSpace()
        if (this.done()) throw new ContractError('parse', `unclosed "(" opened at ${pos.line}:${pos.col}`, this.pos())
        if (this.src[this.i] === ')') { this.advance(); return { t: 'list', items, pos } }
        items.push(this.form(depth + 1))
      }
    }
    if (c === ')') throw new ContractError('parse', 'unexpected ")"', pos)
    if (c === '"') return this.string(pos)
    return this.atom(pos)
  }

  private string (pos: Pos): Node {
    this.advance()
    let out = ''
    for (;;) {
      if (this.done()) throw new ContractError('parse', 'unterminated string', pos)
      const c = this.advance()
      if (c === '"') break
      if (c === '\\') {
        if (this.done()) throw new ContractError('parse', 'unterminated string', pos)
        const e = this.advance()
        if (e === 'n') out += '\n'
        else if (e === '"' || e === '\\') out += e
        else throw new ContractError('parse', `unknown escape "\\${e}"`, pos)
      } else out += c
      if (out.length > READER_LIMITS.maxStringBytes) throw new ContractError('parse', `string longer than ${READER_LIMITS.maxStringBytes}`, pos)
    }
    return { t: 'str', v: out, pos }
  }

  private atom (pos: Pos): Node {
    let text = ''
    while (!this.done() && !/[\s()";]/.test(this.src[this.i]!)) text += this.advance()
    if (/^-?[0-9]+$/.test(text)) {
      if (text.replace('-', '').length > READER_LIMITS.maxIntDigits) throw new ContractError('parse', `integer literal too long: ${text.slice(0, 30)}`, pos)
      const v = BigInt(text)
      if (v > MAX_INT || v < MIN_INT) throw new ContractError('parse', `integer literal ${text} is outside the 64-bit range`, pos)
      return { t: 'int', v, pos }
    }
    if (/^0x([0-9a-f]{2})*$/.test(text)) {
      if (text.length / 2 - 1 > READER_LIMITS.maxStringBytes) throw new ContractError('parse', 'byte literal too long', pos)
      return { t: 'bytes', v: fromHex(text.slice(2)), pos }
    }
    if (SYMBOL.test(text)) return { t: 'sym', name: text, pos }
    throw new ContractError('parse', `unexpected "${text.slice(0, 30) || this.src[this.i]}"`, pos)
  }
}
