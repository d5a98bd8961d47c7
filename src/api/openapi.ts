// GET /v1/openapi.json: the route table as an OpenAPI 3.1 document, for tools that generate
// clients or send test requests. Prose, examples and limits are in docs/api.md.

import { PATH_PARAMS, ROUTES } from './routes.js'
import type { RouteSpec } from './routes.js'

/** Errors any route can answer with, whatever it does. */
export const COMMON_ERRORS: ReadonlyArray<[status: number, code: string, when: string]> = [
  [400, 'ERR_BAD_PATH', 'the path is malformed: invalid percent-encoding, dot segments, encoded slashes or control characters'],
  [400, 'ERR_BAD_QUERY', 'a query parameter is malformed or repeated'],
  [400, 'ERR_BAD_REQUEST', 'a header is missing or repeated (Host, Authorization, Content-Type, Origin)'],
  [400, 'ERR_BAD_HTTP', 'the request is not valid HTTP/1.1 (refused by the parser)'],
  [401, 'ERR_UNAUTHORIZED', 'the node has an apiToken and the request lacks it or has another'],
  [403, 'ERR_ORIGIN_NOT_ALLOWED', 'a CORS preflight from an origin not in apiCors'],
  [404, 'ERR_NOT_FOUND', 'no such route'],
  [405, 'ERR_METHOD_NOT_ALLOWED', 'the route exists for other methods (listed in Allow)'],
  [408, 'ERR_TIMEOUT', 'the headers (10 s) or the whole request (30 s) did not arrive in time'],
  [417, 'ERR_EXPECTATION_FAILED', 'an Expect header other than 100-continue'],
  [431, 'ERR_HEADERS_TOO_LARGE', 'the request line and headers are over 16 KiB'],
  [500, 'ERR_INTERNAL', 'a fault of the node itself (logged); never the answer to a malformed request']
]

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, retryAfterMs: { type: 'integer' } }
    }
  }
}

const operationId = (r: RouteSpec): string => r.method.toLowerCase() + r.path.split(/[/{}.]/).filter(s => s !== '').map(s => s[0]!.toUpperCase() + s.slice(1)).join('')

function operation (r: RouteSpec): Record<string, unknown> {
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map(m => {
    const p = PATH_PARAMS[m[1]!]!
    return { name: p.name, in: 'path', required: true, description: p.description, schema: p.schema }
  })
  const query = (r.query ?? []).map(p => ({ name: p.name, in: 'query', required: false, description: p.description, schema: p.schema }))
  const responses: Record<string, unknown> = {
    [String(r.ok.status)]: { description: r.ok.description, content: { [r.ok.type ?? 'application/json']: {} } }
  }
  for (const [status, code] of [...r.errors, ...COMMON_ERRORS.map(([s, c]) => [s, c] as const)]) {
    const key = String(status)
    const prev = responses[key] as { description: string } | undefined
    responses[key] = { description: prev === undefined ? code : `${prev.description}, ${code}`, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
  }
  return {
    operationId: operationId(r),
    summary: r.summary,
    tags: [r.operations === true ? 'operations' : 'api'],
    ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
    ...(r.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: r.body } } } }),
    // the token is optional: `{}` means no credentials, for a node without apiToken
    security: r.public === true ? [] : [{}, { bearer: [] }],
    responses
  }
}

export function openApiDocument (): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of ROUTES) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r)
  return {
    openapi: '3.1.0',
    info: {
      title: 'bftnode API',
      version: 'v1',
      description: 'The local HTTP API of a bftnode node. Amounts are decimal strings, keys and hashes lowercase hex. Every error is JSON: {"error": {"code", "message"}}. See docs/api.md.'
    },
    tags: [{ name: 'api', description: 'the node API' }, { name: 'operations', description: 'metrics, health and the dashboard' }],
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'required when the node is started with apiToken' } }
    }
  }
}
