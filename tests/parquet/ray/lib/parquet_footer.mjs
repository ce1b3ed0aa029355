// Reads and rewrites a Parquet footer (FileMetaData, Thrift compact protocol) without any
// Parquet library: the footer is decoded into a typed tree that re-encodes to the same bytes,
// so only the part we change (the key_value_metadata list, field 5) differs in the output.
// Column chunks and pages come before the footer and keep their offsets.
import { readFileSync } from 'node:fs';

const CT = { STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8,
  LIST: 9, SET: 10, MAP: 11, STRUCT: 12 };
const BOOL = 'bool';

// ---- decoding into a typed tree ----
// struct: { t: STRUCT, fields: [{ id, t, v }] }   (t of a bool field is BOOL, v true/false)
// list:   { t: LIST|SET, et, items: [v] }           map: { t: MAP, kt, vt, entries: [[k, v]] }
// ints are BigInt, binary is a Buffer, double is a Buffer of 8 bytes.

class Reader {
  constructor(buf, pos) { this.buf = buf; this.pos = pos; }
  byte() {
    if (this.pos >= this.buf.length) throw new Error('thrift: read past end of footer');
    return this.buf[this.pos++];
  }
  varint() {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      shift += 7n;
    }
  }
  zigzag() { const v = this.varint(); return (v >> 1n) ^ -(v & 1n); }
  take(n) {
    if (this.pos + n > this.buf.length) throw new Error('thrift: read past end of footer');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  value(t) {
    switch (t) {
      case CT.BYTE: return BigInt(this.byte());
      case CT.I16: case CT.I32: case CT.I64: return this.zigzag();
      case CT.DOUBLE: return Buffer.from(this.take(8));
      case CT.BINARY: return Buffer.from(this.take(Number(this.varint())));
      case CT.LIST: case CT.SET: return this.list(t);
      case CT.MAP: return this.map();
      case CT.STRUCT: return this.struct();
      default: throw new Error(`thrift: unknown compact type ${t}`);
    }
  }
  list(t) {
    const h = this.byte();
    let n = h >> 4;
    const et = h & 0x0f;
    if (n === 15) n = Number(this.varint());
    const items = [];
    for (let i = 0; i < n; i++) items.push(et === CT.TRUE || et === CT.FALSE ? this.byte() === CT.TRUE : this.value(et));
    return { t, et, items };
  }
  map() {
    const n = Number(this.varint());
    if (n === 0) return { t: CT.MAP, kt: 0, vt: 0, entries: [] };
    const kv = this.byte();
    const kt = kv >> 4;
    const vt = kv & 0x0f;
    const entries = [];
    for (let i = 0; i < n; i++) entries.push([this.value(kt), this.value(vt)]);
    return { t: CT.MAP, kt, vt, entries };
  }
  struct() {
    const fields = [];
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === CT.STOP) return { t: CT.STRUCT, fields };
      const delta = h >> 4;
      const t = h & 0x0f;
      const id = delta ? last + delta : Number(this.zigzag());
      if (t === CT.TRUE || t === CT.FALSE) fields.push({ id, t: BOOL, v: t === CT.TRUE });
      else fields.push({ id, t, v: this.value(t) });
      last = id;
    }
  }
}

// ---- encoding ----

class Writer {
  constructor() { this.parts = []; }
  byte(b) { this.parts.push(Buffer.from([b])); }
  varint(v) {
    let x = BigInt(v);
    const out = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      out.push(b);
    } while (x);
    this.parts.push(Buffer.from(out));
  }
  zigzag(v) { const x = BigInt(v); this.varint(x >= 0n ? x << 1n : ((-x) << 1n) - 1n); }
  value(t, v) {
    switch (t) {
      case CT.BYTE: this.byte(Number(BigInt.asUintN(8, v))); break;
      case CT.I16: case CT.I32: case CT.I64: this.zigzag(v); break;
      case CT.DOUBLE: this.parts.push(Buffer.from(v)); break;
      case CT.BINARY: this.varint(v.length); this.parts.push(Buffer.from(v)); break;
      case CT.LIST: case CT.SET: this.list(v); break;
      case CT.MAP: this.map(v); break;
      case CT.STRUCT: this.struct(v); break;
      default: throw new Error(`thrift: cannot write compact type ${t}`);
    }
  }
  list(l) {
    const n = l.items.length;
    if (n < 15) this.byte((n << 4) | l.et);
    else { this.byte(0xf0 | l.et); this.varint(n); }
    for (const item of l.items) {
      if (l.et === CT.TRUE || l.et === CT.FALSE) this.byte(item ? CT.TRUE : CT.FALSE);
      else this.value(l.et, item);
    }
  }
  map(m) {
    this.varint(m.entries.length);
    if (m.entries.length === 0) return;
    this.byte((m.kt << 4) | m.vt);
    for (const [k, v] of m.entries) { this.value(m.kt, k); this.value(m.vt, v); }
  }
  struct(s) {
    let last = 0;
    for (const f of s.fields) {
      const t = f.t === BOOL ? (f.v ? CT.TRUE : CT.FALSE) : f.t;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | t);
      else { this.byte(t); this.zigzag(f.id); }
      if (f.t !== BOOL) this.value(f.t, f.v);
      last = f.id;
    }
    this.byte(CT.STOP);
  }
  bytes() { return Buffer.concat(this.parts); }
}

