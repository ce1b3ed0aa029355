#!/usr/bin/env node
// Writes Parquet files that store a tensor column the way Ray Data does, for testing sluice's
// reader against every layout Ray has used:
//
//   make_ray_files.mjs OUT_DIR [--rows N] [--seed S] [--shape 4,5,3] [--float-shape 3,8,8]
//                      [--row-groups 2]
//
// Each file has columns id (string "r0", "r1", ...), label (int64) and image (the tensor
// column), split into --row-groups row groups, plus OUT_DIR/NAME.expected.json with, per row, the
// id, label, shape and checksums (see README.md). Output is byte-for-byte deterministic.
//
// How a file is made: apache-arrow (JS) builds a plain table with the *storage* type, parquet-wasm
// (arrow-rs) writes it (SNAPPY, dictionary on, data page v1: pyarrow's defaults), then the
// footer's ARROW:schema value is replaced by an Arrow IPC Schema message built here byte by byte
// (lib/arrow_schema.mjs), whose image field carries ARROW:extension:name and
// ARROW:extension:metadata exactly as pyarrow writes them, and the root schema element is
// renamed from arrow-rs's "arrow_schema" to pyarrow's "schema". created_by stays parquet-rs's. Neither Arrow JS nor arrow-rs can
// carry that metadata themselves: both use string maps, and Ray's pickled metadata is not UTF-8.
// The Parquet list leaf is named `element` (pyarrow >= 13) or `item` (pyarrow < 13), while the
// list child inside ARROW:schema is always `item`, as pyarrow names it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arrow, parquetWasm } from '../interop/lib/peers.mjs';
import { parseArgs, die } from '../interop/lib/cli.mjs';
import { encodeArrowSchemaBase64, decodeArrowSchemaBase64, typeToString, metadataValue } from './lib/arrow_schema.mjs';
import { editFooter, setKeyValue, setRootName, readFooter, keyValueMetadata } from './lib/parquet_footer.mjs';
import { dumps, loads, py } from './lib/pickle.mjs';
import { uint8Row, float32Row, numel, checksum, UINT8_FORMULA, FLOAT32_FORMULA } from './lib/tensors.mjs';

const args = parseArgs(process.argv.slice(2), { rows: 'string', seed: 'string', shape: 'string', 'float-shape': 'string', 'row-groups': 'string', help: 'boolean' });
if (args.help || args._.length !== 1) {
  die('usage: make_ray_files.mjs OUT_DIR [--rows N] [--seed S] [--shape 4,5,3] [--float-shape 3,8,8] [--row-groups 2]');
}
const outDir = args._[0];
const intArg = (v, dflt, name, min) => {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) die(`--${name} must be an integer >= ${min}`);
  return Number(v);
};
const shapeArg = (v, dflt, name) => {
  if (v === undefined) return dflt;
  const s = v.split(',').map((x) => Number(x));
  if (s.length === 0 || s.some((x) => !Number.isInteger(x) || x < 1 || x > 65535)) die(`--${name} must be like 4,5,3 (dimensions 1..65535)`);
  return s;
};
const ROWS = intArg(args.rows, 10, 'rows', 1);
const SEED = intArg(args.seed, 20240601, 'seed', 0);
if (SEED > 0xffffffff) die('--seed must be below 2^32');
const SHAPE = shapeArg(args.shape, [4, 5, 3], 'shape');
const FLOAT_SHAPE = shapeArg(args['float-shape'], [3, 8, 8], 'float-shape');
const ROW_GROUPS = Math.min(intArg(args['row-groups'], 2, 'row-groups', 1), ROWS);
// Shapes the variable-shaped files cycle through (all ndim 3).
const VAR_SHAPES = [[4, 5, 3], [6, 2, 3], [3, 3, 3]];

// ---- extension metadata, as Ray writes it ----

