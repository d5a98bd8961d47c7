// Commands that must refuse rather than leave damage behind: `bftnode start` with a key file named
// but no genesis (it made a development network and replaced the key), and `testnet init` with
// ports that cannot be (it wrote "apiPort": null and exited 0, and no node could start).

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sealKey } from '../../src/client/keyfile.js'
import { runCli } from '../support/testnet.js'

describe('commands that refuse', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-guards-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    delete env.BFTNODE_PASSPHRASE
    delete env.BFTNODE_CONFIG
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  test('start with an existing key named and no genesis does not replace the key', async () => {
    const keys = join(dir, 'keys')
    await mkdir(keys)
    const key = join(keys, 'validator.json')
    const text = JSON.stringify(await sealKey('validator', new Uint8Array(32).fill(7), undefined), null, 2) + '\n'
    await writeFile(key, text, { mode: 0o600 })
    for (const args of [['--key', key], ['--key-file', key]]) {
      const r = await runCli(env, dir, ['start', ...args, '--data-dir', join(dir, 'data'), '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'])
      assert.equal(r.code, 1, `exit ${r.code}; ${r.out}${r.err}`)
      assert.match(r.err, /not replacing it/)
      assert.equal(await readFile(key, 'utf8'), text, 'the key file is unchanged')
    }
    const viaEnv = await runCli({ ...env, BFTNODE_KEY: key }, dir, ['start', '--data-dir', join(dir, 'data'), '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'])
    assert.equal(viaEnv.code, 1, `exit ${viaEnv.code}; ${viaEnv.out}${viaEnv.err}`)
    assert.equal(await readFile(key, 'utf8'), text, 'the key file is unchanged')
  })

  test('testnet init refuses ports that are not ports, out of range or overlapping, and writes nothing', async () => {
    const bad = [['--api-port', 'abc'], ['--base-port', '0'], ['--base-port', '65534'], ['--api-port', '7101'], ['--api-port', '1.5']]
    for (const [i, args] of bad.entries()) {
      const net = join(dir, `net${i}`)
      const r = await runCli(env, dir, ['testnet', 'init', '--validators', '4', '--dir', net, ...args])
      assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}; ${r.out}${r.err}`)
      assert.match(r.err, /port/)
      assert.equal(await access(join(net, 'genesis.json')).then(() => true, () => false), false, `${args.join(' ')}: a network was written`)
    }
  })
})
