// Canonical JSONL: the exact text format of `sluice parquet cat`.
//   - one JSON object per row, keys = top-level columns in schema order
//   - int8/16/32/64, uint8/16/32/64 -> JSON integer, all digits (never through a JS double)
//   - float32/float64 -> JSON number (float32 widened to double, shortest round-trip text);
//     NaN/Infinity/-Infinity -> the strings "NaN", "Infinity", "-Infinity"; -0.0 -> -0.0
//   - bool -> true/false, utf8 -> JSON string, binary -> base64 (standard alphabet, padded)
//   - null -> null, list -> JSON array, elements by the same rules
import { listItemType } from './data.mjs';

export const INT_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);
export const FLOAT_TYPES = new Set(['float32', 'float64']);

function encodeFloat(v) {
  if (Number.isNaN(v)) return '"NaN"';
  if (v === Infinity) return '"Infinity"';
  if (v === -Infinity) return '"-Infinity"';
  if (Object.is(v, -0)) return '-0.0';
  return String(v); // shortest round-trip text; always valid JSON for finite numbers
}

function encodeInt(v) {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new Error(`integer value ${String(v)} is not a bigint or safe integer`);
}

export function encodeValue(type, v) {
  if (v === null || v === undefined) return 'null';
  if (INT_TYPES.has(type)) return encodeInt(v);
  if (FLOAT_TYPES.has(type)) return encodeFloat(Number(v));
  switch (type) {
    case 'bool': return v ? 'true' : 'false';
    case 'utf8': return JSON.stringify(v);
    case 'binary': return `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"`;
    default: {
      const item = listItemType(type);
      if (item === null) throw new Error(`no canonical form for type '${type}'`);
      return `[${Array.from(v, (x) => encodeValue(item, x)).join(',')}]`;
    }
  }
}

// columns: [{ name, type }], rows: arrays of values in column order.
export function encodeRow(columns, row) {
  return `{${columns.map((c, k) => `${JSON.stringify(c.name)}:${encodeValue(c.type, row[k])}`).join(',')}}`;
}

export function toJsonl(table) {
  return table.rows.map((r) => encodeRow(table.columns, r) + '\n').join('');
}

export function typesOf(table) {
  return Object.fromEntries(table.columns.map((c) => [c.name, c.type]));
}