// json.dumps(shape).encode(): Python's separators, e.g. b"[4, 5, 3]"; json.dumps(ndim) is b"3".
const jsonShape = (shape) => Buffer.from(`[${shape.join(', ')}]`, 'utf8');
// ray.cloudpickle.dumps(tuple(shape)): protocol 5 (cloudpickle's DEFAULT_PROTOCOL =
// pickle.HIGHEST_PROTOCOL), which for a tuple of ints is exactly pickle.dumps(shape, protocol=5).
const cloudpickleShape = (shape) => dumps(py.tuple(...shape), 5);
const cloudpickleInt = (n) => dumps(n, 5);
// pyarrow's PyExtensionType.__arrow_ext_serialize__ = pickle.dumps(self) (protocol 4, the
// default of Python 3.8 to 3.13), with Ray < 2.9's ArrowTensorType.__reduce__ returning
// (ArrowTensorType, (shape, storage_type.value_type)) and pyarrow's DataType.__reduce__
// returning (type_for_alias, (str(self),)).
const pyExtensionTensorType = (shape, dtypeAlias) => dumps(py.reduce(
  py.global('ray.air.util.tensor_extensions.arrow', 'ArrowTensorType'),
  py.tuple(py.tuple(...shape), py.reduce(py.global('pyarrow.lib', 'type_for_alias'), py.tuple(py.str(dtypeAlias)))),
), 4);

// ---- layouts ----

const U8 = { id: 'int', bits: 8, signed: false };
const I64 = { id: 'int', bits: 64, signed: true };
const F32 = { id: 'float', precision: 'single' };
const itemOf = (type) => ({ name: 'item', nullable: true, type, metadata: [] });

const LAYOUTS = [
  {
    name: 'ray_v1_json', ray: 'Ray 2.9 to 2.48 with DataContext.use_arrow_tensor_v2 = False (the default before late 2024)',
    extension: 'ray.data.arrow_tensor', kind: 'fixed', dtype: 'uint8', list: 'list', leaf: 'element',
    shape: SHAPE, metadata: jsonShape(SHAPE),
  },
  {
    name: 'ray_v2_large_list', ray: 'Ray from late 2024 to 2.48 (ArrowTensorTypeV2, JSON shape)',
    extension: 'ray.data.arrow_tensor_v2', kind: 'fixed', dtype: 'uint8', list: 'large_list', leaf: 'element',
    shape: SHAPE, metadata: jsonShape(SHAPE),
  },
  {
    name: 'ray_v2_pickled', ray: 'Ray >= 2.49 (ray-project/ray#54831: shape serialized with ray.cloudpickle unless RAY_DATA_ARROW_EXTENSION_SERIALIZATION_LEGACY_JSON_FORMAT=1)',
    extension: 'ray.data.arrow_tensor_v2', kind: 'fixed', dtype: 'uint8', list: 'large_list', leaf: 'element',
    shape: SHAPE, metadata: cloudpickleShape(SHAPE),
  },
  {
    name: 'ray_pre29_pickled', ray: 'Ray < 2.9 with pyarrow < 13 (pa.PyExtensionType subclass until ray-project/ray#41036, pickled type, Parquet leaf `item`)',
    extension: 'arrow.py_extension_type', kind: 'fixed', dtype: 'uint8', list: 'list', leaf: 'item',
    shape: SHAPE, metadata: pyExtensionTensorType(SHAPE, 'uint8'),
  },
  {
    name: 'ray_variable_shaped', ray: 'Ray 2.9 until data became large_list (ray-project/ray#45352); JSON ndim',
    extension: 'ray.data.arrow_variable_shaped_tensor', kind: 'variable', dtype: 'uint8', list: 'list', leaf: 'element',
    metadata: Buffer.from('3', 'utf8'),
  },
  {
    name: 'ray_variable_shaped_v2_pickled', ray: 'Ray >= 2.49: data large_list, ndim serialized with ray.cloudpickle',
    extension: 'ray.data.arrow_variable_shaped_tensor', kind: 'variable', dtype: 'uint8', list: 'large_list', leaf: 'element',
    metadata: cloudpickleInt(3),
  },
  {
    name: 'ray_variable_shaped_bad', ray: 'not written by Ray: ray_variable_shaped with one malformed row (empty data, shape [4,5,3])',
    extension: 'ray.data.arrow_variable_shaped_tensor', kind: 'variable', dtype: 'uint8', list: 'list', leaf: 'element',
    metadata: Buffer.from('3', 'utf8'), malformedRow: Math.min(2, ROWS - 1),
  },
  {
    name: 'ray_float32_chw', ray: 'Ray >= 2.49: a float32 CHW tensor (a small stand-in for [3,224,224]), pickled shape',
    extension: 'ray.data.arrow_tensor_v2', kind: 'fixed', dtype: 'float32', list: 'large_list', leaf: 'element',
    shape: FLOAT_SHAPE, metadata: cloudpickleShape(FLOAT_SHAPE),
  },
];

