// Minimal Parquet footer and page-header reader (Thrift compact protocol), used to record what
// each writer really produced: codecs, page types, encodings, row groups, schema annotations.
import { readFileSync } from 'node:fs';

const CT = { STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8,
  LIST: 9, SET: 10, MAP: 11, STRUCT: 12 };

class CompactReader {
  constructor(buf, pos = 0) { this.buf = buf; this.pos = pos; }
  byte() {
    if (this.pos >= this.buf.length) throw new Error('thrift: read past end of buffer');
    return this.buf[this.pos++];
  }
  varint() {
    let result = 0n, shift = 0n, b;
    do { b = this.byte(); result |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80);
    return result;
  }
  zigzag() { const v = this.varint(); return (v >> 1n) ^ -(v & 1n); }
  int() { return Number(this.zigzag()); }
  value(type) {
    switch (type) {
      case CT.TRUE: return true;
      case CT.FALSE: return false;
      case CT.BYTE: { const b = this.byte(); return b > 127 ? b - 256 : b; }
      case CT.I16: case CT.I32: case CT.I64: return this.int();
      case CT.DOUBLE: { const v = this.buf.readDoubleLE(this.pos); this.pos += 8; return v; }
      case CT.BINARY: {
        const n = Number(this.varint());
        const v = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return v;
      }
      case CT.LIST: case CT.SET: return this.list();
      case CT.MAP: return this.map();
      case CT.STRUCT: return this.struct();
      default: throw new Error(`thrift: unknown compact type ${type}`);
    }
  }
  list() {
    const h = this.byte();
    let n = h >> 4;
    const et = h & 0x0f;
    if (n === 15) n = Number(this.varint());
    const out = [];
    for (let i = 0; i < n; i++) {
      if (et === CT.TRUE || et === CT.FALSE) out.push(this.byte() === CT.TRUE);
      else out.push(this.value(et));
    }
    return out;
  }
  map() {
    const n = Number(this.varint());
    if (n === 0) return [];
    const kv = this.byte();
    const out = [];
    for (let i = 0; i < n; i++) out.push([this.value(kv >> 4), this.value(kv & 0x0f)]);
    return out;
  }
  // A struct as a plain object keyed by field id.
  struct() {
    const out = {};
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === CT.STOP) return out;
      const delta = h >> 4;
      const id = delta ? last + delta : this.int();
      out[id] = this.value(h & 0x0f);
      last = id;
    }
  }
}

export const TYPE = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];
export const CODEC = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];
export const ENCODING = ['PLAIN', 'GROUP_VAR_INT', 'PLAIN_DICTIONARY', 'RLE', 'BIT_PACKED', 'DELTA_BINARY_PACKED',
  'DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY', 'RLE_DICTIONARY', 'BYTE_STREAM_SPLIT'];
export const PAGE_TYPE = ['DATA_PAGE', 'INDEX_PAGE', 'DICTIONARY_PAGE', 'DATA_PAGE_V2'];
const REPETITION = ['REQUIRED', 'OPTIONAL', 'REPEATED'];
const CONVERTED = ['UTF8', 'MAP', 'MAP_KEY_VALUE', 'LIST', 'ENUM', 'DECIMAL', 'DATE', 'TIME_MILLIS', 'TIME_MICROS',
  'TIMESTAMP_MILLIS', 'TIMESTAMP_MICROS', 'UINT_8', 'UINT_16', 'UINT_32', 'UINT_64', 'INT_8', 'INT_16', 'INT_32',
  'INT_64', 'JSON', 'BSON', 'INTERVAL'];
const LOGICAL = { 1: 'STRING', 2: 'MAP', 3: 'LIST', 4: 'ENUM', 5: 'DECIMAL', 6: 'DATE', 7: 'TIME', 8: 'TIMESTAMP',
  10: 'INTEGER', 11: 'UNKNOWN', 12: 'JSON', 13: 'BSON', 14: 'UUID', 15: 'FLOAT16', 16: 'VARIANT' };

const name = (table, v) => (v === undefined ? undefined : table[v] ?? `?${v}`);
const text = (b) => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

function logicalType(lt) {
  if (!lt) return undefined;
  const [id, body] = Object.entries(lt)[0];
  const kind = LOGICAL[id] ?? `?${id}`;
  if (kind === 'INTEGER') return `INTEGER(${body[1]},${body[2] ? 'signed' : 'unsigned'})`;
  return kind;
}

function schemaElement(e) {
  return {
    name: text(e[4]),
    type: name(TYPE, e[1]),
    repetition: name(REPETITION, e[3]),
    children: e[5],
    converted: name(CONVERTED, e[6]),
    logical: logicalType(e[10]),
  };
}

// Walks the pages of one column chunk and returns "PAGE_TYPE:ENCODING" per page.
function chunkPages(buf, md) {
  const dict = md[11] !== undefined && md[11] > 0 ? md[11] : undefined;
  let pos = Math.min(md[9], dict ?? Infinity);
  const end = pos + md[7];
  const pages = [];
  while (pos < end) {
    const r = new CompactReader(buf, pos);
    const h = r.struct();
    const type = name(PAGE_TYPE, h[1]);
    const enc = h[5]?.[2] ?? h[7]?.[2] ?? h[8]?.[4];
    pages.push(`${type}:${name(ENCODING, enc)}`);
    pos = r.pos + h[3];
  }
  return pages;
}

// Returns { createdBy, numRows, schema: [...], rowGroups: [{ numRows, columns: [...] }] }.
export function readParquetLayout(file) {
  const buf = readFileSync(file);
  const tail = buf.length - 8;
  if (buf.length < 12 || buf.toString('latin1', tail + 4) !== 'PAR1' || buf.toString('latin1', 0, 4) !== 'PAR1') {
    throw new Error(`${file}: not a Parquet file (missing PAR1 magic)`);
  }
  const footerLen = buf.readUInt32LE(tail);
  const fmd = new CompactReader(buf, tail - footerLen).struct();
  return {
    version: fmd[1],
    createdBy: text(fmd[6]),
    numRows: fmd[3],
    schema: (fmd[2] ?? []).map(schemaElement),
    rowGroups: (fmd[4] ?? []).map((rg) => ({
      numRows: rg[3],
      columns: (rg[1] ?? []).map((cc) => {
        const md = cc[3];
        return {
          path: md[3].map(text).join('.'),
          type: name(TYPE, md[1]),
          codec: name(CODEC, md[4]),
          encodings: md[2].map((e) => name(ENCODING, e)),
          pages: chunkPages(buf, md),
        };
      }),
    })),
  };
}

// Compact per-file summary: row-group sizes plus, per column path, the codecs and the number of
// pages of each "PAGE_TYPE:ENCODING" combination over all row groups.
export function summarizeLayout(layout) {
  const columns = {};
  for (const rg of layout.rowGroups) {
    for (const c of rg.columns) {
      const s = (columns[c.path] ??= { physical: c.type, codecs: new Set(), pages: {} });
      s.codecs.add(c.codec);
      c.pages.forEach((p) => { s.pages[p] = (s.pages[p] ?? 0) + 1; });
    }
  }
  for (const s of Object.values(columns)) {
    s.codecs = [...s.codecs].sort();
    s.pageCounts = s.pages;
    s.pages = Object.keys(s.pages).sort();
  }
  return { createdBy: layout.createdBy, rowGroupRows: layout.rowGroups.map((rg) => rg.numRows), columns };
}
