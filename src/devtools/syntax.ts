// Writing the contract language back out: syntax trees as source (so a test expression can be
// compiled by the real checker), data values as source, and values for people, with the keys of
// known accounts and contracts printed as their names, which read back as the same keys.

import { toHex } from '../core/crypto/hash.js'
import type { Node } from '../core/vm/reader.js'
import { VmMap, show } from '../core/vm/values.js'
import type { VmValue } from '../core/vm/values.js'

function quote (s: string): string {
  // the reader's only escapes
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
}

/** A syntax tree as source text that reads back as the same tree (positions aside). */
export function unread (node: Node): string {
  switch (node.t) {
    case 'int': return node.v.toString()
    case 'str': return quote(node.v)
    case 'bytes': return `0x${toHex(node.v)}`
    case 'sym': return node.name
    case 'list': return `(${node.items.map(unread).join(' ')})`
  }
}

/** A data value as an expression that evaluates to it. */
export function valueSource (v: VmValue): string {
  if (typeof v === 'string') return quote(v)
  if (Array.isArray(v)) return `(list${(v as readonly VmValue[]).map(x => ' ' + valueSource(x)).join('')})`
  if (v instanceof VmMap) return `(dict${v.sorted().map(([k, x]) => ` ${valueSource(k)} ${valueSource(x)}`).join('')})`
  return show(v)
}

/** A value for people: `show`, except that known keys print as their names. */
export function render (v: VmValue, nameOf: (key: Uint8Array) => string | undefined): string {
  if (v instanceof Uint8Array) return nameOf(v) ?? show(v)
  if (Array.isArray(v)) return `(list${(v as readonly VmValue[]).map(x => ' ' + render(x, nameOf)).join('')})`
  if (v instanceof VmMap) return `{${v.sorted().map(([k, x]) => `${render(k, nameOf)} ${render(x, nameOf)}`).join(', ')}}`
  return show(v)
}