// ---- rows ----

function makeRows(layout) {
  const rows = [];
  for (let i = 0; i < ROWS; i++) {
    const shape = layout.kind === 'fixed' ? layout.shape : VAR_SHAPES[i % VAR_SHAPES.length];
    const n = numel(shape);
    const values = layout.dtype === 'float32' ? float32Row(SEED, i, n) : uint8Row(SEED, i, n);
    const row = { id: `r${i}`, label: (i * 37 + SEED) % 1000, shape, values };
    if (i === layout.malformedRow) {
      row.shape = [4, 5, 3];
      row.values = new Uint8Array(0);
      row.malformed = true;
    }
    rows.push(row);
  }
  return rows;
}

// ---- Arrow JS table with the storage types ----

function elementType(A, dtype) {
  return dtype === 'float32' ? new A.Float32() : new A.Uint8();
}

function listData(A, listKind, leafName, elemType, TypedArray, valuesPerRow) {
  const total = valuesPerRow.reduce((a, v) => a + v.length, 0);
  const flat = new TypedArray(total);
  const offsets = listKind === 'large_list' ? new BigInt64Array(valuesPerRow.length + 1) : new Int32Array(valuesPerRow.length + 1);
  let at = 0;
  valuesPerRow.forEach((v, k) => {
    flat.set(v, at);
    at += v.length;
    offsets[k + 1] = listKind === 'large_list' ? BigInt(at) : at;
  });
  const field = new A.Field(leafName, elemType, true);
  const type = listKind === 'large_list' ? new A.LargeList(field) : new A.List(field);
  const child = A.makeData({ type: elemType, length: total, nullCount: 0, data: flat });
  return A.makeData({ type, length: valuesPerRow.length, nullCount: 0, valueOffsets: offsets, child });
}

function storageData(A, layout, rows) {
  const elem = elementType(A, layout.dtype);
  const Typed = layout.dtype === 'float32' ? Float32Array : Uint8Array;
  const data = listData(A, layout.list, layout.leaf, elem, Typed, rows.map((r) => r.values));
  if (layout.kind === 'fixed') return data;
  const shapes = listData(A, 'list', layout.leaf, new A.Int64(), BigInt64Array, rows.map((r) => BigInt64Array.from(r.shape, BigInt)));
  const type = new A.Struct([new A.Field('data', data.type, true), new A.Field('shape', shapes.type, true)]);
  return A.makeData({ type, length: rows.length, nullCount: 0, children: [data, shapes] });
}

function writeStorageParquet(layout, rows) {
  const A = arrow();
  const pw = parquetWasm();
  const image = storageData(A, layout, rows);
  const ids = A.vectorFromArray(rows.map((r) => r.id), new A.Utf8());
  const labels = A.makeVector(A.makeData({ type: new A.Int64(), length: rows.length, nullCount: 0, data: BigInt64Array.from(rows, (r) => BigInt(r.label)) }));
  const schema = new A.Schema([new A.Field('id', new A.Utf8(), true), new A.Field('label', new A.Int64(), true), new A.Field('image', image.type, true)]);
  const table = new A.Table(schema, { id: ids, label: labels, image: A.makeVector(image) });
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.SNAPPY)
    .setDictionaryEnabled(true)
    .setWriterVersion(pw.WriterVersion.V1)
    .setMaxRowGroupSize(Math.ceil(rows.length / ROW_GROUPS))
    .build();
  return Buffer.from(pw.writeParquet(pw.Table.fromIPCStream(A.tableToIPC(table, 'stream')), props));
}

// ---- the ARROW:schema pyarrow would store ----

