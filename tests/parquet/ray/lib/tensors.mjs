// Deterministic tensor contents and the per-row checksums written to NAME.expected.json.

// uint8 element j of row i: a 32-bit LCG (Numerical Recipes constants) per row, top byte.
//   s = (seed * 0x9E3779B1 + (i + 1) * 0x85EBCA77) mod 2^32
//   repeat for each element: s = (s * 1664525 + 1013904223) mod 2^32; value = s >> 24
export const UINT8_FORMULA = 's0 = (seed*0x9E3779B1 + (i+1)*0x85EBCA77) mod 2^32; per element: s = (s*1664525 + 1013904223) mod 2^32, value = s >> 24';

export function uint8Row(seed, i, n) {
  let s = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca77)) >>> 0;
  const out = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[j] = s >>> 24;
  }
  return out;
}

// float32 element j of row i: float32(((i*7 + j + seed) mod 255) / 255 - 0.5), computed in double
// then rounded once to float32.
export const FLOAT32_FORMULA = 'float32(((i*7 + j + seed) mod 255) / 255.0 - 0.5), computed in double, rounded once';

export function float32Row(seed, i, n) {
  const out = new Float32Array(n);
  const base = (i * 7 + (seed % 255)) % 255;
  for (let j = 0; j < n; j++) out[j] = ((base + j) % 255) / 255 - 0.5;
  return out;
}

export const numel = (shape) => shape.reduce((a, b) => a * b, 1);

// FNV-1a 64-bit over bytes, as 16 lowercase hex digits.
export function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

// Raw little-endian bytes of a typed array (the machines here are little-endian; checked).
function leBytes(values) {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian host not supported');
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

// The checksum record of one tensor. sum: exact integer for ints; for floats the double sum of
// the float32 values taken in row-major order (each value widened to double, added left to right).
export function checksum(values, shape) {
  let sum = 0;
  for (const v of values) sum += v;
  return {
    shape,
    numel: values.length,
    sum,
    fnv1a64: fnv1a64(leBytes(values)),
    head: Array.from(values.subarray(0, 8)),
  };
}
