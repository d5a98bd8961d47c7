// HTTP/1.1 over a raw socket, for tests that send what no HTTP client would (broken request lines,
// bad encodings, trickled bytes) and check every byte that comes back.

import { connect } from 'node:net'

export interface Exchange {
  /** Everything the server sent. */
  bytes: Buffer
  /** The server closed the connection (rather than the test giving up). */
  closed: boolean
  ms: number
}

/** Sends `request` at once, half-closes, and collects the answer until the server closes. */
export async function exchange (port: number, request: string | Uint8Array, timeoutMs = 5000): Promise<Exchange> {
  const started = performance.now()
  return await new Promise(resolve => {
    const chunks: Uint8Array[] = []
    const socket = connect(port, '127.0.0.1', () => { socket.end(request) })
    let settled = false
    const finish = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ bytes: Buffer.concat(chunks), closed, ms: performance.now() - started })
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.on('data', (d: Buffer) => chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)))
    // a reset after the answer (the server closed with our bytes unread) still counts as closed
    socket.on('error', () => finish(true))
    socket.on('close', () => finish(true))
  })
}

export interface RawResponse {
  status: number
  headers: Map<string, string[]>
  body: Buffer
  header (name: string): string | undefined
}

/**
 * Parses every response in `bytes`; throws on anything that is not well-formed HTTP/1.1.
 * `headRequest` says which answers are to HEAD requests (no body), one flag per answer in order.
 * Nothing may follow an answer with `Connection: close`, but the body of a raw error answer to a
 * HEAD request that the parser refused (the server cannot know it was HEAD).
 */
export function parseResponses (bytes: Buffer, headRequest: boolean | readonly boolean[] = false): RawResponse[] {
  const out: RawResponse[] = []
  let at = 0
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at)
    if (end === -1) throw new Error(`response head not terminated: ${JSON.stringify(bytes.subarray(at, at + 200).toString('latin1'))}`)
    const lines = bytes.subarray(at, end).toString('latin1').split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(lines[0]!)
    if (m === null) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`)
    const headers = new Map<string, string[]>()
    for (const line of lines.slice(1)) {
      const h = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line)
      if (h === null) throw new Error(`bad header line: ${JSON.stringify(line)}`)
      const name = h[1]!.toLowerCase()
      headers.set(name, [...(headers.get(name) ?? []), h[2]!])
    }
    const status = Number(m[1])
    at = end + 4
    let body: Buffer
    const length = headers.get('content-length')
    const head = typeof headRequest === 'boolean' ? headRequest : headRequest[out.length] ?? false
    const noBody = head || status === 204 || status === 304 || (status >= 100 && status < 200)
    if (noBody) {
      body = Buffer.alloc(0)
    } else if (headers.get('transfer-encoding')?.some(v => /chunked/i.test(v)) === true) {
      const parts: Uint8Array[] = []
      // an event stream never ends by design: what arrived before the client hung up is its body
      const stream = headers.get('content-type')?.some(v => v.startsWith('text/event-stream')) === true
      for (;;) {
        const eol = bytes.indexOf('\r\n', at)
        if (eol === -1 && stream) { at = bytes.length; break }
        if (eol === -1) throw new Error('chunked body cut short')
        const size = parseInt(bytes.subarray(at, eol).toString('latin1'), 16)
        if (!Number.isInteger(size)) throw new Error('bad chunk size')
        at = eol + 2
        if (size === 0) { at = bytes.indexOf('\r\n', at) + 2; break }
        parts.push(new Uint8Array(bytes.buffer, bytes.byteOffset + at, size))
        at += size + 2
      }
      body = Buffer.concat(parts)
    } else if (length !== undefined) {
      if (length.length !== 1 || !/^\d+$/.test(length[0]!)) throw new Error(`bad content-length: ${JSON.stringify(length)}`)
      const n = Number(length[0])
      if (at + n > bytes.length) throw new Error(`body cut short: ${bytes.length - at} of ${n} bytes`)
      body = bytes.subarray(at, at + n)
      at += n
    } else {
      body = bytes.subarray(at)
      at = bytes.length
    }
    if (status >= 100 && status < 200) continue
    out.push({ status, headers, body, header: (name: string) => headers.get(name)?.[0] })
    if (headers.get('connection')?.some(v => /close/i.test(v)) === true) {
      if (at < bytes.length && !head) throw new Error(`${bytes.length - at} bytes after a Connection: close answer`)
      break
    }
  }
  return out
}

/** The one response to a request, which must carry a JSON error with a code when it is a 4xx/5xx. */
export function errorCode (r: RawResponse): string {
  if (r.header('content-type')?.startsWith('application/json') !== true) throw new Error(`${r.status} without a JSON content type`)
  const json = JSON.parse(r.body.toString('utf8')) as { error?: { code?: unknown, message?: unknown } }
  if (typeof json.error?.code !== 'string' || typeof json.error.message !== 'string') throw new Error(`${r.status} body without error.code and error.message: ${r.body.toString('utf8').slice(0, 200)}`)
  return json.error.code
}
