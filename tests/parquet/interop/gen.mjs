#!/usr/bin/env node
// gen.mjs --out DIR: writes the Parquet interop matrix, expected JSONL and manifest.json into DIR.
import { resolve } from 'node:path';
import { generate } from './lib/generate.mjs';
import { parseArgs, die } from './lib/cli.mjs';

const args = parseArgs(process.argv.slice(2), { out: 'string', quiet: 'boolean' });
if (!args.out) die('usage: gen.mjs --out DIR [--quiet]');
try {
  const manifest = await generate(resolve(args.out), { log: args.quiet ? () => {} : (m) => console.log(m) });
  console.log(`${manifest.files.length} files written to ${resolve(args.out)}, ${manifest.skipped.length} combinations skipped (see manifest.json)`);
} catch (err) {
  die(`gen: ${err.message}`);
}
