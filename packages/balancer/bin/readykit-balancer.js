#!/usr/bin/env node
// The package's command: runs the built CLI (dist/), so it needs no TypeScript at run time.
import { main } from '../dist/cli/cli.js';

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
