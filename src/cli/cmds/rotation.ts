// Replacing the keys that sign a stream (docs/reconfiguration.md): `bftnode account rotate-key`
// moves a wallet account to a new key, and `bftnode contract rotate-sequencer` moves a contract to
// a new sequencer (the node the command talks to, or a wallet key). Both sign one op, wait for its
// delivery and say how it ended; neither ever signs a second op for the slot while the first may
// still land (the wallet's pending record, or the node's kept op, see BftNode.rotateSequencerHere).

import { fromHex, toHex } from '../../core/crypto/hash.js'
import { nobleScheme } from '../../core/crypto/noble.js'
import { signerFrom } from '../../core/crypto/signing.js'
import type { Signer } from '../../core/crypto/signing.js'
import { decodeOp } from '../../core/ledger/op.js'
import { signRotationRequest } from '../../core/ledger/rotation.js'
import { ApiRequestError, NodeUnreachableError } from '../../client/api-client.js'
import type { ApiClient, ContractView, OpStatusView } from '../../client/api-client.js'
import { BftClient } from '../../client/client.js'
import type { Sent } from '../../client/client.js'
import { OpRefusedError, OpTimeoutError, OpUnconfirmedError, PendingExistsError, SlotContestedError } from '../../client/errors.js'
import { generateSeed } from '../../client/keys.js'
import { accountOf, openKey, SCRYPT, sealKey } from '../../client/keyfile.js'
import { api, passphraseFor, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { walletClient } from '../ops.js'
import type { Wallet } from '../wallet.js'

const CONTRACT_HEX = /^[0-9a-f]{64}$/

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** The signer of a wallet account (its key in force) and the passphrase that opened it. */
async function unlockAccount (a: GlobalArgs, w: Wallet, name: string): Promise<{ signer: Signer, passphrase: string | undefined }> {
  const file = await w.load(name)
  const passphrase = file.encrypted === undefined ? undefined : await passphraseFor(a, name)
  return { signer: signerFrom(nobleScheme, await openKey(file, passphrase, `key file ${w.keyPath(name)}`)), passphrase }
}

/** The errors after which the op may still be delivered: it stays pending, and the next run resubmits it. */
const unconfirmed = (err: unknown): boolean =>
  err instanceof OpTimeoutError || err instanceof OpUnconfirmedError || err instanceof SlotContestedError || (err instanceof OpRefusedError && /stays pending/.test(err.message)) || err instanceof ApiRequestError || err instanceof NodeUnreachableError

export const rotateKeyCommand: CliCommand<{ name: string }> = {
  command: 'rotate-key',
  describe: 'replace an account\'s key: a new key, signed in by the old one, signs for the account (same id, balance and history) once the rotation is delivered; the old key file is kept, retired',
  examples: [
    ['bftnode account rotate-key --name alice', 'the new key file is sealed with alice\'s passphrase; the old one is kept as alice.retired-1.key'],
    ['bftnode account rotate-key --name alice --timeout 120000', 'wait up to 2 minutes for the delivery']
  ],
  options: {
    name: { type: 'string', demandOption: true, describe: 'the wallet account' }
  },
  handler: async (a) => {
    const w = wallet(a)
    const name = a.name
    const file = await w.load(name)
    const account = accountOf(file)
    const { signer, passphrase } = await unlockAccount(a, w, name)
    // The new key is on disk before the rotation is signed: once it is delivered it is the only
    // key that signs for the account. A run that did not finish left it there; it is used again.
    let next = await w.nextKey(name)
    if (next !== undefined && accountOf(next) !== account) throw new UsageError(`${w.nextKeyPath(name)} holds a key for another account (${accountOf(next).slice(0, 16)}); move it away first`)
    if (next === undefined) {
      const made = await sealKey(name, generateSeed(), passphrase, SCRYPT, account)
      if (!await w.stageNextKey(name, made)) throw new UsageError(`another command is rotating the key of ${name} (${w.nextKeyPath(name)} appeared); run this again once it is done`)
      next = made
    } else {
      say(`an earlier rotate-key of ${name} did not finish: going on with its new key ${next.publicKey}`)
    }
    // the new key must open with the passphrase it is sealed under, or it could not be used later
    await openKey(next, passphrase, `key file ${w.nextKeyPath(name)}`)
    const node = api(a)
    const client = walletClient({ api: node, wallet: w, name, account, signer, timeoutMs: a.timeout, say })
    const notConfirmed = (why: string): void => {
      say(`the rotation of ${name} is not confirmed delivered: ${why}`)
      say(`both keys are kept: ${w.keyPath(name)} (the old key, in force until the rotation is delivered) and ${w.nextKeyPath(name)} (the new key)`)
      say(`run \`bftnode account rotate-key --name ${name}\` again to finish: it resubmits the same signed op and never signs a second rotation`)
      process.exitCode = 1
    }
    let sent: Sent | undefined
    try {
      // an op left pending (this rotation, or any other op) is settled first, resubmitting its bytes
      const settled = await client.settle()
      const view = await node.account(account)
      // delivered: the node names the new key, or (a node that does not name keys) the op just settled was this rotation, applied
      const earlier = settled === undefined ? undefined : decodeOp(fromHex(settled.op.op))
      const thisRotation = earlier?.body.kind === 'rotate-key' && toHex(earlier.body.to) === next.publicKey && settled?.status.status === 'delivered'
      const applied = settled?.status.outcome?.status === 'applied' || (settled?.status.outcome === undefined && view.key !== file.publicKey)
      if (view.key === next.publicKey || (thisRotation && applied)) {
        await finish(w, name, file.publicKey, next.publicKey, account)
        return
      }
      if (view.key !== undefined && view.key !== file.publicKey) {
        throw new UsageError(`the node says the key of ${name} in force is ${view.key}: neither the wallet's key (${file.publicKey.slice(0, 16)}) nor the new one (${next.publicKey.slice(0, 16)}); was the account rotated elsewhere?`)
      }
      say(`rotating the key of ${name} (${account}): signing with ${file.publicKey.slice(0, 16)}..., new key ${next.publicKey}`)
      sent = await client.rotateKey(next.publicKey)
    } catch (err) {
      if (err instanceof PendingExistsError || !unconfirmed(err)) throw err
      notConfirmed((err as Error).message)
      return
    }
    if (sent.status.status === 'delivered' && sent.status.outcome?.status === 'applied') {
      await finish(w, name, file.publicKey, next.publicKey, account)
      return
    }
    // not in force: its slot holds another op, or the ledger rejected it. The new key signs nothing.
    const why = sent.status.status === 'dropped' ? `dropped (${sent.status.reason ?? 'its slot holds another op'})` : `rejected (${sent.status.outcome?.status === 'rejected' ? sent.status.outcome.reason : 'unknown'})`
    say(`the rotation op ${sent.hash.slice(0, 16)} was ${why}: the key of ${name} is unchanged (${file.publicKey}); the unused new key stays in ${w.nextKeyPath(name)}, and running the command again uses it`)
    process.exitCode = 1
  }
}

async function finish (w: Wallet, name: string, oldKey: string, newKey: string, account: string): Promise<void> {
  const retired = await w.finishRotation(name)
  say(`account ${name} (${account}) rotated its key`)
  say(`  old key  ${oldKey}${retired === '' ? '' : `  (retired, kept as ${retired})`}`)
  say(`  new key  ${newKey}  (${w.keyPath(name)})`)
}

/** The contract at `address`, or a one-line error. */
async function contractAt (node: ApiClient, address: string): Promise<ContractView> {
  try {
    return await node.contract(address)
  } catch (err) {
    if (err instanceof ApiRequestError && err.code === 'ERR_UNKNOWN_CONTRACT') throw new UsageError(`no contract at ${address} on this node (never deployed, or not delivered here yet); nothing was signed`)
    throw err
  }
}

/** Waits for an op the node took, up to `until`; undefined if it is still queued then. */
async function delivery (node: ApiClient, hash: string, until: number): Promise<OpStatusView | undefined> {
  for (;;) {
    const left = until - Date.now()
    if (left <= 0) return undefined
    const st = await node.op(hash, Math.min(left, 10_000)).catch(() => undefined)
    if (st !== undefined && st.status !== 'queued') return st
    if (st === undefined) await sleep(200)
  }
}

export const rotateSequencerCommand: CliCommand<{ contract: string, to?: string, from?: string }> = {
  command: 'rotate-sequencer <contract>',
  describe: 'give a contract a new sequencer (by default the node the command talks to) at its next slot; validators vote for it at once with the deployer\'s request (--from), else only once the old sequencer has been silent past their deadline with calls queued',
  examples: [
    ['bftnode contract rotate-sequencer <contract> --api http://127.0.0.1:7201', 'the node at port 7201 signs and becomes the sequencer once the old one has been silent long enough'],
    ['bftnode contract rotate-sequencer <contract> --from alice', 'alice deployed the contract: her request makes validators vote at once'],
    ['bftnode contract rotate-sequencer <contract> --to bob --from alice', 'wallet account bob\'s key sequences the contract (bob must then sign its executes)']
  ],
  positionals: { contract: { type: 'string', describe: 'contract address (64 hex digits)' } },
  options: {
    to: { type: 'string', describe: 'wallet account whose key becomes the sequencer; it signs the rotation (default: the node the command talks to signs, with its own key)' },
    from: { type: 'string', describe: 'wallet account that deployed the contract: signs the request that makes validators vote at once' }
  },
  handler: async (a) => {
    if (!CONTRACT_HEX.test(a.contract)) throw new UsageError('the contract address is 64 hex digits')
    const w = wallet(a)
    const node = api(a)
    const info = await contractAt(node, a.contract)
    const { networkId } = await node.genesis()
    let toSigner: Signer | undefined
    let to: string
    if (a.to !== undefined) {
      toSigner = (await unlockAccount(a, w, a.to)).signer
      to = toHex(toSigner.publicKey)
    } else {
      to = String((await node.status()).nodeId)
    }
    if (to === info.sequencer) throw new UsageError(`${a.to ?? 'the node at ' + a.api} (${to.slice(0, 16)}) sequences the contract already`)
    let deployer: Signer | undefined
    if (a.from !== undefined) {
      const id = await w.account(a.from)
      if (id !== info.deployedAt.account) throw new UsageError(`${a.from} (${id.slice(0, 16)}) did not deploy the contract: ${info.deployedAt.account.slice(0, 16)} did; only the deployer's request counts`)
      deployer = (await unlockAccount(a, w, a.from)).signer
    }
    const request = (seq: number): Uint8Array | null => deployer === undefined ? null : signRotationRequest(deployer, fromHex(networkId), fromHex(a.contract), seq, fromHex(to))
    const voteLine = (silenceMs?: number): string => deployer !== undefined
      ? 'with the deployer\'s request: validators vote for it now'
      : `without the deployer's request: validators vote only once the contract has queued calls and its sequencer (${info.sequencer.slice(0, 16)}) has been silent for their sequencerSilenceMs${silenceMs === undefined ? '' : ` (${silenceMs} ms at this node)`}`
    let hash: string
    let seq: number
    let wait = a.timeout
    if (toSigner === undefined) {
      // the node signs with its own key; it keeps the op and resubmits it when asked again
      const { nextSeq } = await node.account(a.contract)
      const req = request(nextSeq)
      const r = await node.rotateSequencer(a.contract, req === null ? undefined : toHex(req)).catch((err: unknown) => {
        if (err instanceof ApiRequestError && err.code === 'ERR_SEQUENCER_ROTATION') throw new UsageError(err.message)
        throw err
      })
      hash = r.hash
      seq = r.seq
      say(`rotation op ${hash.slice(0, 16)} (contract #${seq}) ${r.resubmitted ? 'signed earlier by' : 'signed by'} the node (${to.slice(0, 16)}), ${r.requested ? 'with the deployer\'s request: validators vote for it now' : voteLine(r.silenceMs)}`)
      if (r.submit.status === 'rejected' && r.submit.code !== 'conflict') throw new UsageError(`the node did not take the op: ${r.submit.code ?? ''} ${r.submit.reason ?? ''}`)
      if (!r.requested) wait = r.silenceMs + a.timeout
    } else {
      say(`rotating the sequencer of ${a.contract.slice(0, 16)} to ${a.to!} (${to.slice(0, 16)}), ${voteLine()}`)
      const store = `${a.to!}.sequencing-${a.contract.slice(0, 16)}`
      const client = new BftClient({
        api: node,
        account: a.contract,
        signer: toSigner,
        pending: w.pendingStore(store),
        // no request: validators wait for the silence deadline (60 s unless the network set it)
        timeoutMs: deployer === undefined ? Math.max(a.timeout, 60_000 + a.timeout) : a.timeout,
        label: `${a.to!} as sequencer of ${a.contract.slice(0, 16)}`,
        onEvent: e => { if (e.type === 'note') say(e.text); if (e.type === 'signed') say(`signed op ${e.hash.slice(0, 16)} (contract #${e.seq})`) }
      })
      let sent: Sent
      try {
        sent = await client.rotateSequencer(deployer === undefined ? null : request)
      } catch (err) {
        if (!unconfirmed(err)) throw err
        say(`the rotation is not confirmed delivered: ${(err as Error).message}`)
        say(`run the command again to follow it up: it resubmits the same signed op (kept in ${w.dir}/${store}.pending.json)`)
        process.exitCode = 1
        return
      }
      await report(node, a.contract, sent.hash, sent.slot.seq, to, sent.status)
      return
    }
    const st = await delivery(node, hash, Date.now() + wait)
    if (st === undefined) {
      say(`the rotation was not delivered within ${wait} ms; ${deployer === undefined ? 'validators vote once the sequencer has been silent long enough with calls queued, ' : ''}the node keeps submitting it`)
      say(`run the command again to follow it up (the node resubmits the same op, never another for slot ${seq}), or watch \`bftnode balance ${a.contract}\` for the contract's next seq`)
      process.exitCode = 1
      return
    }
    await report(node, a.contract, hash, seq, to, st)
  }
}

async function report (node: ApiClient, contract: string, hash: string, seq: number, to: string, st: OpStatusView): Promise<void> {
  if (st.status === 'delivered' && st.outcome?.status === 'applied') {
    const now = await node.contract(contract)
    say(`rotation op ${hash.slice(0, 16)} (contract #${seq}) delivered: applied; the contract is now sequenced by ${now.sequencer}${now.sequencer === to ? '' : ' (not the key asked for: another rotation came after it)'}`)
    if (now.queued > 0) say(`${now.queued} queued call(s) will be run by the new sequencer`)
    return
  }
  const why = st.status === 'dropped' ? `dropped: ${st.reason ?? 'the slot holds another op (the old sequencer filled it)'}` : `rejected${st.outcome?.status === 'rejected' ? ` (${st.outcome.reason}): ${st.outcome.detail}` : ''}`
  say(`rotation op ${hash.slice(0, 16)} (contract #${seq}) ${why}; the sequencer is unchanged`)
  process.exitCode = 1
}
