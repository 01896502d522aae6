#!/usr/bin/env node
import { viaServer } from './cli/client.js';

// A running `code4py server` takes `code4py validate` before the rest of the command loads; else it runs here.
const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
process.exitCode = (await viaServer(argv, io)) ?? (await (await import('./cli/main.js')).main(argv, io));
