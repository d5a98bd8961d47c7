// Storage errors a person can cause or meet, each with a stable code.

import { BftError } from '../core/errors.js'

/** Another process (another node) holds the data dir's lock. */
export class DataDirLockedError extends BftError {
  readonly code = 'ERR_DATA_DIR_LOCKED'
  constructor (readonly dir: string) {
    super(`data dir ${dir} is in use by another bftnode process; stop it first or use another --data-dir`)
  }
}

/** The database could not be opened or written. */
export class StorageError extends BftError {
  readonly code = 'ERR_STORAGE'
}
