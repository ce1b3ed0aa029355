// parquet-wasm (arrow-rs compiled to wasm) as writer and reader, with apache-arrow (JS) tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { arrow, parquetWasm } from './peers.mjs';
import { COLUMNS, listItemType } from './data.mjs';

function arrowType(type) {
  const A = arrow();
  const item = listItemType(type);
  if (item) return new A.List(new A.Field('item', arrowType(item), true));
  switch (type) {
    case 'int8': return new A.Int8();
    case 'int16': return new A.Int16();
    case 'int32': return new A.Int32();
    case 'int64': return new A.Int64();
    case 'uint32': return new A.Uint32();
    case 'float32': return new A.Float32();
    case 'float64': return new A.Float64();
    case 'bool': return new A.Bool();
    case 'utf8': return new A.Utf8();
    case 'binary': return new A.Binary();
    default: throw new Error(`no Arrow type for '${type}'`);
  }
}

function canonicalType(t) {
  const A = arrow();
  switch (t.typeId) {
    case A.Type.Int: return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
    case A.Type.Float:
      if (t.precision === A.Precision.SINGLE) return 'float32';
      if (t.precision === A.Precision.DOUBLE) return 'float64';
      break;
    case A.Type.Bool: return 'bool';
    case A.Type.Utf8: case A.Type.LargeUtf8: return 'utf8';
    case A.Type.Binary: case A.Type.LargeBinary: return 'binary';
    case A.Type.List: return `list<${canonicalType(t.children[0].type)}>`;
    default: break;
  }
  throw new Error(`Arrow type ${String(t)} has no canonical JSONL form`);
}

export function makeArrowTable(rows) {
  const A = arrow();
  const fields = COLUMNS.map((c) => new A.Field(c.name, arrowType(c.type), c.nullable));
  const vectors = COLUMNS.map((c, k) => A.vectorFromArray(rows.map((r) => r[k]), fields[k].type));
  const data = A.makeData({
    type: new A.Struct(fields), length: rows.length, nullCount: 0, children: vectors.map((v) => v.data[0]),
  });
  return new A.Table(new A.Schema(fields), [new A.RecordBatch(new A.Schema(fields), data)]);
}

const CODECS = { uncompressed: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', lz4_raw: 'LZ4_RAW', brotli: 'BROTLI' };

// variant: { compression, dictionary, version: 'v1'|'v2', rowGroupRows?, pageBytes?, dictionaryPageBytes?,
//            writeBatchRows?, encodings?: { column: ENCODING } }
export function writeParquetWasm(file, rows, variant) {
  const pw = parquetWasm();
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression[CODECS[variant.compression]])
    .setDictionaryEnabled(variant.dictionary)
    .setWriterVersion(variant.version === 'v2' ? pw.WriterVersion.V2 : pw.WriterVersion.V1);
  if (variant.rowGroupRows) b = b.setMaxRowGroupSize(variant.rowGroupRows);
  if (variant.pageBytes) b = b.setDataPageSizeLimit(variant.pageBytes);
  if (variant.dictionaryPageBytes) b = b.setDictionaryPageSizeLimit(variant.dictionaryPageBytes);
  if (variant.writeBatchRows) b = b.setWriteBatchSize(variant.writeBatchRows);
  for (const [col, enc] of Object.entries(variant.encodings ?? {})) b = b.setColumnEncoding(col, pw.Encoding[enc]);
  const wasmTable = pw.Table.fromIPCStream(arrow().tableToIPC(makeArrowTable(rows), 'stream'));
  writeFileSync(file, pw.writeParquet(wasmTable, b.build()));
}

function jsValue(v) {
  const A = arrow();
  if (v instanceof A.Vector) {
    const out = [];
    for (let i = 0; i < v.length; i++) out.push(jsValue(v.get(i)));
    return out;
  }
  return v ?? null;
}

// Returns { columns: [{ name, type }], rows } as parquet-wasm reads the file.
export function readParquetWasm(file) {
  const A = arrow();
  const pw = parquetWasm();
  const table = A.tableFromIPC(pw.readParquet(readFileSync(file)).intoIPCStream());
  const fields = table.schema.fields;
  const columns = fields.map((f) => ({ name: f.name, type: canonicalType(f.type) }));
  const children = fields.map((f, k) => table.getChildAt(k));
  const rows = [];
  for (let i = 0; i < table.numRows; i++) rows.push(children.map((c) => jsValue(c.get(i))));
  return { columns, rows };
}
