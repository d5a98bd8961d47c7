// Reading a JSON file a person wrote (config, genesis): one error, of the caller's kind, that says
// which file, where in it (line:column) and what is wrong. Config files may hold comments.

import { readFile } from 'node:fs/promises'
import { parseTree, printParseErrorCode } from 'jsonc-parser'
import type { Node, ParseError } from 'jsonc-parser'

export type JsonNode = Node

const SYNTAX: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'expected an option name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected a colon',
  CommaExpected: 'expected a comma',
  CloseBraceExpected: 'expected a closing }',
  CloseBracketExpected: 'expected a closing ]',
  EndOfFileExpected: 'unexpected text after the end',
  InvalidCommentToken: 'malformed comment',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'malformed unicode escape',
  InvalidEscapeCharacter: 'malformed escape character',
  InvalidCharacter: 'invalid character in a string'
}

/** `line:column` (both from 1) of an offset into text, as editors and compilers print it. */
export function position (text: string, offset: number): string {
  let line = 1
  let start = 0
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) { line++; start = i + 1 }
  return `${line}:${offset - start + 1}`
}

/**
 * Parses JSON (with comments and trailing commas if `comments`) into a tree whose nodes know their
 * offsets, so later checks can point at the value they refuse. Syntax errors: `where:line:col: ...`.
 */
export function parseJsonTree (text: string, where: string, fail: (message: string) => Error, comments = false): JsonNode {
  const errors: ParseError[] = []
  const root = parseTree(text, errors, { allowTrailingComma: comments, disallowComments: !comments, allowEmptyContent: true })
  const first = errors[0]
  if (first !== undefined) throw fail(`${where}:${position(text, first.offset)}: ${SYNTAX[printParseErrorCode(first.error)] ?? 'syntax error'} (not valid JSON${comments ? ' with comments' : ''})`)
  if (root === undefined) throw fail(`${where}: empty; expected a JSON object`)
  return root
}

export async function readText (path: string, what: string, fail: (message: string) => Error): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw fail(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

export async function readJsonFile (path: string, what: string, fail: (message: string) => Error): Promise<unknown> {
  const text = await readText(path, what, fail)
  try {
    return JSON.parse(text)
  } catch {
    parseJsonTree(text, `${what} ${path}`, fail)
    throw fail(`${what} ${path} is not valid JSON`)
  }
}
