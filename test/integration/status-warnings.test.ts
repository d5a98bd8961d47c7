// What a lone validator of a 4-validator network says, on real libp2p over 127.0.0.1: a status
// line at its interval, "no peers" and "below quorum" once each (not at every check), every failed
// dial at debug with libp2p's reason and a summary at info; then, as two more validators come up,
// "quorum restored"; and a peer sending garbage is named with a count.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import '../../src/net/polyfill.js'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { toHex } from '../../src/core/crypto/hash.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import type { Genesis } from '../../src/core/ledger/genesis.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import type { NodeConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { peerIdForSeed } from '../../src/net/network.js'
import { freePorts, waitFor } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'
import { rawPeer } from '../support/hosts.js'
import { recordingLogger } from '../support/recording-logger.js'
import type { LogLine } from '../support/recording-logger.js'

const STATUS_MS = 300

describe('a lone validator of four explains itself', () => {
  let dir: string
  let genesis: Genesis
  let configs: NodeConfig[]
  const seeds = [0, 1, 2, 3].map(i => seedOf('it-status', i))
  const nodes: BftNode[] = []
  const log = recordingLogger()
  const said = (level: string, module: string, pattern: RegExp): LogLine[] => log.lines.filter(l => l.level === level && l.module === module && pattern.test(l.msg))

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-status-'))
    genesis = makeGenesis({
      network: 'status-warnings',
      validators: seeds.map(s => sodiumScheme.publicKeyOf(s)),
      mintAuthority: sodiumScheme.publicKeyOf(seedOf('it-status-mint', 0)),
      balances: []
    })
    const ports = await freePorts(4)
    const ids = await Promise.all(seeds.map(peerIdForSeed))
    configs = seeds.map((_, i) => ({
      ...defaultConfig(join(dir, `n${i}`)),
      listen: [`/ip4/127.0.0.1/tcp/${ports[i]!}`],
      bootstrap: ports.flatMap((p, j) => j === i ? [] : [`/ip4/127.0.0.1/tcp/${p}/p2p/${ids[j]!}`]),
      mdns: false,
      statusIntervalMs: STATUS_MS
    }))
    nodes.push(await BftNode.start(configs[0]!, genesis, seeds[0]!, log))
  })

  after(async () => {
    await Promise.all(nodes.map(async n => await n.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  test('alone, it prints its status, warns of no peers and of a lost quorum once each, and says why dials fail', async () => {
    await waitFor('the below-quorum warning', 15_000, () => said('warn', 'status', /^below quorum/).length > 0)
    // a new data dir: on probation it does not vote, so its own vote does not count
    assert.equal(said('warn', 'status', /^below quorum/)[0]!.msg, 'below quorum: 0 of 3 other validators connected, 3 needed (this validator does not vote yet, so its own vote does not count); no op can be certified until more connect')
    assert.equal(said('warn', 'status', /^no peers connected/).length, 1)
    assert.match(said('info', 'status', /^status:/)[0]!.msg, /^status: no peers \| peers 0 \| validators 0\/3 \| delivered 0 \(\+0\/s\) \| queued 0 \| checkpoint none$/)
    // every failed dial at debug, with the address and what the socket said
    const dials = log.lines.filter(l => l.level === 'debug' && l.module === 'net' && l.msg === 'dial failed')
    assert.ok(dials.length >= 3, `${dials.length} failed dials logged`)
    assert.ok(dials.every(d => /ECONNREFUSED/.test(String(d.fields.reason))), JSON.stringify(dials[0]))
    for (const address of configs[0]!.bootstrap) assert.ok(dials.some(d => d.fields.address === address), `a failed dial to ${address}`)
    // the summary, once bootstrap peers had their grace period
    await waitFor('the unreachable bootstrap peers summed up', 15_000, () => said('info', 'net', /^could not reach 3 of 3 bootstrap peers/).length > 0)
    assert.match(said('info', 'net', /^could not reach/)[0]!.msg, /ECONNREFUSED/)
    // more checks pass: the line goes on, the warnings are not repeated
    const lines = said('info', 'status', /^status:/).length
    await waitFor('three more status lines', 5000, () => said('info', 'status', /^status:/).length >= lines + 3)
    assert.equal(said('warn', 'status', /^below quorum/).length, 1)
    assert.equal(said('warn', 'status', /^no peers connected/).length, 1)
    assert.equal(said('info', 'net', /^could not reach 3 of 3/).length, 1)
  })

  test('as the other validators come up, quorum is restored and said so once', async () => {
    for (const i of [1, 2]) nodes.push(await BftNode.start({ ...configs[i]!, statusIntervalMs: 0 }, genesis, seeds[i]!, silentLogger))
    // three new validators of four: none votes until it hears from all three others (node.ts
    // probe), so with two connected nothing can be certified yet, and the warning stands
    await waitFor('a status line with two validators', 20_000, () => said('info', 'status', /^status: below quorum \| peers 2 \| validators 2\/3 /).length > 0)
    assert.equal(said('info', 'status', /^peers connected again$/).length, 1)
    await waitFor('the summary to name only the missing validator', 15_000, () => said('info', 'net', /^could not reach 1 of 3 bootstrap peers/).length > 0)
    assert.ok(said('info', 'net', /^could not reach 1 of 3/)[0]!.msg.includes(configs[3]!.listen[0]!))
    assert.equal(said('info', 'status', /^quorum restored/).length, 0)
    nodes.push(await BftNode.start({ ...configs[3]!, statusIntervalMs: 0 }, genesis, seeds[3]!, silentLogger))
    await waitFor('quorum restored', 20_000, () => said('info', 'status', /^quorum restored/).length > 0)
    assert.equal(said('info', 'status', /^quorum restored/)[0]!.msg, 'quorum restored: 3 of 3 other validators connected')
    await waitFor('a status line of a voting validator', 15_000, () => said('info', 'status', /^status: healthy \| peers 3 \| validators 3\/3 /).length > 0)
    assert.equal(said('warn', 'status', /^below quorum/).length, 1)
  })

  test('a peer sending invalid messages is named with a count at the next check, not once per message', async () => {
    const rawSeed = seedOf('it-status-raw', 0)
    const raw = await rawPeer(rawSeed)
    try {
      const stream = await raw.dialProtocol(multiaddr(nodes[0]!.addresses()[0]!), `/bftnode/${nodes[0]!.networkIdHex.slice(0, 16)}/direct/1.0.0`)
      const lp = lpStream(stream)
      for (let i = 0; i < 25; i++) await lp.write(new Uint8Array([0xff, i]))
      const key = toHex(sodiumScheme.publicKeyOf(rawSeed)).slice(0, 16)
      const named = (): LogLine[] => said('warn', 'status', /^rejected \d+ invalid message/)
      const counted = (): number => named().reduce((n, l) => n + Number(new RegExp(`${key} x(\\d+) \\(`).exec(l.msg)?.[1] ?? 0), 0)
      await waitFor('all 25 counted', 10_000, () => counted() === 25)
      // one record per check, however many messages: the frames went out faster than a check
      assert.ok(named().length <= 2, named().map(l => l.msg).join('\n'))
      assert.match(named()[0]!.msg, /^rejected \d+ invalid message\(s\) from 1 peer\(s\) in the last \d+ s: /)
    } finally {
      await raw.stop()
    }
  })
})
