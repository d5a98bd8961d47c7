// Routes of a set network (genesis algorithm 'orset'): GET /v1/set lists the set, a page at a
// time, each element with the tags it is in the set under (what a remove must cite). Writes go
// through POST /v1/ops like every other op; the client signs set-add and set-remove bodies.

import { toHex } from '../core/crypto/hash.js'
import { ORSet } from '../core/algorithm/orset.js'
import { WrongAlgorithmError } from '../core/algorithm/algorithm.js'
import type { ReplicatedAlgorithm } from '../core/algorithm/algorithm.js'
import { SET_LIMITS } from '../core/ledger/body.js'
import type { Page, SetEntryView } from '../client/api-client.js'
import { ApiError } from './errors.js'
import { queryInteger, queryParam } from './request.js'

export const SET_PAGE = { default: 100, max: 1000 } as const

/** The set of a set network; WrongAlgorithmError (409) on a network of another algorithm. */
export function setOf (state: ReplicatedAlgorithm): ORSet {
  if (!(state instanceof ORSet)) throw new WrongAlgorithmError(state.algorithm, 'orset')
  return state
}

/**
 * GET /v1/set: elements in canonical order after the cursor, at most `limit`, each with its first
 * tags (at most what one remove cites: writers adding one element over and over must not make a
 * page of one element megabytes) and `tagCount`; `?element=` asks for one element only.
 */
export function listSet (state: ReplicatedAlgorithm, query: URLSearchParams): Page<SetEntryView> & { size: number } {
  const set = setOf(state)
  const element = queryParam(query, 'element')
  const after = queryParam(query, 'after')
  for (const [name, v] of [['element', element], ['after', after]] as const) {
    if (v !== undefined && (v.length === 0 || Buffer.byteLength(v) > SET_LIMITS.maxElementBytes)) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "${name}" must be an element: 1 to ${SET_LIMITS.maxElementBytes} UTF-8 bytes`)
  }
  const limit = queryInteger(query, 'limit') ?? SET_PAGE.default
  if (limit < 1 || limit > SET_PAGE.max) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "limit" must be 1 to ${SET_PAGE.max}`)
  const view = (e: { element: string, tags: ReadonlyArray<{ account: Uint8Array, seq: number }> }): SetEntryView => ({
    element: e.element,
    tags: e.tags.slice(0, SET_LIMITS.maxTagsPerRemove).map(t => ({ account: toHex(t.account), seq: t.seq })),
    tagCount: e.tags.length
  })
  if (element !== undefined) {
    const tags = set.tagsOf(element)
    return { items: tags.length === 0 ? [] : [view({ element, tags })], size: set.size }
  }
  const page = set.entries(after, limit + 1)
  const items = page.slice(0, limit).map(view)
  return page.length > limit ? { items, next: items[items.length - 1]!.element, size: set.size } : { items, size: set.size }
}

/**
 * GET /v1/accounts/{account} on a network without balances: the account's stream, shaped like a
 * ledger account with nothing in it, so a wallet signs the next op the same way on either network.
 */
export function streamView (state: ReplicatedAlgorithm, account: Uint8Array): Record<string, unknown> {
  return {
    account: toHex(account),
    spendable: 0n,
    balance: 0n,
    nextSeq: state.nextSeq(account),
    pending: 0n,
    credits: [],
    contract: false,
    key: toHex(state.signerOf(account)),
    // may write: validators bind its ops (for a set network, a writer the genesis names)
    admitted: state.holdsValue(account)
  }
}
