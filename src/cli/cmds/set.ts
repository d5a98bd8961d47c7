// `bftnode set`: the set of a set network (a testnet made with `--algorithm orset`). `add` and
// `remove` sign ops in the wallet account's own stream and wait for their delivery, as `transfer`
// does; `remove` first asks the node for the element's tags, which the op cites.

import { fromHex } from '../../core/crypto/hash.js'
import { setAddBody, setRemoveBody } from '../../client/bodies.js'
import { api, say, UsageError } from '../context.js'
import type { CliCommand } from '../context.js'
import { send } from './wallet-cmds.js'

const nameOption = { name: { type: 'string' as const, default: 'treasury', describe: 'wallet account that writes (a writer: an account the genesis allocates to)' } }

const addCommand: CliCommand<{ element: string, name: string }> = {
  command: 'add <element>',
  describe: 'add an element to the set; waits until the op is delivered',
  examples: [['bftnode set add apple --name alice', 'alice adds "apple"']],
  positionals: { element: { type: 'string', describe: 'text, 1 to 128 UTF-8 bytes' } },
  options: nameOption,
  handler: async (a) => {
    await send(a, a.name, setAddBody(String(a.element)))
  }
}

const removeCommand: CliCommand<{ element: string, name: string }> = {
  command: 'remove <element>',
  describe: 'remove an element: the tags of it this node has delivered (an add made meanwhile elsewhere survives); waits until the op is delivered',
  examples: [['bftnode set remove apple --name bob', 'bob removes "apple" as his node sees it']],
  positionals: { element: { type: 'string', describe: 'an element of the set' } },
  options: nameOption,
  handler: async (a) => {
    const element = String(a.element)
    const entry = (await api(a).set({ element })).items[0]
    if (entry === undefined) throw new UsageError(`"${element}" is not in the set at this node; nothing was signed`)
    const tags = entry.tags.slice(0, 64).map(t => ({ account: fromHex(t.account), seq: t.seq }))
    if (entry.tagCount > tags.length) say(`"${element}" has ${entry.tagCount} tags: removing ${tags.length}, run the command again for the rest`)
    const body = setRemoveBody(element, tags)
    await send(a, a.name, body, [...body.tags])
  }
}

const listCommand: CliCommand<{ element?: string, after?: string, limit: number, tags: boolean }> = {
  command: 'list',
  describe: 'list the set as this node holds it, in order, one element a line',
  examples: [['bftnode set list', 'every element (up to --limit)'], ['bftnode set list --tags', 'with the tags each element is in the set under']],
  options: {
    element: { type: 'string', describe: 'only this element' },
    after: { type: 'string', describe: 'start after this element (paging)' },
    limit: { type: 'number', default: 1000, describe: 'elements listed at most' },
    tags: { type: 'boolean', default: false, describe: 'show each element\'s tags (writer key prefix and seq)' }
  },
  handler: async (a) => {
    const page = await api(a).set({ ...(a.element === undefined ? {} : { element: a.element }), ...(a.after === undefined ? {} : { after: a.after }), limit: a.limit })
    for (const e of page.items) say(a.tags ? `${e.element}\t${e.tags.map(t => `${t.account.slice(0, 8)}:${t.seq}`).join(' ')}` : e.element)
    if (page.next !== undefined) say(`... more after "${page.next}": bftnode set list --after '${page.next}'`)
  }
}

export const setCommand: CliCommand = {
  command: 'set',
  describe: 'add to, remove from and list the replicated set of a set network (genesis algorithm "orset", docs/set.md)',
  subcommands: [addCommand, removeCommand, listCommand]
}
