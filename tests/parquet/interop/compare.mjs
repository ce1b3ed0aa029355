#!/usr/bin/env node
// compare.mjs EXPECTED ACTUAL [--types TYPES.json]: semantic comparison of canonical JSONL files.
// Column types come from --types, else from EXPECTED's sidecar (X.expected.jsonl -> X.types.json)
// when it exists; without types, numbers use the lenient rule (see lib/compare.mjs).
// Exit 0: equal, 1: different, 2: usage or I/O error.
import { readFileSync, existsSync } from 'node:fs';
import { compareJsonl, formatDifference } from './lib/compare.mjs';
import { parseArgs, die } from './lib/cli.mjs';

const args = parseArgs(process.argv.slice(2), { types: 'string', max: 'string' });
if (args._.length !== 2) die('usage: compare.mjs EXPECTED ACTUAL [--types TYPES.json] [--max N]');
const [expectedPath, actualPath] = args._;

function readText(path) {
  try { return readFileSync(path, 'utf8'); } catch (err) { return die(`compare: cannot read ${path}: ${err.message}`); }
}

const sidecar = expectedPath.replace(/\.expected\.jsonl$/, '.types.json');
const typesPath = args.types ?? (sidecar !== expectedPath && existsSync(sidecar) ? sidecar : null);
const types = typesPath ? JSON.parse(readText(typesPath)) : null;
const result = compareJsonl(readText(expectedPath), readText(actualPath), { types, maxDiffs: Number(args.max ?? 10) });
if (result.error) die(`compare: ${result.error}`);
if (result.ok) {
  console.log(`match: ${result.rows} rows${types ? '' : ' (no types: lenient number rule)'}`);
  process.exit(0);
}
console.log(`MISMATCH between ${expectedPath} and ${actualPath}:`);
for (const d of result.differences) console.log(`  ${formatDifference(d)}`);
process.exit(1);
