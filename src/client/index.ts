// bftnode/client: the typed client library for web apps and Node programs. Browser-safe: nothing
// reachable from here imports a Node module (a unit test walks the import graph to keep it so);
// the file-backed pending store is in bftnode/client/node.

export { BftClient, DEFAULT_DEADLINE_EXECUTES } from './client.js'
export type { Balance, BftClientOptions, Called, Deployed, SendEvent, SendOptions, Sent } from './client.js'
export { ApiClient, ApiRequestError, NodeUnreachableError } from './api-client.js'
export { simulationProblem, WouldFailError } from './estimate.js'
export type * from './api-client.js'
export {
  DEFAULT_GAS, callBody, cancelBody, contractAddress, deployBody, executeBody, fillDeps, keyBytes, keyHex, mintBody,
  refuseUnpayable, rotateKeyBody, rotateSequencerBody, toSimulateBody, transferBody
} from './bodies.js'
export type {
  Args, CallBody, CallParams, CancelBody, DeployBody, DeployParams, ExecuteBody, Key, MintBody, OpBody, RotateKeyBody, RotateSequencerBody, Slot, TransferBody, Value
} from './bodies.js'
export { signRotationRequest } from '../core/ledger/rotation.js'
export {
  CallNotExecutedError, InsufficientFundsError, InvalidKeyError, NotCancellableError, OpRefusedError, OpTimeoutError, OpUnconfirmedError,
  PendingCorruptError, PendingExistsError, PendingMismatchError, SlotContestedError
} from './errors.js'
export { generateSeed, publicKeyOf, signerFromSeed } from './keys.js'
export type { Signer } from './keys.js'
export { InvalidKeyFileError, SCRYPT, WrongPassphraseError, accountOf, openKey, parseKeyFile, sealKey } from './keyfile.js'
export type { KeyFile } from './keyfile.js'
export { MemoryPendingStore, pendingFromRecord } from './pending.js'
export type { PendingOp, PendingStore } from './pending.js'
export { IdbPendingStore } from './pending-idb.js'
export type { IdbPendingStoreOptions } from './pending-idb.js'
export { ArgumentError, parseArgs, parseValue, showValue, valueToJson } from './values.js'
export type { JsonValue } from './values.js'
export { signOp, decodeOp } from '../core/ledger/op.js'
export type { SignedOp, UnsignedOp } from '../core/ledger/op.js'
export { BftError } from '../core/errors.js'
export { fromHex, toHex } from '../core/crypto/hash.js'
