// How the API's HTTP server treats connections: timeouts that actually fire, a cap on open
// sockets, and a JSON answer with a code for the requests Node's parser refuses before any route
// sees them (Node's own answers have no body, and some, like CONNECT, none at all).

import { STATUS_CODES } from 'node:http'
import type { IncomingMessage, Server, ServerOptions } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../node/log.js'

export interface ConnectionLimits {
  /** All request headers must arrive within this (ms). */
  headersTimeoutMs: number
  /** The whole request, body included, must arrive within this (ms); answers may take longer. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number
  /**
   * How often the timeouts above are checked (ms). Node's default of 30 s let a client sending a
   * header byte a second hold a connection three times the headers timeout.
   */
  checkIntervalMs: number
  /** Open connections at once; more are refused (closed at once) so a client cannot exhaust sockets. */
  maxConnections: number
  /** Request line and headers together (bytes); more is answered 431. */
  maxHeaderBytes: number
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  // the cluster benchmark keeps up to 512 keep-alive sockets to each node
  maxConnections: 1024,
  maxHeaderBytes: 16 * 1024
}

/** Options for `createServer`; some Node 20 has are missing from its type definitions. */
export function serverOptions (limits: ConnectionLimits): ServerOptions {
  const options: ServerOptions & { headersTimeout: number, requireHostHeader: boolean } = {
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: limits.checkIntervalMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // checked in the handler instead, to answer with a JSON error
    requireHostHeader: false
  }
  return options
}

/** A whole HTTP response written straight to a socket, then the connection closes. */
export function rawError (status: number, code: string, message: string, headers: Record<string, string> = {}): string {
  const body = JSON.stringify({ error: { code, message } })
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)
  ]
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

/** Node's parser errors (llhttp `HPE_*` codes, timeouts) as the answer a client gets. */
function answerFor (code: string | undefined): { status: number, code: string, message: string, headers?: Record<string, string> } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW': return { status: 431, code: 'ERR_HEADERS_TOO_LARGE', message: 'the request line and headers are too large' }
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW': return { status: 413, code: 'ERR_TOO_LARGE', message: 'chunk extensions too large' }
    case 'ERR_HTTP_REQUEST_TIMEOUT': return { status: 408, code: 'ERR_TIMEOUT', message: 'the request did not arrive in time' }
    case 'HPE_INVALID_METHOD': return { status: 405, code: 'ERR_METHOD_NOT_ALLOWED', message: 'unknown method', headers: { allow: 'GET, HEAD, POST, OPTIONS' } }
    default: return { status: 400, code: 'ERR_BAD_HTTP', message: `malformed HTTP request${code === undefined ? '' : ` (${code})`}` }
  }
}

const answered = new WeakSet<Duplex>()

/** A socket gets one raw answer at most, and is closed soon after even if the peer reads nothing. */
function answerRaw (socket: Duplex, response: string | undefined): void {
  if (answered.has(socket)) return
  answered.add(socket)
  if (response !== undefined && socket.writable) socket.end(response)
  setTimeout(() => socket.destroy(), 1000).unref()
}

export function guardConnections (server: Server, limits: ConnectionLimits, log: Logger): void {
  server.maxConnections = limits.maxConnections
  server.maxHeadersCount = 100
  let refusedLogged = 0
  server.on('drop', () => {
    // one line a minute at most: a flood must not flood the log too
    if (Date.now() - refusedLogged > 60_000) {
      refusedLogged = Date.now()
      log.warn('API connection refused: too many open connections', { maxConnections: limits.maxConnections })
    }
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') { socket.destroy(); return }
    // as Node does: write nothing if a response on this socket has begun, or it would be corrupted
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    const a = answerFor(err.code)
    answerRaw(socket, inFlight?.headersSent === true ? undefined : rawError(a.status, a.code, a.message, a.headers))
  })
  // without a listener Node closes a CONNECT without a word
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    answerRaw(socket, rawError(405, 'ERR_METHOD_NOT_ALLOWED', 'CONNECT is not supported: this is not a proxy', { allow: 'GET, HEAD, POST, OPTIONS' }))
  })
}
