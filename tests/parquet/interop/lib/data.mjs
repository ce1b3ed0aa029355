// The deterministic test table: column schema plus rows in the internal value model
// (ints up to 32 bits: number, int64: bigint, floats: number, bool, string, binary: Uint8Array,
// lists: arrays, null). Both writers are fed exactly these rows.

// Type names used everywhere (schema, types sidecar, canonical encoder, comparer).
export const COLUMNS = [
  { name: 'id', type: 'int64', nullable: false },
  { name: 'i32', type: 'int32', nullable: true },
  { name: 'i8', type: 'int8', nullable: true },
  { name: 'i16', type: 'int16', nullable: true },
  { name: 'u32', type: 'uint32', nullable: true },
  { name: 'f32', type: 'float32', nullable: true },
  { name: 'f64', type: 'float64', nullable: true },
  { name: 'flag', type: 'bool', nullable: true },
  { name: 's', type: 'utf8', nullable: true },
  { name: 'bin', type: 'binary', nullable: true },
  { name: 'li', type: 'list<int32>', nullable: true },
  // Required list (no top-level nulls) with nullable elements: exercises a different level layout.
  { name: 'lf', type: 'list<float32>', nullable: false },
  { name: 'ls', type: 'list<utf8>', nullable: true },
];

export function listItemType(type) {
  const m = /^list<(.+)>$/.exec(type);
  return m ? m[1] : null;
}

// mulberry32: small, fast, deterministic.
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
  };
}

const f32 = Math.fround;
const FLOAT_SPECIALS = [-0, 1e-7, 3.4e38, NaN, Infinity, -Infinity, 0, 1, -1.5];
const F32_SPECIALS = FLOAT_SPECIALS.map(f32);
const F64_SPECIALS = [...FLOAT_SPECIALS, 0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -2.5e-308];
const STRING_SPECIALS = [
  '',
  'Grüße 👋',
  'quote " backslash \\ newline \n tab \t cr \r',
  'control \u0001\u001f and del \u007f',
  "single ' quote",
  '日本語テキスト',
  'x'.repeat(300),
];
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

function bytes(r, n) {
  return Uint8Array.from({ length: n }, () => r.int(0, 255));
}

function word(r) {
  const n = r.int(1, 12);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + r.int(0, 25));
  return s;
}

// Per-column generators: (row index, rng) -> value. Special values come first, then a mix of
// nulls and random values.
const GENERATORS = {
  id: (i, r) => {
    const specials = [-9223372036854775808n, 9223372036854775807n, 9007199254740993n, -9007199254740993n, 0n, -1n];
    if (i < specials.length) return specials[i];
    return BigInt(i) * 1000003n * (i % 2 ? -1n : 1n) + BigInt(r.int(0, 999)) * 4294967296n;
  },
  i32: (i, r) => [-2147483648, 2147483647, 0, -1][i] ?? (r.chance(0.1) ? null : r.int(-100000, 100000)),
  i8: (i, r) => [-128, 127, 0][i] ?? (r.chance(0.1) ? null : r.int(-128, 127)),
  i16: (i, r) => [-32768, 32767, 0][i] ?? (r.chance(0.1) ? null : r.int(-32768, 32767)),
  u32: (i, r) => [4294967295, 2147483648, 3000000000, 0][i] ?? (r.chance(0.1) ? null : r.int(0, 4294967295)),
  f32: (i, r) => (i < F32_SPECIALS.length ? F32_SPECIALS[i] : r.chance(0.1) ? null : f32((r.next() - 0.5) * 1000)),
  f64: (i, r) => (i < F64_SPECIALS.length ? F64_SPECIALS[i] : r.chance(0.1) ? null : (r.next() - 0.5) * 1e6),
  flag: (i, r) => (r.chance(0.1) ? null : r.chance(0.5)),
  s: (i, r) => {
    if (i < STRING_SPECIALS.length) return STRING_SPECIALS[i];
    if (r.chance(0.1)) return null;
    return r.chance(0.85) ? `cat_${r.int(0, 7)}` : `${word(r)} ${i}`; // low cardinality + some unique
  },
  bin: (i, r) => {
    const specials = [new Uint8Array(0), ALL_BYTES, Uint8Array.of(0), Uint8Array.of(0xff, 0xfe)];
    if (i < specials.length) return specials[i];
    if (r.chance(0.1)) return null;
    return r.chance(0.7) ? Uint8Array.of(r.int(0, 3)) : bytes(r, r.int(1, 40));
  },
  li: (i, r) => {
    const specials = [[], null, [1, null, 3], [null], Array.from({ length: 100 }, (_, k) => k - 50)];
    if (i < specials.length) return specials[i];
    if (r.chance(0.1)) return null;
    return Array.from({ length: r.int(0, 8) }, () => (r.chance(0.1) ? null : r.int(-1000, 1000)));
  },
  lf: (i, r) => {
    const specials = [[], [null], [f32(0.5), NaN, Infinity, -0], [f32(0.1), f32(3.4e38), -Infinity]];
    if (i < specials.length) return specials[i];
    // Top-k style scores: short, descending.
    const k = r.int(0, 5);
    return Array.from({ length: k }, () => (r.chance(0.05) ? null : f32(r.next()))).sort((a, b) => (b ?? 0) - (a ?? 0));
  },
  ls: (i, r) => {
    const specials = [[], null, ['', null, 'Grüße 👋'], ['a\nb', 'tab\t"q"\\']];
    if (i < specials.length) return specials[i];
    if (r.chance(0.1)) return null;
    return Array.from({ length: r.int(0, 4) }, () => (r.chance(0.1) ? null : r.chance(0.6) ? `tag_${r.int(0, 5)}` : word(r)));
  },
};

// Rows as arrays in COLUMNS order. Each column has its own seeded stream so that adding a column
// never changes the others.
export function makeRows(count, seed = 20240601) {
  const streams = COLUMNS.map((c, k) => rng(seed + 7919 * (k + 1)));
  const rows = [];
  for (let i = 0; i < count; i++) rows.push(COLUMNS.map((c, k) => GENERATORS[c.name](i, streams[k])));
  return rows;
}