function arrowFields(layout) {
  const elem = layout.dtype === 'float32' ? F32 : U8;
  let storage = { id: layout.list, child: itemOf(elem) };
  if (layout.kind === 'variable') {
    storage = { id: 'struct', children: [
      { name: 'data', nullable: true, type: storage, metadata: [] },
      { name: 'shape', nullable: true, type: { id: 'list', child: itemOf(I64) }, metadata: [] },
    ] };
  }
  return [
    { name: 'id', nullable: true, type: { id: 'utf8' }, metadata: [] },
    { name: 'label', nullable: true, type: I64, metadata: [] },
    { name: 'image', nullable: true, type: storage, metadata: [
      ['ARROW:extension:name', layout.extension],
      ['ARROW:extension:metadata', layout.metadata],
    ] },
  ];
}

function describeMetadata(bytes) {
  const out = { hex: bytes.toString('hex'), base64: bytes.toString('base64') };
  let text = null;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { /* not UTF-8 */ }
  if (text !== null) out.utf8 = text;
  if (bytes[0] === 0x80) out.pickle = loads(bytes);
  return out;
}

function expectedJson(layout, rows, file, storageType) {
  const groupRows = Math.ceil(rows.length / ROW_GROUPS);
  const rowGroups = [];
  for (let lo = 0; lo < rows.length; lo += groupRows) rowGroups.push(Math.min(groupRows, rows.length - lo));
  return {
    file,
    written_like: layout.ray,
    column: 'image',
    extension_name: layout.extension,
    extension_metadata: describeMetadata(layout.metadata),
    storage_type: storageType,
    parquet_leaves: layout.kind === 'fixed'
      ? [`image.list.${layout.leaf}`]
      : [`image.data.list.${layout.leaf}`, `image.shape.list.${layout.leaf}`],
    dtype: layout.dtype,
    row_groups: rowGroups,
    seed: SEED,
    values: layout.dtype === 'float32' ? FLOAT32_FORMULA : UINT8_FORMULA,
    label: '(i*37 + seed) mod 1000',
    checksum: 'sum: exact integer sum (uint8) or the double sum of the float32 values in row-major order; fnv1a64: FNV-1a 64-bit of the little-endian element bytes in row-major order, 16 hex digits; head: the first 8 elements',
    rows: rows.map((r) => {
      const base = { id: r.id, label: r.label };
      if (r.malformed) {
        return { ...base, malformed: true, shape: r.shape, data_numel: 0,
          reason: `data holds 0 elements but shape [${r.shape.join(',')}] needs ${numel(r.shape)}` };
      }
      return { ...base, ...checksum(r.values, r.shape) };
    }),
  };
}

// Pretty JSON with one line per row.
function formatExpected(expected) {
  const { rows, ...head } = expected;
  const top = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${top},\n  "rows": [\n${rows.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n  ]\n}\n`;
}

// ---- main ----

mkdirSync(outDir, { recursive: true });
for (const layout of LAYOUTS) {
  const rows = makeRows(layout);
  const file = `${layout.name}.parquet`;
  const fields = arrowFields(layout);
  const plain = writeStorageParquet(layout, rows);
  const patched = editFooter(plain, (footer) => {
    setKeyValue(footer, 'ARROW:schema', encodeArrowSchemaBase64(fields));
    setRootName(footer, 'schema');
  });

  // Read our own footer back: the image field must carry exactly the intended bytes.
  const kv = keyValueMetadata(readFooter(patched).footer).find(([k]) => k.toString() === 'ARROW:schema');
  const image = decodeArrowSchemaBase64(kv[1].toString('latin1')).fields.find((f) => f.name === 'image');
  if (!metadataValue(image, 'ARROW:extension:metadata').equals(layout.metadata)
    || metadataValue(image, 'ARROW:extension:name').toString() !== layout.extension) {
    die(`${file}: ARROW:schema did not round-trip`, 1);
  }

  writeFileSync(join(outDir, file), patched);
  const expected = expectedJson(layout, rows, file, typeToString(image.type));
  writeFileSync(join(outDir, `${layout.name}.expected.json`), formatExpected(expected));
  console.log(`wrote ${file}: ${layout.extension} ${expected.storage_type}, metadata ${expected.extension_metadata.utf8 !== undefined ? JSON.stringify(expected.extension_metadata.utf8) : `0x${expected.extension_metadata.hex}`}, ${rows.length} rows in ${expected.row_groups.length} row groups`);
}
