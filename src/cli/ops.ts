// Sending an op from the CLI: read the account's stream position and uncited credits from the
// node, finish any op the wallet left pending, sign the new op (noble: the wallet is client
// code), record it as pending before submitting, then wait for its delivery and report it.

import { fromHex, toHex } from '../core/crypto/hash.js'
import type { Signer } from '../core/crypto/signing.js'
import { BftError } from '../core/errors.js'
import { OP_LIMITS, signOp } from '../core/ledger/op.js'
import type { Slot } from '../core/ledger/op.js'
import type { OpBody } from '../core/ledger/body.js'
import type { ApiClient, OpStatusView } from '../client/api-client.js'
import type { Wallet } from './wallet.js'

export class OpTimeoutError extends BftError {
  readonly code = 'ERR_TIMEOUT'
}

export class OpRefusedError extends BftError {
  constructor (readonly code: string, message: string) { super(message) }
}

export interface SendRequest {
  readonly api: ApiClient
  readonly wallet: Wallet
  readonly name: string
  readonly signer: Signer
  /** Builds the body; `credits` is what the account can cite. */
  readonly body: OpBody
  /** Deps the body needs for ordering (a call's deploy), cited before any credit. */
  readonly ordering?: readonly Slot[]
  readonly timeoutMs: number
  readonly say: (line: string) => void
}

export interface Sent { readonly hash: string, readonly slot: Slot, readonly status: OpStatusView }

async function waitDelivered (api: ApiClient, hash: string, timeoutMs: number): Promise<OpStatusView> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0) throw new OpTimeoutError(`op ${hash.slice(0, 16)} was not delivered within ${timeoutMs} ms; it stays pending in the wallet and the next command resubmits it`)
    const st = await api.op(hash, Math.min(left, 10_000)).catch(() => undefined)
    if (st !== undefined && st.status !== 'queued') return st
  }
}

async function submitOne (api: ApiClient, opHex: string): Promise<void> {
  const [result] = await api.submit([opHex])
  if (result?.status === 'rejected') throw new OpRefusedError(`ERR_${result.code.toUpperCase().replace(/-/g, '_')}`, `the node refused the op: ${result.reason}`)
}

export async function sendOp (req: SendRequest): Promise<Sent> {
  const { api, wallet, name, signer } = req
  const me = toHex(signer.publicKey)
  const { networkId } = await api.genesis()
  let view = await api.account(me)
  const pending = await wallet.pending(name)
  if (pending !== undefined) {
    if (pending.seq >= view.nextSeq) {
      req.say(`resubmitting op ${pending.hash.slice(0, 16)} (seq ${pending.seq}) that an earlier command left pending`)
      const [result] = await api.submit([pending.op])
      if (result?.status === 'rejected' && ['malformed', 'bad-signature', 'conflict'].includes(result.code)) {
        // it can never be delivered (signed for another network, or its slot is taken): drop it
        req.say(`the node refused it for good (${result.reason}); it is dropped`)
      } else if (result?.status === 'rejected') {
        // a passing refusal (busy): signing another op for this slot could equivocate, so wait
        throw new OpRefusedError(`ERR_${result.code.toUpperCase().replace(/-/g, '_')}`, `the wallet's pending op was refused for now (${result.reason}); run the command again later`)
      } else {
        await waitDelivered(api, pending.hash, req.timeoutMs)
        view = await api.account(me)
      }
    }
    await wallet.clearPending(name)
  }
  const ordering = req.ordering ?? []
  const credits = view.credits.slice(0, OP_LIMITS.maxDeps - ordering.length).map(c => ({ account: fromHex(c.account), seq: c.seq }))
  const op = signOp(signer, fromHex(networkId), { account: signer.publicKey, seq: view.nextSeq, deps: [...ordering, ...credits], body: req.body })
  const hash = toHex(op.hash)
  await wallet.setPending(name, op.seq, op.bytes, op.hash)
  await submitOne(api, toHex(op.bytes)).catch(async err => { await wallet.clearPending(name); throw err })
  const status = await waitDelivered(api, hash, req.timeoutMs)
  await wallet.clearPending(name)
  return { hash, slot: { account: op.account, seq: op.seq }, status }
}
