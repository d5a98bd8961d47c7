// Sending an op from the CLI: the client library's BftClient (src/client/client.ts holds the
// never-sign-twice rules and their reasons) with the wallet's pending-op file as its PendingStore,
// so the files, the messages and the error codes are what they always were.

import type { Signer } from '../core/crypto/signing.js'
import type { Slot } from '../core/ledger/op.js'
import type { OpBody } from '../core/ledger/body.js'
import type { ApiClient } from '../client/api-client.js'
import { BftClient } from '../client/client.js'
import type { Sent } from '../client/client.js'
import type { Wallet } from './wallet.js'

export {
  InsufficientFundsError, OpRefusedError, OpTimeoutError, OpUnconfirmedError, PendingMismatchError, SlotContestedError
} from '../client/errors.js'
export type { Sent }

export interface SendRequest {
  readonly api: ApiClient
  readonly wallet: Wallet
  readonly name: string
  /** The account's id (hex) when it is not the signer's key: the account rotated its key. */
  readonly account?: string
  readonly signer: Signer
  readonly body: OpBody
  /** Deps the body needs for ordering (a call's deploy), cited before any credit. */
  readonly ordering?: readonly Slot[]
  readonly timeoutMs: number
  readonly say: (line: string) => void
}

/** A client for one wallet account: its pending record is the wallet's file for `name`. */
export function walletClient (req: Omit<SendRequest, 'body' | 'ordering'>): BftClient {
  return new BftClient({
    api: req.api,
    signer: req.signer,
    ...(req.account === undefined ? {} : { account: req.account }),
    pending: req.wallet.pendingStore(req.name),
    timeoutMs: req.timeoutMs,
    label: req.name,
    onEvent: e => { if (e.type === 'note') req.say(e.text) }
  })
}

export async function sendOp (req: SendRequest): Promise<Sent> {
  return await walletClient(req).send(req.body, { ordering: req.ordering ?? [] })
}
