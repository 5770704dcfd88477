#!/usr/bin/env node
// The `writ` command. The CLI is compiled by `npm ci` / `npm run build` (the root `prepare` script).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
