#!/usr/bin/env node
// Checks the files written by make_ray_files.mjs against independent readers:
//
//   verify_ray_files.mjs DIR          (prints ok/FAIL lines, then "N passed, M failed")
//
// For each NAME.expected.json in DIR:
//   footer    our own footer and flatbuffer decoders: extension name, metadata bytes, storage type,
//             root schema element named "schema".
//   duckdb-kv DuckDB's parquet_kv_metadata returns the same ARROW:schema bytes.
//   arrow-js  Arrow JS parses the ARROW:schema message on its own (an IPC stream of it + EOS):
//             same fields, types and extension name; same metadata when it is UTF-8.
//   arrow-rs  parquet-wasm reads the file: UTF-8 metadata round-trips and the rows match. For
//             pickled metadata arrow-rs refuses the file (its flatbuffer verifier requires UTF-8);
//             that refusal is checked, then arrow-rs reads (a) a copy without ARROW:schema (rows
//             must match) and (b) a copy whose metadata is replaced by its hex text (the rest of
//             our flatbuffer must be accepted and the storage type kept).
//   duckdb    DuckDB reads every row: id, label, shape and checksums match (the malformed row of
//             ray_variable_shaped_bad holds an empty data list and its shape).
//   parquet   the Parquet leaves and their physical/logical types, and the row groups.
//   python    /usr/bin/python3 unpickles each pickle (with stand-in modules for ray and pyarrow)
//             and pickle.dumps gives the same bytes back. Skipped without /usr/bin/python3.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { arrow, parquetWasm, duckdb } from '../interop/lib/peers.mjs';
import { readParquetLayout } from '../interop/lib/parquet_meta.mjs';
import { readFooter, keyValueMetadata, editFooter, removeKeyValue, setKeyValue } from './lib/parquet_footer.mjs';
import { decodeSchemaMessage, encodeSchemaMessage, typeToString, metadataValue } from './lib/arrow_schema.mjs';
import { checksum } from './lib/tensors.mjs';
import { parquetLeaves } from './lib/parquet_leaves.mjs';

const dir = process.argv[2];
if (!dir || !existsSync(dir)) {
  process.stderr.write('usage: verify_ray_files.mjs DIR\n');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) { passed += 1; console.log(`ok ${name}`); } else { failed += 1; console.log(`FAIL ${name}: ${detail}`); }
}
const attempt = (name, fn) => {
  try { fn(); } catch (err) { check(name, false, err.stack ?? err.message); }
};
const json = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x));

// Compares rows read by a library ({ id, label, shape?, values }) with expected.json rows.
function compareRows(tag, expected, got) {
  check(`${tag} row count`, got.length === expected.rows.length, `${got.length} != ${expected.rows.length}`);
  expected.rows.forEach((want, i) => {
    const row = got[i];
    if (!row) return;
    const name = `${tag} row ${want.id}`;
    if (row.id !== want.id || row.label !== want.label) {
      check(name, false, `id/label ${row.id}/${row.label} != ${want.id}/${want.label}`);
      return;
    }
    if (want.malformed) {
      check(name, row.values.length === want.data_numel && json(row.shape) === json(want.shape),
        `malformed row read as ${row.values.length} values, shape ${json(row.shape)}`);
      return;
    }
    const shape = row.shape ?? want.shape;
    const sum = checksum(row.values, shape);
    const fields = ['shape', 'numel', 'sum', 'fnv1a64', 'head'];
    const diff = fields.filter((f) => json(sum[f]) !== json(want[f]));
    check(name, diff.length === 0, diff.map((f) => `${f}: ${json(sum[f])} != ${json(want[f])}`).join('; '));
  });
}

// ---- arrow-rs (parquet-wasm) ----

function readWithArrowRs(bytes) {
  const A = arrow();
  const pw = parquetWasm();
  return A.tableFromIPC(pw.readParquet(bytes).intoIPCStream());
}

