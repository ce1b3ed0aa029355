#!/usr/bin/env node
// Arrow's canonical fixed_shape_tensor extension, written by arrow-rs (parquet-wasm) the way
// Arrow-based writers store image arrays: FixedSizeList<uint8>[12] with extension metadata
// {"shape":[2,2,3]} in ARROW:schema. sluice must read the column as a tensor<uint8>[2,2,3].
//
//   fixed_shape_tensor.mjs --sluice BIN --work DIR     (prints "N passed, M failed")
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arrow, parquetWasm } from './lib/peers.mjs';
import { makeChecks } from '../../support/checks.mjs';

const arg = (name) => process.argv[process.argv.indexOf(`--${name}`) + 1];
const sluice = arg('sluice');
const work = arg('work');
mkdirSync(work, { recursive: true });
const file = join(work, 'fixed_shape_tensor.parquet');

const A = arrow();
const rows = 5;
const values = Uint8Array.from({ length: rows * 12 }, (_, i) => (i * 7) % 256);
const item = new A.Field('item', new A.Uint8(), false);
const type = new A.FixedSizeList(12, item);
const meta = new Map([['ARROW:extension:name', 'arrow.fixed_shape_tensor'], ['ARROW:extension:metadata', '{"shape":[2,2,3]}']]);
const child = A.makeData({ type: new A.Uint8(), length: values.length, data: values });
const images = A.makeVector(A.makeData({ type, length: rows, nullCount: 0, child }));
const ids = A.vectorFromArray(Array.from({ length: rows }, (_, i) => i), new A.Int32());
const schema = new A.Schema([new A.Field('id', new A.Int32(), false), new A.Field('image', type, false, meta)]);
const table = new A.Table(schema, { id: ids, image: images });
const pw = parquetWasm();
writeFileSync(file, pw.writeParquet(pw.Table.fromIPCStream(A.tableToIPC(table, 'stream')), new pw.WriterPropertiesBuilder().build()));

const { check, finish } = makeChecks();
const inspect = execFileSync(sluice, ['parquet', 'inspect', file], { encoding: 'utf8' });
check('inspect shows the tensor type', inspect.includes('image: tensor<uint8>[2,2,3]'), inspect);
const lines = execFileSync(sluice, ['parquet', 'cat', file], { encoding: 'utf8' }).trim().split('\n');
check('cat yields every row', lines.length === rows, `${lines.length} lines`);
lines.forEach((line, r) => {
  const got = JSON.parse(line).image;
  const want = [0, 1].map((y) => [0, 1].map((x) => [0, 1, 2].map((c) => values[r * 12 + y * 6 + x * 3 + c])));
  check(`row ${r} holds the right [2,2,3] values`, JSON.stringify(got) === JSON.stringify(want), `${JSON.stringify(got)} != ${JSON.stringify(want)}`);
});
finish();
