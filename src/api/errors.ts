// The API's one error type: an HTTP status, a stable code a client can branch on, and a message
// that says what to do. Everything a request can get wrong becomes one of these (a 4xx); a 500
// means a fault of the node's own.

import { BftError } from '../core/errors.js'

export interface ApiErrorExtra {
  /** Also goes out as a Retry-After header, in whole seconds as HTTP has it. */
  retryAfterMs?: number
}

export interface ApiErrorOptions {
  /** Extra response headers (Allow, WWW-Authenticate). */
  headers?: Record<string, string>
  /** Close the connection after answering: the rest of the request is not worth reading. */
  close?: boolean
}

export class ApiError extends BftError {
  constructor (readonly status: number, readonly code: string, message: string, readonly extra: ApiErrorExtra = {}, readonly options: ApiErrorOptions = {}) {
    super(message)
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'ERR_BAD_REQUEST', message)
