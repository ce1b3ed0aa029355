#!/usr/bin/env node
// Peer for bench/parquet_read_bench: DuckDB scanning the same Parquet file, the same columns, on
// the same number of threads. Each column is consumed by an aggregate that needs its decoded
// values (strlen for strings, octet_length for blobs, sum for numbers), best of --repeat runs.
//
//   duckdb_read.mjs --file F --columns a,b --threads N [--repeat 3]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('../../tests/peers/package.json', import.meta.url)));
const { DuckDBInstance } = require('@duckdb/node-api');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const file = arg('file');
const threads = arg('threads', '1');
const repeat = Number(arg('repeat', '3'));
const instance = await DuckDBInstance.create(':memory:', { threads });
const conn = await instance.connect();
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(file)})`)).getRowObjectsJS();
const wanted = (arg('columns', '') || described.map((c) => c.column_name).join(',')).split(',');
const exprs = wanted.map((name) => {
  const type = described.find((c) => c.column_name === name).column_type;
  if (type === "VARCHAR") return `sum(strlen("${name}"))`;
  return type === "BLOB" ? `sum(octet_length("${name}"))` : `sum("${name}")`;
});
const sql = `SELECT count(*) AS n, ${exprs.join(', ')} FROM read_parquet(${q(file)})`;
let best = Infinity;
let rows = 0;
for (let r = 0; r < repeat; ++r) {
  const t0 = process.hrtime.bigint();
  const out = (await conn.runAndReadAll(sql)).getRowsJS();
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  rows = Number(out[0][0]);
}
console.log(`duckdb_parquet_read file=${file} columns=${arg('columns', 'all')} threads=${threads} rows=${rows} ` +
            `seconds=${best.toFixed(4)} rows_per_s=${(rows / best).toFixed(0)}`);
