// Who may call the API: browsers from the origins an operator lists (CORS, off by default),
// clients holding the bearer token when one is set, and a loud warning when the API listens
// beyond this machine. The API takes signed ops and shows the node's state, but it never holds a
// user's key: the token guards the node's resources and its view, not anyone's money.

import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { ApiError } from './errors.js'
import { singleHeader } from './request.js'

export interface AccessOptions {
  /** Origins a browser may call from: [] none (no CORS headers at all), ['*'] any. */
  cors?: readonly string[]
  /** When set, requests other than the public ones must carry `Authorization: Bearer <token>`. */
  token?: string
}

/** How long a browser may cache a preflight answer (s). */
const PREFLIGHT_MAX_AGE_S = 600
const ALLOWED_HEADERS = 'Authorization, Content-Type'
const EXPOSED_HEADERS = 'Retry-After, WWW-Authenticate, Allow'

const digest = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s, 'utf8').digest())
const normalOrigin = (o: string): string => o.trim().replace(/\/+$/, '').toLowerCase()

export class Access {
  private readonly anyOrigin: boolean
  private readonly origins: Set<string>
  private readonly tokenDigest: Uint8Array | undefined

  constructor (opts: AccessOptions = {}) {
    const cors = opts.cors ?? []
    this.anyOrigin = cors.includes('*')
    this.origins = new Set(cors.map(normalOrigin))
    this.tokenDigest = opts.token === undefined ? undefined : digest(opts.token)
  }

  get corsEnabled (): boolean { return this.anyOrigin || this.origins.size > 0 }
  get tokenRequired (): boolean { return this.tokenDigest !== undefined }

  /** CORS headers for any answer to this request: none at all unless CORS is configured. */
  corsHeaders (req: IncomingMessage): Record<string, string> {
    if (!this.corsEnabled) return {}
    const origin = singleHeader(req, 'origin')
    // caches must not hand one origin's answer to another
    const headers: Record<string, string> = { vary: 'Origin' }
    if (origin !== undefined && (this.anyOrigin || this.origins.has(normalOrigin(origin)))) {
      headers['access-control-allow-origin'] = origin
      headers['access-control-expose-headers'] = EXPOSED_HEADERS
    }
    return headers
  }

  /** The answer to OPTIONS: a CORS preflight for an allowed origin, else the methods allowed. */
  preflight (req: IncomingMessage, allow: readonly string[]): { status: number, headers: Record<string, string> } {
    const headers: Record<string, string> = { allow: allow.join(', '), ...this.corsHeaders(req) }
    const isPreflight = singleHeader(req, 'origin') !== undefined && req.headers['access-control-request-method'] !== undefined
    if (isPreflight && this.corsEnabled) {
      if (headers['access-control-allow-origin'] === undefined) throw new ApiError(403, 'ERR_ORIGIN_NOT_ALLOWED', 'this origin is not in the node\'s apiCors list')
      headers['access-control-allow-methods'] = allow.join(', ')
      headers['access-control-allow-headers'] = ALLOWED_HEADERS
      headers['access-control-max-age'] = String(PREFLIGHT_MAX_AGE_S)
    }
    return { status: 204, headers }
  }

  /** Throws 401 unless the request is public or carries the token; compared in constant time. */
  authorize (req: IncomingMessage, method: string, segments: readonly string[]): void {
    if (this.tokenDigest === undefined || isPublic(method, segments)) return
    const challenge = { 'www-authenticate': 'Bearer realm="bftnode"' }
    const header = singleHeader(req, 'authorization')
    if (header === undefined) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'this node requires an API token: send Authorization: Bearer <token>', {}, { headers: challenge })
    const m = /^bearer +(\S+) *$/i.exec(header)
    // equal-length digests, so neither the length nor the first differing byte shows in the timing
    if (m === null || !timingSafeEqual(digest(m[1]!), this.tokenDigest)) {
      throw new ApiError(401, 'ERR_UNAUTHORIZED', 'the API token is wrong', {}, { headers: { 'www-authenticate': 'Bearer realm="bftnode", error="invalid_token"' } })
    }
  }
}

/**
 * Requests that need no token: liveness and readiness for probes, and the dashboard's static
 * files (the page then asks for the token; its data comes from /v1/dashboard, which needs it).
 */
export function isPublic (method: string, segments: readonly string[]): boolean {
  if (method === 'OPTIONS') return true
  if (method !== 'GET' && method !== 'HEAD') return false
  if (segments[0] === 'dashboard') return true
  return segments.length === 2 && segments[0] === 'v1' && (segments[1] === 'health' || segments[1] === 'ready')
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: reachable from this machine only. */
export function isLoopback (host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (h === 'localhost') return true
  if (isIP(h) === 6 && (h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h))) return true
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h
  return isIP(v4) === 4 && v4.startsWith('127.')
}

/** What to tell an operator whose API listens beyond loopback; undefined when it does not. */
export function exposureWarning (host: string, opts: AccessOptions): string | undefined {
  if (isLoopback(host)) return undefined
  const where = host === '0.0.0.0' || host === '::' || host === '' ? 'every network interface' : host
  const cors = (opts.cors ?? []).includes('*') ? '; CORS allows any origin' : ''
  if (opts.token === undefined) {
    return `the API listens on ${where} with NO apiToken: anyone who can reach it can read the node's state and load it with requests${cors}. Set apiToken (BFTNODE_API_TOKEN), or keep apiHost on 127.0.0.1 and use an SSH tunnel or a reverse proxy with TLS`
  }
  return `the API listens on ${where}: requests need the token, but it travels in clear text over plain HTTP${cors}; put a reverse proxy with TLS in front, or keep apiHost on 127.0.0.1`
}