function rowsFromArrowJs(table, expected) {
  const ids = table.getChild('id');
  const labels = table.getChild('label');
  const image = table.getChild('image');
  const Typed = expected.dtype === 'float32' ? Float32Array : Uint8Array;
  const rows = [];
  for (let i = 0; i < table.numRows; i++) {
    const v = image.get(i);
    let values;
    let shape;
    if (storageIdOf(expected) !== 'struct') values = Typed.from(v.toArray());
    else {
      values = Typed.from(v.data.toArray());
      shape = Array.from(v.shape.toArray(), Number);
    }
    rows.push({ id: ids.get(i), label: Number(labels.get(i)), shape, values });
  }
  return rows;
}

const ARROW_JS_TYPE = { list: 'List', large_list: 'LargeList', struct: 'Struct' };

function storageIdOf(expected) {
  const t = expected.storage_type;
  return t.startsWith('large_list') ? 'large_list' : t.startsWith('list') ? 'list' : 'struct';
}

// ---- main ----

const dbm = duckdb();
const instance = await dbm.DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await instance.connect();
const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : null;

const names = readdirSync(dir).filter((f) => f.endsWith('.expected.json')).sort();
if (names.length === 0) { process.stderr.write(`${dir}: no *.expected.json files\n`); process.exit(2); }

