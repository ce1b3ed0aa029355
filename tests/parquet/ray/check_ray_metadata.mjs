#!/usr/bin/env node
// Prints, as JSON, what a Parquet file's footer says about each column's Arrow type: the
// extension name, the extension metadata and the storage type recorded in ARROW:schema, plus the
// Parquet leaves. Used to check that a writer (sluice's) stores tensor columns in Ray's layout.
// No Parquet or Arrow library is involved: the footer and the flatbuffer are decoded here, so
// non-UTF-8 metadata (Ray's pickles) is reported byte-exactly.
//
//   check_ray_metadata.mjs FILE
//
// Output (one JSON object):
//   { file, created_by, row_groups: [rows, ...],
//     arrow_schema: { prefix: "continuation"|"legacy", metadata_version, schema_metadata } | null,
//     fields: [{ name, nullable, storage_type,                 // e.g. "large_list<item: uint8>"
//                extension_name,                               // null when not an extension type
//                extension_metadata,                           // UTF-8 text, or base64 when not UTF-8
//                extension_metadata_encoding: "utf8"|"base64",
//                extension_metadata_pickle?,                   // decoded, when it is a pickle
//                other_metadata? }],
//     parquet_leaves: [{ path, physical, logical, converted, repetition }] }
// Exit status: 0 when ARROW:schema is present and decodes, 1 when it is missing or malformed
// (the JSON then has arrow_schema: null and an error), 2 on usage or I/O errors.
import { readFileSync } from 'node:fs';
import { readFooter, keyValueMetadata } from './lib/parquet_footer.mjs';
import { decodeArrowSchemaBase64, typeToString } from './lib/arrow_schema.mjs';
import { loads } from './lib/pickle.mjs';
import { readParquetLayout } from '../interop/lib/parquet_meta.mjs';
import { parquetLeaves } from './lib/parquet_leaves.mjs';

const EXT_NAME = 'ARROW:extension:name';
const EXT_META = 'ARROW:extension:metadata';

function utf8OrNull(bytes) {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { return null; }
}

function encodeBytes(bytes) {
  const text = utf8OrNull(bytes);
  return text !== null ? { value: text, encoding: 'utf8' } : { value: Buffer.from(bytes).toString('base64'), encoding: 'base64' };
}

function describeField(f) {
  const out = { name: f.name, nullable: f.nullable, storage_type: typeToString(f.type), extension_name: null };
  const other = {};
  for (const [k, v] of f.metadata) {
    const key = k.toString('utf8');
    if (key === EXT_NAME) out.extension_name = encodeBytes(v).value;
    else if (key === EXT_META) {
      const e = encodeBytes(v);
      out.extension_metadata = e.value;
      out.extension_metadata_encoding = e.encoding;
      if (v[0] === 0x80) {
        try { out.extension_metadata_pickle = loads(v); } catch (err) { out.extension_metadata_pickle = { error: err.message }; }
      }
    } else other[key] = encodeBytes(v).value;
  }
  if (Object.keys(other).length) out.other_metadata = other;
  return out;
}

const file = process.argv[2];
if (!file || process.argv.length !== 3 || file.startsWith('--')) {
  process.stderr.write('usage: check_ray_metadata.mjs FILE\n');
  process.exit(2);
}
let bytes;
let footer;
let layout;
try {
  bytes = readFileSync(file);
  footer = readFooter(bytes).footer;
  layout = readParquetLayout(file);
} catch (err) {
  process.stderr.write(`${file}: ${err.message}\n`);
  process.exit(2);
}

const result = {
  file,
  created_by: layout.createdBy ?? null,
  row_groups: layout.rowGroups.map((rg) => rg.numRows),
  arrow_schema: null,
  fields: [],
  parquet_leaves: parquetLeaves(layout.schema),
};
let status = 0;
const kv = keyValueMetadata(footer).find(([k]) => k.toString('utf8') === 'ARROW:schema');
if (!kv || kv[1] === null) {
  result.error = 'no ARROW:schema key in the footer';
  status = 1;
} else {
  try {
    const s = decodeArrowSchemaBase64(kv[1].toString('latin1'));
    result.arrow_schema = {
      prefix: s.prefix,
      metadata_version: s.version,
      schema_metadata: Object.fromEntries(s.metadata.map(([k, v]) => [k.toString('utf8'), encodeBytes(v).value])),
    };
    result.fields = s.fields.map(describeField);
  } catch (err) {
    result.error = `ARROW:schema does not decode: ${err.message}`;
    status = 1;
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(status);
