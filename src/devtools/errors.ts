// Errors of the offline developer tools. A test file that cannot be run is a TestFileError with
// the file and line:column of the form at fault; a misuse of the local chain (an unknown account,
// an op the ledger refused) is a LocalChainError. Both are one line a person can act on.

import { BftError } from '../core/errors.js'
import type { Pos } from '../core/vm/reader.js'

/** A test file that does not read, or a form in it of the wrong shape: nothing in it is run. */
export class TestFileError extends BftError {
  readonly code = 'ERR_TEST_FILE'
  constructor (readonly file: string, readonly pos: Pos, readonly detail: string) {
    super(`${file}:${pos.line}:${pos.col}: ${detail}`)
  }
}

/** Something the local chain cannot do as asked: an unknown name, an op the ledger rejected. */
export class LocalChainError extends BftError {
  readonly code = 'ERR_LOCAL_CHAIN'
}
