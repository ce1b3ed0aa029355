// A minimal FlatBuffers writer and reader, enough for Arrow IPC Schema messages.
//
// Strings are written and read as raw bytes, so a KeyValue value may hold bytes that are not
// valid UTF-8 (a Python pickle), which is what pyarrow stores and what string-typed libraries
// (Arrow JS, arrow-rs) cannot produce.
//
// The writer lays the buffer out front to back: root offset, then each table's vtable, the table,
// and after it the objects the table refers to, so every uoffset points forward as the format
// requires. Alignment is relative to the start of the buffer; callers place the buffer at an
// 8-aligned position (the Arrow IPC prefix is 8 bytes).

const SIZES = { bool: 1, u8: 1, i16: 2, i32: 4, i64: 8, offset: 4 };

// Node constructors. A table is a list of [slot, kind, value]; kind 'offset' takes a node.
export const fb = {
  table: (fields) => ({ node: 'table', fields: fields.filter((f) => f !== null && f[2] !== undefined) }),
  bytes: (data) => ({ node: 'bytes', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : Uint8Array.from(data) }),
  vector: (items) => ({ node: 'vector', items }),
};

class Out {
  constructor() { this.buf = Buffer.alloc(1024); this.len = 0; }
  reserve(n) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  pad(align) { while (this.len % align) { this.reserve(1); this.buf[this.len++] = 0; } }
  put(kind, value) {
    const n = SIZES[kind];
    this.reserve(n);
    const at = this.len;
    switch (kind) {
      case 'bool': this.buf.writeUInt8(value ? 1 : 0, at); break;
      case 'u8': this.buf.writeUInt8(value, at); break;
      case 'i16': this.buf.writeInt16LE(value, at); break;
      case 'i32': this.buf.writeInt32LE(value, at); break;
      case 'i64': this.buf.writeBigInt64LE(BigInt(value), at); break;
      case 'offset': this.buf.writeUInt32LE(0, at); break;
      default: throw new Error(`flatbuf: unknown kind ${kind}`);
    }
    this.len += n;
    return at;
  }
  u16(v) { this.reserve(2); this.buf.writeUInt16LE(v, this.len); this.len += 2; }
  u32(v) { this.reserve(4); this.buf.writeUInt32LE(v, this.len); this.len += 4; }
  raw(bytes) { this.reserve(bytes.length); this.buf.set(bytes, this.len); this.len += bytes.length; }
  patchOffset(at, target) {
    if (target <= at) throw new Error('flatbuf: uoffset must point forward');
    this.buf.writeUInt32LE(target - at, at);
  }
}

function writeNode(out, node) {
  switch (node.node) {
    case 'bytes': {
      out.pad(4);
      const at = out.len;
      out.u32(node.data.length);
      out.raw(node.data);
      out.raw([0]);
      return at;
    }
    case 'vector': {
      out.pad(4);
      const at = out.len;
      out.u32(node.items.length);
      const slots = node.items.map(() => out.put('offset'));
      node.items.forEach((item, k) => out.patchOffset(slots[k], writeNode(out, item)));
      return at;
    }
    case 'table': {
      // Layout of the inline part: soffset to the vtable, then the fields, largest first.
      const fields = [...node.fields].sort((a, b) => SIZES[b[1]] - SIZES[a[1]] || a[0] - b[0]);
      const where = new Map();
      let size = 4;
      for (const [slot, kind] of fields) {
        size = Math.ceil(size / SIZES[kind]) * SIZES[kind];
        where.set(slot, size);
        size += SIZES[kind];
      }
      const slotCount = fields.length ? Math.max(...fields.map((f) => f[0])) + 1 : 0;
      out.pad(2);
      const vtable = out.len;
      out.u16(4 + 2 * slotCount);
      out.u16(size);
      for (let s = 0; s < slotCount; s++) out.u16(where.get(s) ?? 0);
      out.pad(8);
      const table = out.len;
      out.reserve(4);
      out.buf.writeInt32LE(table - vtable, table);
      out.len += 4;
      const children = [];
      for (const [slot, kind, value] of fields) {
        while (out.len < table + where.get(slot)) out.put('u8', 0);
        const at = out.put(kind, value);
        if (kind === 'offset') children.push([at, value]);
      }
      while (out.len < table + size) out.put('u8', 0);
      for (const [at, child] of children) out.patchOffset(at, writeNode(out, child));
      return table;
    }
    default: throw new Error(`flatbuf: unknown node ${node.node}`);
  }
}

// Serializes a root table; the result's length is a multiple of 8.
export function finish(root) {
  const out = new Out();
  const rootSlot = out.put('offset');
  out.patchOffset(rootSlot, writeNode(out, root));
  out.pad(8);
  return out.buf.subarray(0, out.len);
}

// ---- reader ----

function check(buf, pos, n) {
  if (pos < 0 || pos + n > buf.length) throw new Error(`flatbuf: read of ${n} bytes at ${pos} is outside the buffer (${buf.length})`);
}

export class Table {
  constructor(buf, pos) {
    this.buf = buf;
    this.pos = pos;
    check(buf, pos, 4);
    this.vtable = pos - buf.readInt32LE(pos);
    check(buf, this.vtable, 4);
    this.vtSize = buf.readUInt16LE(this.vtable);
    check(buf, this.vtable, this.vtSize);
  }
  static root(buf, pos = 0) { check(buf, pos, 4); return new Table(buf, pos + buf.readUInt32LE(pos)); }
  // Absolute position of a field, or null when absent.
  field(slot) {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtSize) return null;
    const off = this.buf.readUInt16LE(this.vtable + entry);
    return off === 0 ? null : this.pos + off;
  }
  u8(slot, dflt = 0) { const p = this.field(slot); return p === null ? dflt : this.buf.readUInt8(p); }
  bool(slot, dflt = false) { const p = this.field(slot); return p === null ? dflt : this.buf.readUInt8(p) !== 0; }
  i16(slot, dflt = 0) { const p = this.field(slot); return p === null ? dflt : this.buf.readInt16LE(p); }
  i32(slot, dflt = 0) { const p = this.field(slot); return p === null ? dflt : this.buf.readInt32LE(p); }
  i64(slot, dflt = 0n) { const p = this.field(slot); return p === null ? dflt : this.buf.readBigInt64LE(p); }
  deref(slot) {
    const p = this.field(slot);
    if (p === null) return null;
    check(this.buf, p, 4);
    return p + this.buf.readUInt32LE(p);
  }
  table(slot) { const p = this.deref(slot); return p === null ? null : new Table(this.buf, p); }
  // A string field as raw bytes (a Buffer view), or null.
  bytes(slot) {
    const p = this.deref(slot);
    if (p === null) return null;
    check(this.buf, p, 4);
    const n = this.buf.readUInt32LE(p);
    check(this.buf, p + 4, n);
    return this.buf.subarray(p + 4, p + 4 + n);
  }
  // A vector of tables, or [] when absent.
  tables(slot) {
    const p = this.deref(slot);
    if (p === null) return [];
    check(this.buf, p, 4);
    const n = this.buf.readUInt32LE(p);
    check(this.buf, p + 4, 4 * n);
    const out = [];
    for (let k = 0; k < n; k++) {
      const at = p + 4 + 4 * k;
      out.push(new Table(this.buf, at + this.buf.readUInt32LE(at)));
    }
    return out;
  }
}
