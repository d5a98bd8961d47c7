#!/usr/bin/env node
// The `bftnode` command. Plain JavaScript that an old Node can still parse: it checks the version
// before importing anything, holds SIGINT/SIGTERM from the first moment (see
// dist/src/cli/lifecycle.js), then loads the CLI and exits with the code it returns.

const [major, minor] = process.versions.node.split('.').map(Number)
// the range package.json's engines field states (yargs and @noble need 20.19+ or 22.12+)
if (!((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23)) {
  process.stderr.write(`error: bftnode needs Node.js 20.19 or newer (22.12 or newer on the 22 line); this is Node.js ${process.versions.node}\n`)
  process.exit(1)
}

// a command whose work never settles would otherwise end, when nothing is left to wait for, as a success
let done = false
process.once('beforeExit', () => {
  if (done) return
  process.stderr.write('error: internal error: bftnode ended with its work unfinished\n')
  process.exit(1)
})

import('../dist/src/cli/lifecycle.js')
  .then(lifecycle => lifecycle.holdSignals(process.argv.slice(2)))
  .then(() => import('../dist/src/net/polyfill.js'))
  .then(() => import('../dist/src/cli/index.js'))
  .then(cli => cli.main(process.argv.slice(2)))
  // explicit: a command that is done must not linger on a handle something left open
  .then(code => { done = true; process.exit(code) }, err => {
    done = true
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/')) {
      process.stderr.write('error: bftnode is not built: run `npm run build` in its directory\n')
    } else {
      process.stderr.write(`error: ${(err && err.stack) || err}\n`)
    }
    process.exit(1)
  })
