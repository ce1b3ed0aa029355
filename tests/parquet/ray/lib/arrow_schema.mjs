// Builds and parses the Arrow IPC Schema message stored (base64) under the Parquet footer key
// ARROW:schema. Field metadata keys and values are raw bytes, so non-UTF-8 extension metadata
// (Ray's pickles) survives exactly.
//
// Field description used by both directions:
//   { name, nullable, type, metadata: [[key, value], ...] }   key/value: Buffer (or string to build)
// Types:
//   { id: 'utf8' } { id: 'large_utf8' } { id: 'binary' } { id: 'bool' }
//   { id: 'int', bits, signed } { id: 'float', precision: 'half'|'single'|'double' }
//   { id: 'list', child } { id: 'large_list', child } { id: 'fixed_size_list', size, child }
//   { id: 'struct', children: [field, ...] }
import { fb, finish, Table } from './flatbuf.mjs';

// Arrow format/Schema.fbs `union Type` and `enum Precision`; Message.fbs `union MessageHeader`.
const TYPE = { int: 2, float: 3, binary: 4, utf8: 5, bool: 6, list: 12, struct: 13, fixed_size_list: 16,
  large_utf8: 20, large_list: 21 };
const TYPE_NAME = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));
const PRECISION = { half: 0, single: 1, double: 2 };
const METADATA_V5 = 4;
const HEADER_SCHEMA = 1;
const CONTINUATION = 0xffffffff;

function keyValues(pairs) {
  if (!pairs || pairs.length === 0) return undefined;
  return fb.vector(pairs.map(([k, v]) => fb.table([[0, 'offset', fb.bytes(k)], [1, 'offset', fb.bytes(v)]])));
}

function typeTable(type) {
  switch (type.id) {
    case 'int': return fb.table([[0, 'i32', type.bits], type.signed ? [1, 'bool', true] : null]);
    case 'float': return fb.table([PRECISION[type.precision] ? [0, 'i16', PRECISION[type.precision]] : null]);
    case 'fixed_size_list': return fb.table([[0, 'i32', type.size]]);
    case 'utf8': case 'large_utf8': case 'binary': case 'bool': case 'list': case 'large_list': case 'struct':
      return fb.table([]);
    default: throw new Error(`arrow_schema: cannot encode type ${type.id}`);
  }
}

function childrenOf(type) {
  if (type.id === 'struct') return type.children;
  if (type.child) return [type.child];
  return [];
}

function fieldTable(f) {
  if (TYPE[f.type.id] === undefined) throw new Error(`arrow_schema: unknown type ${f.type.id}`);
  return fb.table([
    [0, 'offset', fb.bytes(f.name)],
    f.nullable ? [1, 'bool', true] : null,
    [2, 'u8', TYPE[f.type.id]],
    [3, 'offset', typeTable(f.type)],
    // Arrow C++ rejects a Field whose children vector is missing, even for primitive types.
    [5, 'offset', fb.vector(childrenOf(f.type).map(fieldTable))],
    [6, 'offset', keyValues(f.metadata)],
  ]);
}

// Returns the encapsulated IPC message: 0xFFFFFFFF, int32 length, Message flatbuffer (as
// arrow-rs and pyarrow write it under ARROW:schema, before base64).
export function encodeSchemaMessage(fields, schemaMetadata) {
  const schema = fb.table([
    [1, 'offset', fb.vector(fields.map(fieldTable))],
    [2, 'offset', keyValues(schemaMetadata)],
  ]);
  const message = fb.table([[0, 'i16', METADATA_V5], [1, 'u8', HEADER_SCHEMA], [2, 'offset', schema]]);
  const body = finish(message);
  const out = Buffer.alloc(8 + body.length);
  out.writeUInt32LE(CONTINUATION, 0);
  out.writeInt32LE(body.length, 4);
  out.set(body, 8);
  return out;
}

export const encodeArrowSchemaBase64 = (fields, schemaMetadata) =>
  encodeSchemaMessage(fields, schemaMetadata).toString('base64');

// ---- decoding ----

function readKeyValues(t, slot) {
  return t.tables(slot).map((kv) => [kv.bytes(0) ?? Buffer.alloc(0), kv.bytes(1) ?? Buffer.alloc(0)]);
}

function readType(typeId, t, children) {
  const id = TYPE_NAME[typeId];
  switch (id) {
    case 'int': return { id, bits: t.i32(0), signed: t.bool(1) };
    case 'float': return { id, precision: Object.keys(PRECISION)[t.i16(0)] ?? `?${t.i16(0)}` };
    case 'fixed_size_list': return { id, size: t.i32(0), child: children[0] };
    case 'list': case 'large_list': return { id, child: children[0] };
    case 'struct': return { id, children };
    case undefined: return { id: `type#${typeId}` };
    default: return { id };
  }
}

function readField(t) {
  const children = t.tables(5).map(readField);
  const typeTableAt = t.table(3);
  return {
    name: (t.bytes(0) ?? Buffer.alloc(0)).toString('utf8'),
    nullable: t.bool(1),
    type: readType(t.u8(2), typeTableAt, children),
    metadata: readKeyValues(t, 6),
  };
}

// Parses the bytes of ARROW:schema after base64 decoding. Accepts the continuation-prefixed
// form and the legacy form (int32 length first).
export function decodeSchemaMessage(bytes) {
  const buf = Buffer.from(bytes);
  let start = 4;
  let len = buf.readInt32LE(0);
  if (buf.readUInt32LE(0) === CONTINUATION) { len = buf.readInt32LE(4); start = 8; }
  if (len <= 0 || start + len > buf.length) throw new Error(`ARROW:schema: bad message length ${len} (have ${buf.length - start} bytes)`);
  const fbuf = buf.subarray(start, start + len);
  const message = Table.root(fbuf);
  const version = message.i16(0);
  const headerType = message.u8(1);
  if (headerType !== HEADER_SCHEMA) throw new Error(`ARROW:schema: message header type ${headerType}, expected Schema (1)`);
  const schema = message.table(2);
  return {
    prefix: start === 8 ? 'continuation' : 'legacy',
    version,
    endianness: schema.i16(0) === 0 ? 'little' : 'big',
    fields: schema.tables(1).map(readField),
    metadata: readKeyValues(schema, 2),
  };
}

export const decodeArrowSchemaBase64 = (text) => decodeSchemaMessage(Buffer.from(text, 'base64'));

// Arrow C++ / pyarrow style type text: list<item: uint8>, struct<data: large_list<item: uint8>, ...>.
export function typeToString(type) {
  const f = (c) => `${c.name}: ${typeToString(c.type)}${c.nullable ? '' : ' not null'}`;
  switch (type.id) {
    case 'int': return `${type.signed ? 'int' : 'uint'}${type.bits}`;
    case 'float': return { half: 'halffloat', single: 'float', double: 'double' }[type.precision] ?? `float?${type.precision}`;
    case 'utf8': return 'string';
    case 'large_utf8': return 'large_string';
    case 'list': return `list<${f(type.child)}>`;
    case 'large_list': return `large_list<${f(type.child)}>`;
    case 'fixed_size_list': return `fixed_size_list<${f(type.child)}>[${type.size}]`;
    case 'struct': return `struct<${type.children.map(f).join(', ')}>`;
    default: return type.id;
  }
}

export function metadataValue(fieldDesc, key) {
  const hit = fieldDesc.metadata.find(([k]) => k.toString('latin1') === key);
  return hit ? hit[1] : undefined;
}
