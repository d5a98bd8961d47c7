// Reading an untrusted HTTP request: the target (path and query), the headers the API relies on,
// and a bounded JSON body that must arrive at a useful pace. Everything malformed becomes an
// ApiError with a 4xx status here, so route handlers only meet well-formed values.

import type { IncomingMessage } from 'node:http'
import { ApiError, badRequest } from './errors.js'

export interface Target {
  /** Decoded path segments, empty ones dropped (`//v1//status` is `['v1', 'status']`). */
  segments: string[]
  query: URLSearchParams
  /** `OPTIONS *`: a question about the server, not a resource. */
  asterisk: boolean
}

const badPath = (message: string): ApiError => new ApiError(400, 'ERR_BAD_PATH', message)
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const UNSAFE_SEGMENT = /[/\\\u0000-\u001f\u007f]/

/**
 * Parses a request target by hand: `new URL(target, base)` reads `//x:99999/...` as a host and
 * throws, and would resolve dot segments that a static file route must never see.
 */
export function parseTarget (raw: string | undefined): Target {
  let target = (raw ?? '').split('#')[0]!
  if (target === '*') return { segments: [], query: new URLSearchParams(), asterisk: true }
  // absolute form (`GET http://host/v1/status`), as sent to proxies: only the path counts
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(target)
  if (absolute !== null) target = target.slice(absolute[0].length) === '' ? '/' : target.slice(absolute[0].length)
  if (!target.startsWith('/')) throw badPath('the request target must be a path starting with /')
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  const search = q === -1 ? '' : target.slice(q + 1)
  if (/%(?![0-9a-f]{2})/i.test(search)) throw new ApiError(400, 'ERR_BAD_QUERY', 'the query string has a % not followed by two hex digits')
  const segments = path.split('/').filter(s => s !== '').map(s => {
    let decoded: string
    try { decoded = decodeURIComponent(s) } catch { throw badPath('the path has invalid percent-encoding (a % not followed by two hex digits, or bytes that are not UTF-8)') }
    if (decoded === '.' || decoded === '..') throw badPath('dot segments (. and ..) are not allowed in the path')
    if (UNSAFE_SEGMENT.test(decoded)) throw badPath('a path segment may not contain /, \\ or control characters, encoded or not')
    return decoded
  })
  return { segments, query: new URLSearchParams(search), asterisk: false }
}

/** One value of a query parameter, or undefined; a repeated parameter is ambiguous. */
export function queryParam (query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name)
  if (all.length > 1) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "${name}" given more than once`)
  return all[0]
}

/** A whole number written in plain decimal digits (at most 15: always exact), or undefined when absent. */
export function queryInteger (query: URLSearchParams, name: string): number | undefined {
  const v = queryParam(query, name)
  if (v === undefined) return undefined
  if (!/^[0-9]{1,15}$/.test(v)) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "${name}" must be a whole number in decimal digits`)
  return Number(v)
}