for (const expName of names) {
  const expected = JSON.parse(readFileSync(join(dir, expName), 'utf8'));
  const file = join(dir, expected.file);
  const tag = expected.file.replace(/\.parquet$/, '');
  const bytes = readFileSync(file);
  const wantMeta = Buffer.from(expected.extension_metadata.hex, 'hex');
  const isUtf8 = expected.extension_metadata.utf8 !== undefined;

  // footer: our own decoders.
  let schemaBytes = null;
  let decoded = null;
  attempt(`${tag} footer`, () => {
    const { footer } = readFooter(bytes);
    const kv = keyValueMetadata(footer).find(([k]) => k.toString() === 'ARROW:schema');
    schemaBytes = Buffer.from(kv[1].toString('latin1'), 'base64');
    decoded = decodeSchemaMessage(schemaBytes);
    const image = decoded.fields.find((f) => f.name === 'image');
    const problems = [];
    if (json(decoded.fields.map((f) => f.name)) !== json(['id', 'label', 'image'])) problems.push(`fields ${decoded.fields.map((f) => f.name)}`);
    if (metadataValue(image, 'ARROW:extension:name')?.toString() !== expected.extension_name) problems.push('extension name');
    if (!metadataValue(image, 'ARROW:extension:metadata')?.equals(wantMeta)) problems.push('extension metadata bytes');
    if (typeToString(image.type) !== expected.storage_type) problems.push(`storage ${typeToString(image.type)}`);
    if (decoded.prefix !== 'continuation' || decoded.version !== 4) problems.push(`prefix ${decoded.prefix} version ${decoded.version}`);
    if (!encodeSchemaMessage(decoded.fields).equals(schemaBytes)) problems.push('re-encoding the decoded schema gives other bytes');
    const root = footer.fields.find((x) => x.id === 2).v.items[0].fields.find((x) => x.id === 4).v.toString();
    if (root !== 'schema') problems.push(`root schema element named ${root}`);
    check(`${tag} footer`, problems.length === 0, problems.join('; '));
  });

  // duckdb-kv: DuckDB's own Thrift reader sees the same ARROW:schema value.
  await (async () => {
    try {
      const r = await conn.runAndReadAll(`SELECT key::VARCHAR AS k, value FROM parquet_kv_metadata(${quote(file)})`);
      const rows = r.getRowObjectsJS().filter((x) => x.k === 'ARROW:schema');
      const v = rows.length === 1 ? Buffer.from(rows[0].value.bytes ?? rows[0].value) : null;
      check(`${tag} duckdb-kv`, v !== null && Buffer.from(v.toString('latin1'), 'base64').equals(schemaBytes ?? Buffer.alloc(0)),
        `DuckDB sees ${rows.length} ARROW:schema keys${v ? ` of ${v.length} bytes` : ''}`);
    } catch (err) { check(`${tag} duckdb-kv`, false, err.message); }
  })();

  // arrow-js: an independent flatbuffer parser reads the schema message.
  attempt(`${tag} arrow-js`, () => {
    const A = arrow();
    const eos = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    const t = A.tableFromIPC(Buffer.concat([schemaBytes, eos]));
    const f = t.schema.fields.find((x) => x.name === 'image');
    const problems = [];
    if (json(t.schema.fields.map((x) => x.name)) !== json(['id', 'label', 'image'])) problems.push('field names');
    if (A.Type[f.type.typeId] !== ARROW_JS_TYPE[storageIdOf(expected)]) problems.push(`type ${A.Type[f.type.typeId]}`);
    if (f.metadata.get('ARROW:extension:name') !== expected.extension_name) problems.push('extension name');
    if (isUtf8 && f.metadata.get('ARROW:extension:metadata') !== expected.extension_metadata.utf8) problems.push('extension metadata');
    if (!isUtf8 && f.metadata.get('ARROW:extension:metadata') !== new TextDecoder().decode(wantMeta)) problems.push('extension metadata (lossy UTF-8 view)');
    check(`${tag} arrow-js`, problems.length === 0, problems.join('; '));
  });

  // arrow-rs (parquet-wasm).
  if (isUtf8) {
    attempt(`${tag} arrow-rs`, () => {
      const A = arrow();
      const t = readWithArrowRs(bytes);
      const f = t.schema.fields.find((x) => x.name === 'image');
      const ok = f.metadata.get('ARROW:extension:name') === expected.extension_name
        && f.metadata.get('ARROW:extension:metadata') === expected.extension_metadata.utf8
        && A.Type[f.type.typeId] === ARROW_JS_TYPE[storageIdOf(expected)];
      check(`${tag} arrow-rs schema`, ok, `${String(f.type)} ${json([...f.metadata])}`);
      compareRows(`${tag} arrow-rs`, expected, rowsFromArrowJs(t, expected));
    });
  } else {
    attempt(`${tag} arrow-rs refuses pickled metadata`, () => {
      let error = null;
      try { readWithArrowRs(bytes); } catch (err) { error = String(err.message ?? err); }
      check(`${tag} arrow-rs refuses pickled metadata`, error !== null && /Utf8Error/.test(error) && /custom_metadata/.test(error),
        error === null ? 'arrow-rs read the file (expected a UTF-8 error)' : error);
    });
    attempt(`${tag} arrow-rs without ARROW:schema`, () => {
      const stripped = editFooter(bytes, (footer) => removeKeyValue(footer, 'ARROW:schema'));
      compareRows(`${tag} arrow-rs (no ARROW:schema)`, expected, rowsFromArrowJs(readWithArrowRs(stripped), expected));
    });
    attempt(`${tag} arrow-rs with hex metadata`, () => {
      const A = arrow();
      const fields = decoded.fields.map((f) => (f.name !== 'image' ? f : {
        ...f, metadata: f.metadata.map(([k, v]) => [k, k.toString() === 'ARROW:extension:metadata' ? Buffer.from(v.toString('hex')) : v]),
      }));
      const hexed = editFooter(bytes, (footer) => setKeyValue(footer, 'ARROW:schema', encodeSchemaMessage(fields).toString('base64')));
      const t = readWithArrowRs(hexed);
      const f = t.schema.fields.find((x) => x.name === 'image');
      const ok = f.metadata.get('ARROW:extension:name') === expected.extension_name
        && f.metadata.get('ARROW:extension:metadata') === expected.extension_metadata.hex
        && A.Type[f.type.typeId] === ARROW_JS_TYPE[storageIdOf(expected)];
      check(`${tag} arrow-rs with hex metadata`, ok, `${String(f.type)} ${json([...f.metadata])}`);
    });
  }

  // duckdb: values.
  await (async () => {
    try {
      const r = await conn.runAndReadAll(`SELECT * FROM read_parquet(${quote(file)})`);
      const Typed = expected.dtype === 'float32' ? Float32Array : Uint8Array;
      const rows = r.getRowsJS().map(([id, label, image]) => {
        if (Array.isArray(image)) return { id, label: Number(label), values: Typed.from(image) };
        return { id, label: Number(label), shape: image.shape.map(Number), values: Typed.from(image.data) };
      });
      compareRows(`${tag} duckdb`, expected, rows);
    } catch (err) { check(`${tag} duckdb`, false, err.message); }
  })();

  // parquet: leaves, types, row groups.
  attempt(`${tag} parquet`, () => {
    const layout = readParquetLayout(file);
    const all = parquetLeaves(layout.schema);
    const leaves = all.map((c) => c.path);
    const leaf = all.find((c) => c.path === expected.parquet_leaves[0]) ?? {};
    const problems = [];
    if (json(leaves) !== json(['id', 'label', ...expected.parquet_leaves])) problems.push(`leaves ${json(leaves)}`);
    if (json(layout.rowGroups[0].columns.map((c) => c.path)) !== json(leaves)) problems.push('column chunk paths differ from the schema leaves');
    const shapeLeaf = all.find((c) => c.path === expected.parquet_leaves[1]);
    if (shapeLeaf && !(shapeLeaf.physical === 'INT64' && shapeLeaf.logical === null)) problems.push(`shape leaf ${json(shapeLeaf)}`);
    if (all.some((c) => c.repetition !== 'OPTIONAL')) problems.push('a leaf is not OPTIONAL');
    if (expected.dtype === 'uint8' && !(leaf.physical === 'INT32' && leaf.logical === 'INTEGER(8,unsigned)' && leaf.converted === 'UINT_8')) problems.push(`uint8 leaf ${json(leaf)}`);
    if (expected.dtype === 'float32' && !(leaf.physical === 'FLOAT' && leaf.logical === null)) problems.push(`float leaf ${json(leaf)}`);
    if (json(layout.rowGroups.map((rg) => rg.numRows)) !== json(expected.row_groups)) problems.push(`row groups ${json(layout.rowGroups.map((rg) => rg.numRows))}`);
    check(`${tag} parquet`, problems.length === 0, problems.join('; '));
  });

  // python: the pickles are what CPython's pickler emits.
  if (!isUtf8) {
    if (!python) console.log(`skip ${tag} python: /usr/bin/python3 not found`);
    else {
      attempt(`${tag} python`, () => {
        const script = [
          'import pickle, sys, types',
          'for n in ["pyarrow", "pyarrow.lib", "ray", "ray.air", "ray.air.util", "ray.air.util.tensor_extensions", "ray.air.util.tensor_extensions.arrow"]:',
          '    sys.modules[n] = types.ModuleType(n)',
          'class DataType:',
          '    def __init__(self, alias): self.alias = alias',
          '    def __reduce__(self): return type_for_alias, (self.alias,)',
          'def type_for_alias(alias): return DataType(alias)',
          'type_for_alias.__module__ = "pyarrow.lib"; sys.modules["pyarrow.lib"].type_for_alias = type_for_alias',
          'class ArrowTensorType:',
          '    def __init__(self, shape, dtype): self.shape, self.dtype = shape, dtype',
          '    def __reduce__(self): return ArrowTensorType, (self.shape, self.dtype)',
          'ArrowTensorType.__module__ = "ray.air.util.tensor_extensions.arrow"',
          'sys.modules[ArrowTensorType.__module__].ArrowTensorType = ArrowTensorType',
          'b = bytes.fromhex(sys.argv[1])',
          'obj = pickle.loads(b)',
          'same = pickle.dumps(obj, protocol=b[1]) == b',
          'if isinstance(obj, ArrowTensorType): obj = {"type": "ArrowTensorType", "shape": obj.shape, "dtype": obj.dtype.alias}',
          'print(repr(obj), "protocol", b[1], "same-bytes", same)',
        ].join('\n');
        const out = execFileSync(python, ['-c', script, wantMeta.toString('hex')], { encoding: 'utf8' }).trim();
        const [, same] = out.match(/same-bytes (True|False)$/) ?? [];
        check(`${tag} python`, same === 'True', out);
        console.log(`   python: ${out}`);
      });
    }
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
