// Contract values as JSON, both ways: what a client writes as a call's arguments and what the API
// answers with (results, events, storage). The contract language has integers beyond JSON's safe
// range, byte strings and maps with typed keys, none of which plain JSON can say without guessing,
// so every value that JSON cannot carry unambiguously gets an explicit form:
//
//   {"int": "5"}        an integer (a decimal string; plain JSON numbers are accepted as input)
//   {"bytes": "ab01"}   a byte string, hex (a leading 0x is accepted as input)
//   {"key": "..."}      an account key: 64 hex digits, or (where a wallet resolves it) an account name
//   {"str": "..."}      a string, when a plain JSON string would be ambiguous
//   {"map": {...}}      a map with string keys; {"map": [[key, value], ...]} for any key type
//
// true, false, null, plain strings and arrays mean themselves. A plain string that looks like a
// number or hex ("123", "0x12", "123n") is refused as ambiguous rather than guessed at. Output
// uses the same forms, so a result can be passed back as an argument unchanged.
// Browser-safe: no Node modules.

import type { Value } from '../core/codec/canonical.js'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { BftError } from '../core/errors.js'
import { MAX_INT, MIN_INT, VmMap, fromCodec, keyFromTag, keyTag, show } from '../core/vm/values.js'
import type { VmValue } from '../core/vm/values.js'

/** A value as JSON (see the forms above). */
export type JsonValue =
  | null | boolean | string | number
  | readonly JsonValue[]
  | { readonly int: string }
  | { readonly bytes: string }
  | { readonly key: string }
  | { readonly str: string }
  | { readonly map: { readonly [key: string]: JsonValue } | ReadonlyArray<readonly [JsonValue, JsonValue]> }

/** An argument that is not a valid, unambiguous value; `path` says where (`args[1].to`). */
export class ArgumentError extends BftError {
  readonly code = 'ERR_BAD_ARGUMENT'
  constructor (readonly path: string, message: string) {
    super(`${path}: ${message}`)
  }
}

export interface ParseOptions {
  /** Turns `{"key": name}` into a key, for names that are not 64 hex digits (a wallet's accounts). */
  readonly resolveKey?: (name: string) => Uint8Array
  /** Where the value sits, for error messages. */
  readonly path?: string
}

/** Nesting deeper than this is refused before it is walked (the VM refuses deeper values anyway). */
const MAX_DEPTH = 32
/** Elements across the whole value. */
const MAX_ELEMENTS = 10_000

const HEX = /^([0-9a-f]{2})*$/
const KEY = /^[0-9a-f]{64}$/
const INT = /^-?(0|[1-9][0-9]*)$/
/** Plain strings that a person likely meant as something else. */
const AMBIGUOUS = /^(0x[0-9a-fA-F]*|-?[0-9]+n?|[0-9a-fA-F]{64})$/

const FORMS = ['int', 'bytes', 'key', 'str', 'map']

/**
 * A value as JSON, cut to about 60 characters for a message. Written out only as far as shown:
 * a value here is untrusted input, and JSON.stringify of one nested 100,000 deep (a request body
 * within its size limit) overflows the stack.
 */
function describe (v: unknown): string {
  let s = ''
  const write = (x: unknown, depth: number): void => {
    if (s.length > 60) return
    if (Array.isArray(x)) {
      if (depth >= 8) { s += '[...]'; return }
      s += '['
      for (let i = 0; i < x.length && s.length <= 60; i++) { if (i > 0) s += ','; write(x[i], depth + 1) }
      s += ']'
    } else if (x !== null && typeof x === 'object') {
      if (depth >= 8) { s += '{...}'; return }
      s += '{'
      let first = true
      for (const k in x) {
        if (!Object.hasOwn(x, k)) continue
        if (s.length > 60) break
        s += `${first ? '' : ','}${JSON.stringify(k.slice(0, 61))}:`
        first = false
        write((x as Record<string, unknown>)[k], depth + 1)
      }
      s += '}'
    } else {
      s += JSON.stringify(typeof x === 'string' ? x.slice(0, 61) : x) ?? String(x)
    }
  }
  write(v, 0)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** One value from its JSON form to the canonical value a call carries. */
export function parseValue (json: unknown, opts: ParseOptions = {}): Value {
  const budget = { elements: 0 }
  return parse(json, opts.path ?? 'value', 0, opts, budget)
}

/** A list of arguments (a call's or a deploy's `args`). */
export function parseArgs (json: unknown, opts: Omit<ParseOptions, 'path'> = {}): Value[] {
  if (!Array.isArray(json)) throw new ArgumentError('args', 'must be a JSON list, e.g. [{"key": "alice"}, 100]')
  const budget = { elements: 0 }
  return json.map((v, i) => parse(v, `args[${i}]`, 0, opts, budget))
}

function parse (v: unknown, path: string, depth: number, opts: ParseOptions, budget: { elements: number }): Value {
  if (depth > MAX_DEPTH) throw new ArgumentError(path, `nested deeper than ${MAX_DEPTH}`)
  if (++budget.elements > MAX_ELEMENTS) throw new ArgumentError(path, `more than ${MAX_ELEMENTS} elements in all`)
  if (v === null || typeof v === 'boolean') return v
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new ArgumentError(path, `${v} is not a whole number JSON can carry exactly; write {"int": "<digits>"}`)
    return BigInt(v)
  }
  if (typeof v === 'string') {
    if (AMBIGUOUS.test(v)) throw new ArgumentError(path, `${describe(v)} is ambiguous: write {"str": ${describe(v)}} for a string, {"int": "…"} for a number, {"bytes": "…"} for bytes or {"key": "…"} for an account key`)
    return v
  }
  if (Array.isArray(v)) return v.map((x, i) => parse(x, `${path}[${i}]`, depth + 1, opts, budget))
  if (typeof v !== 'object') throw new ArgumentError(path, `${describe(v)} is not a value`)
  const keys = Object.keys(v)
  const form = keys[0]
  if (keys.length !== 1 || form === undefined || !FORMS.includes(form)) {
    throw new ArgumentError(path, `an object must be one of {"int": …}, {"bytes": …}, {"key": …}, {"str": …}, {"map": …}; got ${describe(v)}`)
  }
  const body = (v as Record<string, unknown>)[form]
  switch (form) {
    case 'int': {
      const text = typeof body === 'number' && Number.isSafeInteger(body) ? String(body) : body
      if (typeof text !== 'string' || !INT.test(text) || text.length > 21) throw new ArgumentError(path, `{"int": …} holds a whole number as a string of digits, got ${describe(body)}`)
      const n = BigInt(text)
      if (n > MAX_INT || n < MIN_INT) throw new ArgumentError(path, `${text} is outside the 64-bit range contracts use`)
      return n
    }
    case 'bytes': {
      const hex = typeof body === 'string' ? body.replace(/^0x/, '').toLowerCase() : undefined
      if (hex === undefined || !HEX.test(hex)) throw new ArgumentError(path, `{"bytes": …} holds an even number of hex digits, got ${describe(body)}`)
      return fromHex(hex)
    }
    case 'key': {
      if (typeof body !== 'string' || body === '') throw new ArgumentError(path, '{"key": …} holds an account key (64 hex digits) or an account name')
      const hex = body.toLowerCase()
      if (KEY.test(hex)) return fromHex(hex)
      if (opts.resolveKey === undefined) throw new ArgumentError(path, `${describe(body)} is not an account key (64 hex digits)`)
      return opts.resolveKey(body)
    }
    case 'str':
      if (typeof body !== 'string') throw new ArgumentError(path, `{"str": …} holds a string, got ${describe(body)}`)
      return body
    default: return parseMap(body, path, depth, opts, budget)
  }
}