export function encodeStruct(s) {
  const w = new Writer();
  w.struct(s);
  return w.bytes();
}

// ---- Parquet file level ----

// Splits a Parquet file into { body, footer (typed tree), footerBytes }.
export function readFooter(fileBytes) {
  const buf = Buffer.from(fileBytes);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'PAR1' || buf.toString('latin1', buf.length - 4) !== 'PAR1') {
    throw new Error('not a Parquet file (missing PAR1 magic)');
  }
  const len = buf.readUInt32LE(buf.length - 8);
  const start = buf.length - 8 - len;
  if (start < 4) throw new Error(`bad footer length ${len}`);
  const footerBytes = buf.subarray(start, buf.length - 8);
  const r = new Reader(footerBytes, 0);
  const footer = r.struct();
  if (r.pos !== footerBytes.length) throw new Error(`footer has ${footerBytes.length - r.pos} trailing bytes`);
  return { body: buf.subarray(0, start), footer, footerBytes };
}

export function assembleFile(body, footer) {
  const fbytes = encodeStruct(footer);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(fbytes.length, 0);
  return Buffer.concat([body, fbytes, len, Buffer.from('PAR1', 'latin1')]);
}

// FileMetaData.key_value_metadata (field 5) as [[key Buffer, value Buffer|null], ...].
export function keyValueMetadata(footer) {
  const f = footer.fields.find((x) => x.id === 5);
  if (!f) return [];
  return f.v.items.map((kv) => {
    const k = kv.fields.find((x) => x.id === 1);
    const v = kv.fields.find((x) => x.id === 2);
    return [k ? k.v : Buffer.alloc(0), v ? v.v : null];
  });
}

// Sets (replaces or appends) one footer key-value; value is a Buffer or string.
export function setKeyValue(footer, key, value) {
  const kvStruct = { t: CT.STRUCT, fields: [
    { id: 1, t: CT.BINARY, v: Buffer.from(key, 'utf8') },
    { id: 2, t: CT.BINARY, v: Buffer.from(value) },
  ] };
  let f = footer.fields.find((x) => x.id === 5);
  if (!f) {
    f = { id: 5, t: CT.LIST, v: { t: CT.LIST, et: CT.STRUCT, items: [] } };
    footer.fields.push(f);
    footer.fields.sort((a, b) => a.id - b.id);
  }
  const items = f.v.items;
  const at = items.findIndex((kv) => kv.fields.find((x) => x.id === 1)?.v.toString('utf8') === key);
  if (at >= 0) items[at] = kvStruct;
  else items.push(kvStruct);
}

// Removes one footer key-value (no-op when absent).
export function removeKeyValue(footer, key) {
  const f = footer.fields.find((x) => x.id === 5);
  if (!f) return;
  f.v.items = f.v.items.filter((kv) => kv.fields.find((x) => x.id === 1)?.v.toString('utf8') !== key);
}

// Renames the root SchemaElement (FileMetaData.schema[0].name): arrow-rs writes "arrow_schema",
// Arrow C++ (pyarrow) writes "schema".
export function setRootName(footer, name) {
  const schema = footer.fields.find((x) => x.id === 2);
  const nameField = schema?.v.items[0]?.fields.find((x) => x.id === 4);
  if (!nameField) throw new Error('footer has no root schema element name');
  nameField.v = Buffer.from(name, 'utf8');
}

// Decodes a file's footer, applies edit(footer) and returns the new file bytes. Refuses files
// whose footer would not re-encode to the same bytes unchanged.
export function editFooter(fileBytes, edit) {
  const { body, footer, footerBytes } = readFooter(fileBytes);
  if (!encodeStruct(footer).equals(footerBytes)) throw new Error('footer does not re-encode to the same bytes; refusing to rewrite');
  edit(footer);
  return assembleFile(body, footer);
}

// Rewrites a Parquet file's footer so that key `key` holds `value`.
export const rewriteKeyValue = (fileBytes, key, value) => editFooter(fileBytes, (f) => setKeyValue(f, key, value));

export function footerKeyValues(file) {
  return keyValueMetadata(readFooter(readFileSync(file)).footer);
}
