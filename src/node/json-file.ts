// Reading a JSON file a person wrote (config, genesis): one error, of the caller's kind, that says
// which file and what is wrong with it.

import { readFile } from 'node:fs/promises'

export async function readJsonFile (path: string, what: string, fail: (message: string) => Error): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw fail(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw fail(`${what} ${path} is not valid JSON`)
  }
}
