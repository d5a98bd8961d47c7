// End to end: bftnode as an operator installs it. `npm install -g <checkout>` (what `npm link`
// does) and `npm pack` + `npm install -g <tarball>` into a temporary prefix each give a `bftnode`
// that runs from outside the repository, and `bftnode version` / `--version` name the package
// version, the commit the build came from (recorded by `npm run build`) and the Node running it.
// And as a developer uses it: a project that depends on the tarball imports the client library
// by package name (bftnode/client, bftnode/client/node), with its types.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** Uses the library as an app would: by package name, offline (a key, a signed op, a pending store). */
const USE_CLIENT = `
import { BftClient, MemoryPendingStore, generateSeed, signerFromSeed, transferBody, signOp, decodeOp, toHex } from 'bftnode/client'
import { FilePendingStore } from 'bftnode/client/node'
const signer = signerFromSeed(generateSeed())
const op = signOp(signer, new Uint8Array(32), { account: signer.publicKey, seq: 1, deps: [], body: transferBody('0b'.repeat(32), 5n) })
const client = new BftClient({ api: 'http://127.0.0.1:1', signer, pending: new MemoryPendingStore() })
console.log(JSON.stringify({ seq: decodeOp(op.bytes).seq, account: client.account === toHex(signer.publicKey), file: typeof FilePendingStore }))
`

interface Run { code: number, out: string, err: string }

async function run (file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout = 60_000): Promise<Run> {
  return await new Promise(resolve => {
    execFile(file, args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 }, (err, out, errOut) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), out, err: errOut })
    })
  })
}

const npm = async (args: readonly string[], cwd: string, timeout = 120_000): Promise<Run> =>
  await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd, { ...process.env, npm_config_update_notifier: 'false' }, timeout)

describe('installing bftnode', () => {
  let dir: string
  let commit: string
  let version: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-install-'))
    // what `npm run build` does after tsc: record the commit of this build
    const info = await run(process.execPath, [join(ROOT, 'scripts', 'build-info.js')], ROOT)
    assert.equal(info.code, 0, info.err)
    // and the client library's type declarations (the other half of `npm run build`)
    const types = await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.client.json')], ROOT, process.env, 180_000)
    assert.equal(types.code, 0, types.out + types.err)
    const head = await run('git', ['rev-parse', '--short', 'HEAD'], ROOT)
    assert.equal(head.code, 0, head.err)
    commit = head.out.trim()
    version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const checkVersion = async (bftnode: string): Promise<void> => {
    // from a directory that has nothing to do with the repository
    const json = await run(bftnode, ['version', '--json'], dir)
    assert.equal(json.code, 0, json.err)
    const v = JSON.parse(json.out) as Record<string, unknown>
    assert.equal(v.version, version)
    assert.equal(v.commit, commit)
    assert.equal(v.node, process.versions.node)
    const text = await run(bftnode, ['--version'], dir)
    assert.equal(text.code, 0, text.err)
    assert.match(text.out, new RegExp(`^bftnode ${version.replace(/\./g, '\\.')}\ncommit  ${commit} \\(built .*\\)\nnode    v${process.versions.node} `))
  }

  /** From `cwd` (where node_modules/bftnode is), the library imports by package name and works. */
  const checkClient = async (cwd: string): Promise<void> => {
    const r = await run(process.execPath, ['--input-type=module', '-e', USE_CLIENT], cwd)
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(JSON.parse(r.out), { seq: 1, account: true, file: 'function' })
  }

  test('npm install -g <checkout> (as npm link does) puts a working bftnode on PATH', async () => {
    const prefix = join(dir, 'linked')
    const r = await npm(['install', '-g', '--prefix', prefix, ROOT, '--offline'], dir)
    assert.equal(r.code, 0, r.err)
    await checkVersion(join(prefix, 'bin', 'bftnode'))
    await checkClient(join(prefix, 'lib'))
  })

  test('npm pack holds what bftnode needs to run; installed from the tarball it runs anywhere', async (t) => {
    // --ignore-scripts: dist/ is built already (prepack would build it again)
    const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)
    assert.equal(packed.code, 0, packed.err)
    const [info] = JSON.parse(packed.out) as Array<{ filename: string, files: Array<{ path: string }> }>
    const files = info!.files.map(f => f.path)
    for (const needed of ['dist/src/client/index.js', 'dist/src/client/index.d.ts', 'dist/src/client/node.js', 'dist/src/client/node.d.ts', 'dist/src/client/pending-idb.js',
      'bin/bftnode.js', 'dist/src/cli/index.js', 'dist/src/cli/lifecycle.js', 'dist/src/net/polyfill.js', 'dist/build-info.json', 'contracts/token.lisp', 'package.json']) {
      assert.ok(files.includes(needed), `the package lacks ${needed}`)
    }
    assert.deepEqual(files.filter(f => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('src/') || f.endsWith('.map')), [])
    const prefix = join(dir, 'global')
    // dependencies come from npm's cache when it has them (the registry otherwise)
    const r = await npm(['install', '-g', '--prefix', prefix, join(dir, info!.filename), '--prefer-offline'], dir, 300_000)
    if (r.code !== 0 && /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(r.err)) {
      t.skip('no registry and an incomplete npm cache: the tarball cannot be installed here')
      return
    }
    assert.equal(r.code, 0, r.err)
    const bftnode = join(prefix, 'bin', 'bftnode')
    await checkVersion(bftnode)
    // and it does real work there: a test network's files
    const init = await run(bftnode, ['testnet', 'init', '--validators', '1', '--dir', join(dir, 'net')], dir, { ...process.env, BFTNODE_HOME: join(dir, 'home') })
    assert.equal(init.code, 0, init.err)
    assert.match(init.out, /1 validator\(s\), quorum 1/)

    // a project that depends on the tarball imports the client library by name, and type-checks against it
    const project = join(dir, 'project')
    await mkdir(project)
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'uses-bftnode', version: '1.0.0', private: true, type: 'module' }))
    const dep = await npm(['install', join(dir, info!.filename), '--prefer-offline'], project, 300_000)
    assert.equal(dep.code, 0, dep.err)
    await checkClient(project)
    await writeFile(join(project, 'app.ts'), `${USE_CLIENT}\nconst wrong: bigint = signer.publicKey\nexport { wrong }\n`)
    const tsc = await run(process.execPath, [TSC, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'app.ts'], project)
    // the one error is the deliberate one: every other name came with its type
    assert.deepEqual(tsc.out.trim().split('\n').filter(l => l.includes('error TS')).map(l => /error (TS[0-9]+)/.exec(l)![1]), ['TS2322'], tsc.out)
    assert.match(tsc.out, /Type 'Uint8Array.*' is not assignable to type 'bigint'/)
  })
})
