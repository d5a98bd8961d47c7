// A tiny static server for the example (no bundler): the page and its main.js from this folder,
// the built library from dist/, and the few packages it imports from node_modules/, which the
// page's import map names. Run `npx tsc -p .` first, then `node examples/browser-transfer/serve.js`
// (--port N; default 8081) and open the address it prints. Only GET, only these folders.

import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** URL prefix -> folder on disk. Everything else is looked up in this folder. */
const MOUNTS = [
  ['/dist/src/', join(ROOT, 'dist', 'src')],
  ['/node_modules/@noble/curves/', join(ROOT, 'node_modules', '@noble', 'curves')],
  ['/node_modules/@noble/hashes/', join(ROOT, 'node_modules', '@noble', 'hashes')],
  ['/node_modules/@noble/ciphers/', join(ROOT, 'node_modules', '@noble', 'ciphers')],
  ['/node_modules/cborg/', join(ROOT, 'node_modules', 'cborg')],
  ['/', HERE]
]

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json', '.css': 'text/css' }

function fileFor (pathname) {
  const path = pathname.endsWith('/') ? `${pathname}index.html` : pathname
  for (const [prefix, dir] of MOUNTS) {
    if (!path.startsWith(prefix)) continue
    let rest
    // a bad escape (%E0%A4%A) would throw out of the request handler and stop the server
    try { rest = decodeURIComponent(path.slice(prefix.length)) } catch { return undefined }
    const file = normalize(join(dir, rest))
    // no way out of the folder (../)
    return file.startsWith(dir.endsWith(sep) ? dir : dir + sep) ? file : undefined
  }
  return undefined
}

export function serve (port = 8081, host = '127.0.0.1') {
  const server = createServer((req, res) => {
    const file = req.method === 'GET' ? fileFor(new URL(req.url ?? '/', 'http://x').pathname) : undefined
    const fail = (status) => { res.writeHead(status, { 'content-type': 'text/plain' }); res.end(`${status}\n`) }
    if (file === undefined || !(extname(file) in TYPES)) return fail(404)
    stat(file).then(s => {
      if (!s.isFile()) return fail(404)
      res.writeHead(200, { 'content-type': TYPES[extname(file)], 'content-length': s.size, 'cache-control': 'no-store' })
      createReadStream(file).pipe(res)
    }, () => fail(404))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve(server))
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--port')
  const server = await serve(at === -1 ? 8081 : Number(process.argv[at + 1]))
  const { port } = server.address()
  console.log(`serving the example at http://127.0.0.1:${port}/`)
}
