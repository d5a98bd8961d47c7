// Typed errors of the protocol core. Each failure has its own class with a stable `name` and
// `code`, so callers (the node, the API, the CLI) can branch on them without parsing messages.

export abstract class BftError extends Error {
  abstract readonly code: string
  constructor (message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** Bytes that are not a canonical, bounded encoding of the expected shape. */
export class MalformedError extends BftError {
  readonly code = 'ERR_MALFORMED'
}

/** A value that cannot be encoded canonically (a float, undefined, an out-of-range integer). */
export class UnencodableError extends BftError {
  readonly code = 'ERR_UNENCODABLE'
}

/** A signature that does not verify against the key it claims. */
export class BadSignatureError extends BftError {
  readonly code = 'ERR_BAD_SIGNATURE'
}

/** A genesis document that cannot start a network. */
export class InvalidGenesisError extends BftError {
  readonly code = 'ERR_INVALID_GENESIS'
}
