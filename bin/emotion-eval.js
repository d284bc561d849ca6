#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so that users' plugins written in TypeScript
// load the same way as the built-in modules.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli.ts');
process.exitCode = await main(process.argv);
