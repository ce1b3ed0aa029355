#!/usr/bin/env node
// read.mjs --with duckdb|parquet-wasm FILE: prints FILE's rows as canonical JSONL.
import { Readers, READERS } from './lib/readers.mjs';
import { parseArgs, die } from './lib/cli.mjs';

const args = parseArgs(process.argv.slice(2), { with: 'string', types: 'boolean' });
if (!READERS.includes(args.with) || args._.length !== 1) {
  die(`usage: read.mjs --with ${READERS.join('|')} [--types] FILE\n  --types  print the column types (JSON) instead of the rows`);
}
const readers = new Readers();
try {
  const { jsonl, types } = await readers.read(args.with, args._[0]);
  process.stdout.write(args.types ? JSON.stringify(types, null, 1) + '\n' : jsonl);
} catch (err) {
  die(`read: ${args.with} cannot read ${args._[0]}: ${err.message}`, 1);
} finally {
  readers.close();
}
