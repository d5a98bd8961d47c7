// The route table, the server's dispatch, docs/api.md and GET /v1/openapi.json cannot drift apart:
// every `case` the server dispatches is in the table, every route in the table is documented with
// its error codes, and the OpenAPI document describes them all. And a fault of the node's own is
// the one thing that answers 500, logged.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { ROUTES, specKey } from '../../src/api/routes.js'
import { COMMON_ERRORS, openApiDocument } from '../../src/api/openapi.js'
import { startApi } from '../../src/api/server.js'
import type { BftNode } from '../../src/node/node.js'
import type { Logger } from '../../src/node/log.js'

const repoFile = async (path: string): Promise<string> => await readFile(new URL(`../../../${path}`, import.meta.url), 'utf8')

describe('API routes', () => {
  test('every route the server dispatches is in the route table, and every API route has a case', async () => {
    const source = await repoFile('src/api/server.ts')
    const cases = [...source.matchAll(/^\s*case '([A-Z]+ \/[^']*)':/gm)].map(m => m[1]!)
    assert.ok(cases.length >= 10, `found only ${cases.length} case labels in server.ts`)
    const keys = new Set(ROUTES.map(specKey))
    for (const c of cases) assert.ok(keys.has(c), `server.ts dispatches '${c}', which src/api/routes.ts does not list`)
    for (const r of ROUTES.filter(r => r.operations !== true)) assert.ok(cases.includes(specKey(r)!), `routes.ts lists ${r.method} ${r.path}, which server.ts does not dispatch`)
  })

  test('docs/api.md documents every route and every error code', async () => {
    const doc = await repoFile('docs/api.md')
    for (const r of ROUTES) {
      assert.ok(doc.includes(`\n### ${r.method} ${r.path}\n`), `docs/api.md has no section "### ${r.method} ${r.path}"`)
      for (const [status, code] of r.errors) assert.match(doc, new RegExp(`\\| ${status} \\| [^\\n]*\`${code}\``), `docs/api.md's error table lacks ${status} ${code} (${r.method} ${r.path})`)
    }
    for (const [status, code] of COMMON_ERRORS) assert.match(doc, new RegExp(`\\| ${status} \\| [^\\n]*\`${code}\``), `docs/api.md's error table lacks ${status} ${code}`)
    const operations = doc.slice(doc.indexOf('\n## Operations\n'))
    for (const r of ROUTES.filter(r => r.operations === true)) assert.ok(operations.includes(`### ${r.method} ${r.path}\n`), `${r.path} belongs in the Operations section`)
  })

  test('the OpenAPI document describes every route once, with its parameters', () => {
    const doc = openApiDocument() as { openapi: string, paths: Record<string, Record<string, { operationId: string, parameters?: Array<{ name: string, in: string }>, responses: Record<string, unknown> }>> }
    assert.equal(doc.openapi, '3.1.0')
    const ids = new Set<string>()
    for (const r of ROUTES) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()]
      assert.ok(op !== undefined, `${r.method} ${r.path} missing`)
      assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`)
      ids.add(op.operationId)
      for (const [, name] of r.path.matchAll(/\{(\w+)\}/g)) assert.ok(op.parameters?.some(p => p.in === 'path' && p.name === name), `${r.path}: no parameter ${name!}`)
      assert.ok(op.responses[String(r.ok.status)] !== undefined)
      assert.ok(op.responses['400'] !== undefined)
    }
    assert.equal(Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0), ROUTES.length)
  })

  test('a fault of the node itself answers 500 ERR_INTERNAL and is logged with its stack', async () => {
    const logged: Array<Record<string, unknown>> = []
    const log: Logger = { debug () {}, info () {}, warn () {}, error (_msg, f) { logged.push(f ?? {}) }, child () { return this } }
    const broken = { replica: { ledger: {}, validators: [] }, peers: () => { throw new Error('peer table corrupted') } } as unknown as BftNode
    const api = await startApi(broken, '127.0.0.1', 0, { log })
    try {
      const res = await fetch(`http://127.0.0.1:${api.port}/v1/peers`)
      assert.equal(res.status, 500)
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_INTERNAL')
      assert.equal(logged.length, 1)
      assert.match(String(logged[0]!.err), /peer table corrupted\n\s+at /)
    } finally { await api.close() }
  })
})
