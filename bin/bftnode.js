#!/usr/bin/env node
import '../dist/src/net/polyfill.js'
import { main } from '../dist/src/cli/index.js'
await main(process.argv.slice(2))