function parseMap (body: unknown, path: string, depth: number, opts: ParseOptions, budget: { elements: number }): Value {
  const entries = new Map<string, readonly [VmValue, VmValue]>()
  const add = (key: Value, value: Value, at: string): void => {
    if (typeof key !== 'bigint' && typeof key !== 'string' && !(key instanceof Uint8Array)) throw new ArgumentError(at, 'a map key is an integer, a string or bytes')
    const k = fromCodec(key)
    const tag = keyTag(k)
    if (entries.has(tag)) throw new ArgumentError(at, `key ${show(k)} appears twice`)
    entries.set(tag, [k, fromCodec(value)])
  }
  if (Array.isArray(body)) {
    body.forEach((pair, i) => {
      const at = `${path}.map[${i}]`
      if (!Array.isArray(pair) || pair.length !== 2) throw new ArgumentError(at, 'each entry of {"map": [...]} is a [key, value] pair')
      add(parse(pair[0], `${at}[0]`, depth + 1, opts, budget), parse(pair[1], `${at}[1]`, depth + 1, opts, budget), at)
    })
  } else if (body !== null && typeof body === 'object') {
    // an object's keys are strings as written: no guessing applies to them
    for (const [k, x] of Object.entries(body)) add(k, parse(x, `${path}.${k}`, depth + 1, opts, budget), `${path}.${k}`)
  } else {
    throw new ArgumentError(path, '{"map": …} holds an object (string keys) or a list of [key, value] pairs')
  }
  // the canonical form of a map: an object keyed by its keys' tags
  return Object.fromEntries([...entries].map(([tag, [, x]]) => [tag, toValue(x)]))
}

function toValue (v: VmValue): Value {
  if (v instanceof VmMap) return Object.fromEntries([...v.entries].map(([tag, [, x]]) => [tag, toValue(x)]))
  if (Array.isArray(v)) return (v as readonly VmValue[]).map(toValue)
  return v as Value
}

/** A canonical value (a result, an event's data, a storage entry) in its JSON form. */
export function valueToJson (v: Value | VmValue): JsonValue {
  if (v === null || typeof v === 'boolean') return v
  // a string that input would refuse as ambiguous goes out in the form input takes back
  if (typeof v === 'string') return AMBIGUOUS.test(v) ? { str: v } : v
  if (typeof v === 'bigint') return { int: v.toString() }
  if (typeof v === 'number') return { int: String(v) }
  if (v instanceof Uint8Array) return { bytes: toHex(v) }
  if (Array.isArray(v)) return (v as ReadonlyArray<Value | VmValue>).map(valueToJson)
  const map = v instanceof VmMap ? v : fromCodec(v as Value)
  if (!(map instanceof VmMap)) throw new ArgumentError('value', 'a function has no JSON form')
  const sorted = map.sorted()
  if (sorted.every(([k]) => typeof k === 'string')) return { map: Object.fromEntries(sorted.map(([k, x]) => [k as string, valueToJson(x)])) }
  return { map: sorted.map(([k, x]) => [valueToJson(k), valueToJson(x)] as const) }
}

/** A storage key tag (`s:owner`, `b:ab…`) as the value it stands for, in JSON form. */
export function keyTagToJson (tag: string): JsonValue {
  return valueToJson(keyFromTag(tag))
}

/** A value in the contract language's own notation, for people: `{"amount" 10, "to" 0xab…}`. */
export function showValue (v: Value | VmValue): string {
  return show(v instanceof VmMap ? v : fromCodec(v as Value))
}

/** A JSON-form value shown in the contract language's notation (for the CLI, which gets JSON from the API). */
export function showJson (v: JsonValue): string {
  return showValue(parseValue(v, { resolveKey: () => { throw new ArgumentError('value', 'no names here') } }))
}
