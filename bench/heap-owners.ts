// Where a validator's heap goes: for chosen classes (Replica, Ledger, ...), the size of what each
// of their properties reaches in a V8 heap snapshot. Shared objects count under every owner that
// reaches them, so the figures overlap; they point at what to shrink, they do not add up.
// Take a snapshot of a running validator started with --heapsnapshot-signal=SIGUSR2 (the cluster
// benchmark: --node-args='--heapsnapshot-signal=SIGUSR2', then kill -USR2 <pid>; without the flag
// the signal ends the process), then:
//   node --max-old-space-size=8000 dist/bench/heap-owners.js Heap.*.heapsnapshot [Class,Class]

import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]], edge_fields: string[], edge_types: [string[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}

const [file, classList] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: node dist/bench/heap-owners.js <file.heapsnapshot> [Class,Class,...]')
  process.exit(2)
}
const classes = (classList ?? 'Replica,BftNode,CheckpointKeeper,Ledger,CertificateLog,SlotBindings,DeliveryBuffer,Proposer').split(',')
const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
const meta = s.snapshot.meta
const N = meta.node_fields.length
const E = meta.edge_fields.length
const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map(f => meta.node_fields.indexOf(f)) as [number, number, number, number]
const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map(f => meta.edge_fields.indexOf(f)) as [number, number, number]
const { nodes, edges, strings } = s
const count = nodes.length / N
const firstEdge = new Uint32Array(count + 1)
for (let i = 0, e = 0; i < count; i++) { firstEdge[i] = e; e += nodes[i * N + iEdges]! * E }
firstEdge[count] = edges.length
const typeOf = (i: number): string => meta.node_types[0][nodes[i * N + iType]!]!
const nameOf = (i: number): string => strings[nodes[i * N + iName]!]!
// code, closures and V8's own structures would tie every owner to everything
const skip = new Set(['code', 'closure', 'hidden', 'synthetic', 'object shape'])
const owners = new Set<number>()
for (let i = 0; i < count; i++) if (typeOf(i) === 'object' && classes.includes(nameOf(i))) owners.add(i)

const seen = new Uint32Array(count)
let pass = 0
function reach (start: number): number {
  pass++
  let total = 0
  const stack = [start]
  seen[start] = pass
  while (stack.length > 0) {
    const i = stack.pop()!
    total += nodes[i * N + iSize]!
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += E) {
      const kind = meta.edge_types[0][edges[e + eType]!]
      if (kind === 'weak' || kind === 'shortcut') continue
      const to = edges[e + eTo]! / N
      if (seen[to] === pass || owners.has(to) || skip.has(typeOf(to)) || nameOf(to) === 'system / Context') continue
      seen[to] = pass
      stack.push(to)
    }
  }
  return total
}

const rows: Array<[number, string]> = []
for (const o of owners) {
  for (let e = firstEdge[o]!; e < firstEdge[o + 1]!; e += E) {
    if (meta.edge_types[0][edges[e + eType]!] !== 'property') continue
    const to = edges[e + eTo]! / N
    if (owners.has(to) || skip.has(typeOf(to))) continue
    const mb = reach(to) / 1e6
    if (mb >= 1) rows.push([mb, `${nameOf(o)}@${o}.${strings[edges[e + eName]!]!}`])
  }
}
console.log('MB reachable  owner.property (1 MB and up)')
for (const [mb, k] of rows.sort((a, b) => b[0] - a[0]).slice(0, 40)) console.log(`${mb.toFixed(1).padStart(12)}  ${k}`)