export function queryBoolean (query: URLSearchParams, name: string): boolean | undefined {
  const v = queryParam(query, name)
  if (v === undefined) return undefined
  if (v !== 'true' && v !== 'false') throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "${name}" must be true or false`)
  return v === 'true'
}

/** A header the API acts on, at most once: two Authorization or Content-Type headers are ambiguous. */
export function singleHeader (req: IncomingMessage, name: string): string | undefined {
  const all = req.headersDistinct[name]
  if (all === undefined || all.length === 0) return undefined
  if (all.length > 1) throw badRequest(`the ${name} header may appear only once`)
  return all[0]
}

/** What every request must get right before any route looks at it. */
export function checkHeaders (req: IncomingMessage): void {
  // HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own check answers without a JSON body
  if (req.httpVersion === '1.1' && singleHeader(req, 'host') === undefined) throw badRequest('an HTTP/1.1 request must have a Host header')
  for (const name of ['host', 'authorization', 'origin', 'content-type', 'content-encoding']) singleHeader(req, name)
}

export interface BodyLimits {
  /** Largest request body (bytes). */
  maxBytes: number
  /** After `graceMs`, a body must keep arriving at this many bytes a second on average, or it is cut. */
  minBytesPerSecond: number
  graceMs: number
  /**
   * Body bytes all requests together may hold while they are read (the server's one budget): past
   * it a request is answered 503 rather than read, so many connections sending the largest body
   * each cannot take maxConnections x maxBytes of memory.
   */
  maxInFlightBytes: number
}

/** Body bytes held by requests being read, shared by one server's requests. */
export interface BodyBudget { held: number }

/** The JSON body of a POST: declared as JSON, bounded, UTF-8, arriving at a useful pace. */
export async function readJsonBody (req: IncomingMessage, limits: BodyLimits, budget: BodyBudget = { held: 0 }): Promise<unknown> {
  const type = singleHeader(req, 'content-type')
  const media = type?.split(';')[0]!.trim().toLowerCase()
  const charset = /;\s*charset="?([^";\s]+)/i.exec(type ?? '')?.[1]?.toLowerCase()
  if (media !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON: send Content-Type: application/json (UTF-8)')
  }
  const encoding = singleHeader(req, 'content-encoding')
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not accepted; send the body uncompressed`)
  const tooLarge = (): ApiError => new ApiError(413, 'ERR_TOO_LARGE', `request body over ${limits.maxBytes} bytes`, {}, { close: true })
  if (Number(req.headers['content-length'] ?? 0) > limits.maxBytes) throw tooLarge()
  const busy = (): ApiError => new ApiError(503, 'ERR_BUSY', 'the node is reading too many request bodies at once; retry in 1000 ms', { retryAfterMs: 1000 }, { close: true })
  // what this request holds of the server's budget, given back when it is done
  let charged = 0
  const charge = (bytes: number): boolean => {
    if (budget.held + bytes > limits.maxInFlightBytes) return false
    budget.held += bytes
    charged += bytes
    return true
  }
  const initial = Math.min(limits.maxBytes, 64 * 1024, Math.max(1024, Number(req.headers['content-length'] ?? 0)))
  if (!charge(initial)) throw busy()
  const bytes = await new Promise<Uint8Array>((resolve, reject) => {
    // one growing buffer, not a list of chunks (a chunked body can come in millions of tiny
    // pieces), and grown as bytes arrive, not as Content-Length promises
    let buf = new Uint8Array(initial)
    let size = 0
    const started = Date.now()
    const done = (err?: ApiError): void => {
      clearInterval(pace)
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort)
      budget.held -= charged
      charged = 0
      if (err === undefined) resolve(buf.subarray(0, size))
      else reject(err)
    }
    const onData = (chunk: Uint8Array): void => {
      if (size + chunk.length > limits.maxBytes) { done(tooLarge()); return }
      if (size + chunk.length > buf.length) {
        const length = Math.min(limits.maxBytes, Math.max(buf.length * 2, size + chunk.length))
        if (!charge(length - buf.length)) { done(busy()); return }
        const grown = new Uint8Array(length)
        grown.set(buf.subarray(0, size))
        buf = grown
      }
      buf.set(chunk, size)
      size += chunk.length
    }
    const onEnd = (): void => done()
    const onAbort = (): void => done(new ApiError(400, 'ERR_INCOMPLETE_BODY', 'the connection ended before the whole body arrived'))
    // a body trickled in a byte at a time would hold a connection for the whole request timeout
    const every = Math.max(100, Math.min(500, limits.graceMs))
    let lastCheck = started
    let stalled = 0
    const pace = setInterval(() => {
      const now = Date.now()
      // while this node's event loop was stuck it read nothing: not the sender's fault
      if (now - lastCheck > 2 * every) stalled += now - lastCheck - every
      lastCheck = now
      const late = now - started - stalled - limits.graceMs
      if (late > 0 && size < limits.minBytesPerSecond * late / 1000) {
        done(new ApiError(408, 'ERR_SLOW_BODY', `the body arrived slower than ${limits.minBytesPerSecond} bytes a second; send it at once`, {}, { close: true }))
      }
    }, every)
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort)
  })
  let text: string
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes) } catch { throw new ApiError(400, 'ERR_BAD_JSON', 'request body is not UTF-8') }
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError(400, 'ERR_BAD_JSON', 'request body is not valid JSON')
  }
}
