// Debian's headless Chromium for the dashboard's browser tests, through playwright-core (no
// browser download: CI installs the `chromium` package). A machine without it fails the test with
// what to install; it never skips silently.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const CHROMIUM = process.env.BFTNODE_CHROMIUM ?? '/usr/bin/chromium'

/** Screenshots and other files for a person to look at after a run (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url))

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function launchChromium (): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: the dashboard's browser tests drive Debian's headless Chromium; install it with \`apt-get install chromium\` (or set BFTNODE_CHROMIUM to its path)`)
  return await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
}
