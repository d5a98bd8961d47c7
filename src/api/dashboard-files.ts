// The dashboard's static files (static/dashboard: plain HTML, JS and CSS, no build step), served
// at /dashboard on the API port. Only the files named in FILES are served, so no request path
// ever reaches the file system; the Content-Security-Policy lets the page load and fetch from
// this origin only.

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Every file the dashboard has, with its content type. `/dashboard` itself is index.html. */
export const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml'
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/**
 * The static/dashboard folder of the package this module belongs to: found by walking up from
 * the module's own URL to the package root (the first folder with a package.json), so it works
 * from src/ (../../), from dist/src/ (../../../) and from an npm-installed package alike,
 * whatever the working directory.
 */
export function locateDashboardFiles (moduleUrl: string = import.meta.url): string | undefined {
  let dir = dirname(fileURLToPath(moduleUrl))
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, 'static', 'dashboard')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    if (existsSync(join(dir, 'package.json'))) break
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return undefined
}

/** The files, read once: a few small files, and an answer that needs no I/O is never cut off. */
let loaded: ReadonlyMap<string, Buffer> | undefined | null = null

function loadFiles (): ReadonlyMap<string, Buffer> | undefined {
  const dir = locateDashboardFiles()
  if (dir === undefined) return undefined
  return new Map(Object.keys(FILES).map(name => [name, readFileSync(join(dir, name))]))
}

/**
 * Answers GET or HEAD /dashboard and /dashboard/<file>. `rest` is the path after /dashboard,
 * split on slashes. A missing file, a disabled dashboard or a folder that cannot be found is a
 * 404 with the API's JSON error.
 */
export function serveDashboardFile (req: IncomingMessage, res: ServerResponse, rest: readonly string[], enabled: boolean): void {
  if (!enabled) return notFound(res, 'the dashboard is turned off on this node (dashboard: false)')
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return json(res, 405, { error: { code: 'ERR_METHOD_NOT_ALLOWED', message: 'the dashboard answers GET and HEAD only' } }, { allow: 'GET, HEAD' })
  }
  const name = rest.length === 0 ? 'index.html' : rest.length === 1 ? rest[0]! : undefined
  const type = name === undefined || !Object.hasOwn(FILES, name) ? undefined : FILES[name]
  if (name === undefined || type === undefined) return notFound(res, `no dashboard file /dashboard/${rest.join('/')}`)
  if (loaded === null) loaded = loadFiles()
  const body = loaded?.get(name)
  if (body === undefined) return notFound(res, 'the dashboard files (static/dashboard) are missing from this installation')
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache'
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

function notFound (res: ServerResponse, message: string): void {
  json(res, 404, { error: { code: 'ERR_NOT_FOUND', message } })
}

function json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}
