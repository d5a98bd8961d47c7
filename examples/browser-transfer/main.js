// The example's logic: a BftClient for the key the user gives, its pending record in IndexedDB
// (so an op whose answer was lost, in a tab that was then closed, is resubmitted next time rather
// than followed by a second op for its slot), the account's spendable balance, and a transfer
// shown as it goes: signed, queued, delivered, and how it ended.

import { BftClient, IdbPendingStore, generateSeed, openKey, parseKeyFile, signerFromSeed, toHex } from 'bftnode/client'

const $ = (id) => document.getElementById(id)
const params = new URLSearchParams(location.search)
if (params.has('api')) $('api').value = params.get('api')

// one database for the page; records are kept per account key
const pending = new IdbPendingStore({ database: 'bftnode-example' })
let client

function showError (err) {
  // every library error has a stable code (ERR_...) besides its message
  $('error').textContent = err === undefined ? '' : `${err.code ?? err.name}: ${err.message}`
}

function setState (state, text = state) {
  $('state').dataset.state = state
  $('state').textContent = text
}

function onEvent (e) {
  if (e.type === 'note') { addHistory(e.text); return }
  if (e.type === 'signed') { $('hash').textContent = e.hash; addHistory(`signed op ${e.hash.slice(0, 16)} for seq ${e.seq}`) }
  if (e.type === 'queued') addHistory('queued: the node took it; waiting for delivery')
  if (e.type === 'delivered') addHistory('delivered')
  setState(e.type)
}

function addHistory (text) {
  const li = document.createElement('li')
  li.textContent = text
  $('history').append(li)
}

async function refresh () {
  if (client === undefined) return
  const b = await client.balance()
  $('balance').textContent = b.spendable.toString()
  const held = await client.pendingOp()
  $('pending-note').textContent = held === undefined ? '' : `op ${held.hash.slice(0, 16)} (seq ${held.seq}) is still pending; the next send resubmits it first`
}

async function useKey () {
  const text = $('key').value.trim()
  // a key file (clear text, or encrypted under the passphrase), or a bare secret key
  const seed = text.startsWith('{') ? await openKey(parseKeyFile(text, 'the pasted key file'), $('passphrase').value || undefined) : text
  client = new BftClient({ api: $('api').value.trim(), signer: signerFromSeed(seed), pending, timeoutMs: 30_000, onEvent })
  $('account').textContent = client.account
  $('send').disabled = false
  await refresh()
}

async function send () {
  const to = $('to').value.trim()
  const amount = $('amount').value.trim()
  if (!/^[0-9]+$/.test(amount)) throw new Error('the amount is a whole number')
  $('history').replaceChildren()
  $('outcome').textContent = ''
  setState('sending', 'sending…')
  $('send').disabled = true
  try {
    const sent = await client.transfer(to, BigInt(amount))
    const o = sent.status.outcome
    if (sent.status.status !== 'delivered') {
      setState('failed', 'not delivered')
      $('outcome').textContent = sent.status.reason ?? ''
    } else {
      $('outcome').textContent = o === undefined || o.status === 'applied' ? 'applied' : `rejected (${o.reason}): ${o.detail}`
      if (o?.status === 'rejected') setState('failed', 'delivered, rejected')
    }
  } catch (err) {
    setState('failed', 'failed')
    throw err
  } finally {
    $('send').disabled = false
    await refresh().catch(() => {})
  }
}

// each button runs its action and shows a failure instead of losing it in the console
const action = (f) => () => { showError(undefined); f().catch(showError) }
$('load').addEventListener('click', action(useKey))
$('generate').addEventListener('click', action(async () => { $('key').value = toHex(generateSeed()); await useKey() }))
$('refresh').addEventListener('click', action(refresh))
$('send').addEventListener('click', action(send))
