// The deployment files, checked against what bftnode really does. compose.yaml: its init service's
// `bftnode testnet init` is run for real (into a temporary dir standing in for the volume), and each
// validator service must start from a config that run wrote, with its API published on 127.0.0.1
// and health-checked on that config's port. The Dockerfile: node:20-slim stages, a non-root user,
// the data volume, the ports, a health check whose script works. The systemd unit: systemd-analyze
// verify where there is one, and the fields a supervised node depends on.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseJsonc } from 'jsonc-parser'
import { startCommand } from '../../src/cli/cmds/start.js'
import { FILES as DASHBOARD_FILES } from '../../src/api/dashboard-files.js'
import { STOP_GRACE_MS } from '../../src/cli/lifecycle.js'
import { BIN, runCli } from '../support/testnet.js'
import { parseYamlSubset } from '../support/yaml-subset.js'
import type { YamlValue } from '../support/yaml-subset.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

type Service = Record<string, YamlValue> & { command?: string[], entrypoint?: string[], volumes?: string[], ports?: string[], environment?: Record<string, string> }

interface Run { code: number, out: string, err: string }
async function run (file: string, args: readonly string[]): Promise<Run> {
  return await new Promise(resolve => {
    execFile(file, args, { cwd: ROOT, timeout: 60_000 }, (err, out, errOut) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 127), out, err: errOut })
    })
  })
}

/** Every `--flag` of a command line for `bftnode start` must be one of its options. */
function assertStartFlags (args: readonly string[]): void {
  const options = startCommand.options ?? {}
  for (const arg of args.filter(a => a.startsWith('--'))) {
    const name = arg.slice(2)
    const known = name in options || (name.startsWith('no-') && options[name.slice(3)]?.type === 'boolean')
    assert.ok(known, `bftnode start has no option ${arg}`)
  }
}

/** The Dockerfile as instructions: continuation lines joined, comments dropped. */
function instructions (dockerfile: string): Array<{ op: string, args: string }> {
  return dockerfile.replace(/\\\n/g, ' ').split('\n')
    .filter(l => l.trim() !== '' && !l.trim().startsWith('#'))
    .map(l => { const m = /^\s*([A-Z]+)\s+(.*)$/.exec(l); assert.ok(m !== null, `not an instruction: ${l}`); return { op: m[1]!, args: m[2]!.trim() } })
}

describe('deployment files', () => {
  let dir: string
  let compose: { services: Record<string, Service>, volumes: Record<string, YamlValue> }
  let docker: Array<{ op: string, args: string }>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-deploy-'))
    compose = parseYamlSubset(await readFile(join(ROOT, 'compose.yaml'), 'utf8')) as unknown as typeof compose
    docker = instructions(await readFile(join(ROOT, 'Dockerfile'), 'utf8'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('compose.yaml: every validator starts from a config its init service\'s `testnet init` writes', async () => {
    const home = docker.find(i => i.op === 'ENV' && /BFTNODE_HOME=/.test(i.args))?.args.match(/BFTNODE_HOME=(\S+)/)?.[1]
    assert.equal(home, '/data', 'the image keeps its state (and the wallet) in /data')
    const init = compose.services.init!
    const script = init.command!.join(' ')
    const initArgs = /exec bftnode (testnet init .*)$/.exec(script)?.[1]?.split(' ')
    assert.ok(initArgs !== undefined, `init does not run bftnode testnet init: ${script}`)
    const arg = (name: string): string => initArgs[initArgs.indexOf(name) + 1]!
    const volume = init.volumes!.find(v => v.endsWith(':/data'))?.split(':')[0]
    assert.ok(volume !== undefined && volume in compose.volumes, 'init writes into a named volume at /data')
    // the volume, here: /data/... in the containers is <dir>/data/...
    const local = (p: string): string => { assert.ok(p.startsWith('/data/'), p); return join(dir, 'data', p.slice('/data/'.length)) }
    const env = { ...process.env, BFTNODE_HOME: join(dir, 'data') }
    const ran = await runCli(env, dir, initArgs.map(a => a.startsWith('/data/') ? local(a) : a))
    assert.equal(ran.code, 0, ran.err)
    // it skips a network already written: a second `up` keeps it
    assert.match(script, new RegExp(`^test -f ${arg('--dir')}/genesis\\.json \\|\\| exec bftnode`))

    const validators = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'start')
    assert.equal(validators.length, Number(arg('--validators')))
    const published = compose.services.netns!.ports!
    const listens = new Set<string>()
    for (const [name, s] of validators) {
      const cmd = s.command!
      assertStartFlags(cmd)
      const configPath = cmd[cmd.indexOf('--config') + 1]!
      const config = parseJsonc(await readFile(local(configPath), 'utf8')) as { apiPort: number, listen: string[], bootstrap: string[], keyFile: string, genesisFile: string }
      assert.equal(s.volumes?.includes(`${volume}:/data`), true, `${name} mounts the network's volume`)
      assert.equal(s.network_mode, 'service:netns', `${name} shares the namespace the configs' 127.0.0.1 addresses assume`)
      assert.equal(cmd[cmd.indexOf('--api-host') + 1], '0.0.0.0', `${name}'s API must listen beyond the container's loopback to be published`)
      assert.ok(published.includes(`127.0.0.1:${config.apiPort}:${config.apiPort}`), `${name}'s API port ${config.apiPort} is published on 127.0.0.1`)
      assert.equal(s.environment?.HEALTHCHECK_URL, `http://127.0.0.1:${config.apiPort}/v1/health`, `${name} is health-checked on its own API`)
      assert.deepEqual(s.depends_on, { init: { condition: 'service_completed_successfully' }, netns: { condition: 'service_started' } })
      assert.ok(/^[0-9]+s$/.test(String(s.stop_grace_period)) && parseInt(String(s.stop_grace_period)) * 1000 > STOP_GRACE_MS, 'docker waits longer than bftnode\'s own grace period')
      for (const l of config.listen) listens.add(l)
    }
    assert.equal(listens.size, validators.length, 'each validator listens on its own port')
    // the bootstrap addresses testnet init wrote are the other validators' listen addresses
    for (const [, s] of validators) {
      const cmd = s.command!
      const config = parseJsonc(await readFile(local(cmd[cmd.indexOf('--config') + 1]!), 'utf8')) as { listen: string[], bootstrap: string[] }
      for (const b of config.bootstrap) assert.ok(listens.has(b.split('/p2p/')[0]!), `bootstrap ${b} is a validator's listen address`)
    }
    for (const p of Object.values(compose.services).flatMap(s => s.ports ?? [])) assert.match(p, /^127\.0\.0\.1:/, `port ${p} is published beyond loopback`)
  })

  test('compose.yaml: docker compose config accepts it (when the compose plugin is installed)', async (t) => {
    const version = await run('docker', ['compose', 'version'])
    if (version.code !== 0) { t.skip('no docker compose plugin here'); return }
    const r = await run('docker', ['compose', '-f', join(ROOT, 'compose.yaml'), 'config', '--quiet'])
    assert.equal(r.code, 0, r.err)
  })

  test('Dockerfile: node:20-slim stages, a non-root user, the data volume, the ports, a health check', async () => {
    const arg = docker.find(i => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))
    assert.equal(arg?.args, 'NODE_IMAGE=node:20-slim')
    const froms = docker.filter(i => i.op === 'FROM')
    assert.ok(froms.length >= 2 && froms.every(f => f.args.startsWith('$' + '{NODE_IMAGE}')), 'multi-stage, every stage on node:20-slim')
    const user = docker.filter(i => i.op === 'USER').at(-1)?.args
    assert.ok(user !== undefined && user !== 'root' && user !== '0', 'runs as a non-root user')
    assert.match(docker.find(i => i.op === 'VOLUME')?.args ?? '', /"\/data"/)
    assert.deepEqual(docker.find(i => i.op === 'EXPOSE')?.args.split(/\s+/), ['7100', '7200'])
    assert.equal(docker.find(i => i.op === 'STOPSIGNAL')?.args, 'SIGTERM')
    assert.equal(docker.find(i => i.op === 'ENTRYPOINT')?.args, '["bftnode"]')
    assertStartFlags(JSON.parse(docker.find(i => i.op === 'CMD')!.args) as string[])
    // everything the Dockerfile copies from the context is let through by .dockerignore
    const ignore = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
    assert.equal(ignore[0], '*', '.dockerignore lets through only what is named')
    for (const copy of docker.filter(i => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      for (const src of copy.args.split(/\s+/).slice(0, -1)) assert.ok(ignore.includes(`!${src}`) || ignore.includes(`!${src}/`), `COPY ${src} is excluded by .dockerignore`)
    }
  })

  test('the package and the image hold the dashboard\'s static files, which the node serves from its package root', async () => {
    // dashboard-files.ts looks for static/dashboard beside dist/ in the installed package
    const packed = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json', '--loglevel=error'])
    assert.equal(packed.code, 0, packed.err)
    const files = (JSON.parse(packed.out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(f => f.path)
    for (const name of Object.keys(DASHBOARD_FILES)) assert.ok(files.includes(`static/dashboard/${name}`), `npm pack lacks static/dashboard/${name}`)
    // the last stage, with WORKDIR /app, copies static/ from the context to /app/static
    const last = docker.slice(docker.map(i => i.op).lastIndexOf('FROM'))
    assert.equal(last.find(i => i.op === 'WORKDIR')?.args, '/app')
    const copy = last.find(i => i.op === 'COPY' && !i.args.startsWith('--from') && i.args.split(/\s+/)[0] === 'static')
    assert.ok(copy !== undefined, 'the image does not copy static/ (the dashboard answers 404 without it)')
    assert.ok(['./static', './static/', '/app/static', '/app/static/'].includes(copy.args.split(/\s+/).at(-1)!), `static/ copied to ${copy.args}`)
  })

  test('Dockerfile: the health check passes on a 200 from /v1/health at HEALTHCHECK_URL and fails otherwise', async () => {
    const hc = docker.find(i => i.op === 'HEALTHCHECK')!.args
    const cmd = JSON.parse(hc.slice(hc.indexOf('CMD ') + 4)) as string[]
    assert.equal(cmd[0], 'node')
    let status = 200
    const paths: string[] = []
    const server = createServer((req, res) => { paths.push(req.url ?? ''); res.writeHead(status).end('{}') })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/health`
    const check = async (env: NodeJS.ProcessEnv): Promise<number | null> => await new Promise(resolve => {
      spawn(process.execPath, cmd.slice(1), { env, stdio: 'ignore' }).once('close', code => resolve(code))
    })
    try {
      assert.equal(await check({ ...process.env, HEALTHCHECK_URL: url }), 0)
      status = 503
      assert.equal(await check({ ...process.env, HEALTHCHECK_URL: url }), 1)
      assert.deepEqual(paths, ['/v1/health', '/v1/health'])
    } finally {
      server.close()
    }
    // nothing listening: unhealthy, not a hang
    assert.equal(await check({ ...process.env, HEALTHCHECK_URL: url }), 1)
  })

  test('systemd unit: the fields a supervised node depends on, and systemd-analyze verify', async (t) => {
    const unit = await readFile(join(ROOT, 'deploy', 'systemd', 'bftnode.service'), 'utf8')
    const fields = new Map<string, string[]>()
    for (const line of unit.split('\n')) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(line)
      if (m !== null) fields.set(m[1]!, [...(fields.get(m[1]!) ?? []), m[2]!])
    }
    const one = (k: string): string | undefined => fields.get(k)?.[0]
    assert.equal(one('Type'), 'simple')
    assert.equal(one('Restart'), 'on-failure')
    assert.ok(one('User') !== undefined && one('User') !== 'root', 'a dedicated user')
    assert.equal(one('KillSignal'), 'SIGTERM')
    assert.ok(Number(one('TimeoutStopSec')) * 1000 > STOP_GRACE_MS, 'systemd waits longer than bftnode\'s own grace period')
    assert.match(one('EnvironmentFile') ?? '', /^-?\/etc\/bftnode\/bftnode\.env$/)
    assert.match(one('ExecStart') ?? '', /\/bftnode start --config \/etc\/bftnode\/config\.json$/)
    const state = `/var/lib/${one('StateDirectory')!}`
    assert.equal(one('ReadWritePaths'), state)
    assert.ok(fields.get('Environment')?.includes(`BFTNODE_HOME=${state}`), 'the node\'s home is the writable state dir')
    assert.equal(one('ProtectSystem'), 'strict', 'everything but the state dir read-only')

    const version = await run('systemd-analyze', ['--version'])
    if (version.code !== 0) { t.skip('no systemd-analyze here: only the fields were checked'); return }
    // verify checks ExecStart's binary exists: point it at this checkout's
    const copy = join(dir, 'bftnode.service')
    await writeFile(copy, unit.replace(/^ExecStart=\S+/m, `ExecStart=${BIN}`))
    const r = await run('systemd-analyze', ['verify', copy])
    assert.equal(r.code, 0, r.err)
    assert.equal(r.err.trim(), '', 'systemd-analyze verify has no warnings')
  })
})
