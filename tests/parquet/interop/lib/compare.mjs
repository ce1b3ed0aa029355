// Semantic comparison of two canonical JSONL texts.
//
// Rules:
//   - same number of rows; per row the same keys in the same order
//   - integers (JSON numbers without '.', 'e' or 'E') are compared exactly as big integers
//   - when the column type is known (types sidecar) and is float32/float64 (also as a list
//     element), both sides are compared as doubles: equal if a === b (so -0 equals 0), and for
//     float32 columns also if Math.fround(a) === Math.fround(b) (a float32 printed with its
//     own shortest text, e.g. 0.1, equals the widened double 0.10000000149011612)
//   - when the type is unknown: two integers compare exactly; otherwise as doubles, equal if
//     a === b or Math.fround(a) === Math.fround(b) (lenient: float32 tolerance for any float)
//   - int columns must hold JSON integers; strings (incl. "NaN", base64) compare exactly
import { INT_TYPES, FLOAT_TYPES } from './canonical.mjs';
import { listItemType } from './data.mjs';

// --- A JSON parser that keeps number text (JSON.parse would round big integers) ---------------
class Num { constructor(text) { this.text = text; } }
class Obj { constructor(entries) { this.entries = entries; } } // keeps key order and duplicates

function parseJson(text) {
  let i = 0;
  const fail = (msg) => { throw new Error(`${msg} at offset ${i}`); };
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const lit = (word, value) => {
    if (text.startsWith(word, i)) { i += word.length; return value; }
    return fail(`unexpected character ${JSON.stringify(text[i] ?? 'end of line')}`);
  };
  const string = () => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('bad number');
    i += m[0].length;
    return new Num(m[0]);
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      const entries = [];
      if (text[i] === '}') { i++; return new Obj(entries); }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected object key');
        const k = string(); ws();
        if (text[i++] !== ':') fail("expected ':'");
        entries.push([k, value()]); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return new Obj(entries); }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++; ws();
      const items = [];
      if (text[i] === ']') { i++; return items; }
      for (;;) {
        items.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return items; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    if (c === 't') return lit('true', true);
    if (c === 'f') return lit('false', false);
    if (c === 'n') return lit('null', null);
    return fail(`unexpected character ${JSON.stringify(c ?? 'end of line')}`);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

export function show(v) {
  if (v instanceof Num) return v.text;
  if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${show(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

const isIntText = (t) => !/[.eE]/.test(t);

function numbersEqual(a, b, type) {
  if (INT_TYPES.has(type)) {
    if (!isIntText(a) || !isIntText(b)) return false;
    return BigInt(a) === BigInt(b);
  }
  if (!FLOAT_TYPES.has(type) && isIntText(a) && isIntText(b)) return BigInt(a) === BigInt(b);
  const x = Number(a), y = Number(b);
  if (x === y) return true;
  if (type === 'float64') return false;
  return Math.fround(x) === Math.fround(y); // float32, or type unknown
}

// Returns null when equal, else a short reason (path is relative to the cell).
function diffValue(e, a, type, path) {
  const where = path ? ` at ${path}` : '';
  if (e === null || a === null) return e === a ? null : `null mismatch${where}`;
  if (e instanceof Num || a instanceof Num) {
    if (!(e instanceof Num && a instanceof Num)) return `kind mismatch${where}`;
    if (INT_TYPES.has(type) && !isIntText(a.text)) return `${type} column needs a JSON integer${where}`;
    return numbersEqual(e.text, a.text, type) ? null : `value mismatch${where}`;
  }
  if (Array.isArray(e) || Array.isArray(a)) {
    if (!(Array.isArray(e) && Array.isArray(a))) return `kind mismatch${where}`;
    if (e.length !== a.length) return `list length ${e.length} vs ${a.length}${where}`;
    const item = type ? listItemType(type) : undefined;
    for (let k = 0; k < e.length; k++) {
      const d = diffValue(e[k], a[k], item, `${path}[${k}]`);
      if (d) return d;
    }
    return null;
  }
  if (e instanceof Obj || a instanceof Obj) return show(e) === show(a) ? null : `value mismatch${where}`;
  return e === a ? null : `value mismatch${where}`;
}

function splitLines(text) {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// Returns { ok, rows, differences: [{ row, column, expected, actual, reason }], error? }.
// types: { column: typeName } or null. Stops after maxDiffs differences.
export function compareJsonl(expectedText, actualText, { types = null, maxDiffs = 5 } = {}) {
  const exp = splitLines(expectedText), act = splitLines(actualText);
  const differences = [];
  const add = (d) => { differences.push(d); return differences.length >= maxDiffs; };
  if (exp.length !== act.length) {
    add({ row: null, column: null, reason: `row count: expected ${exp.length}, actual ${act.length}` });
  }
  const n = Math.min(exp.length, act.length);
  for (let r = 0; r < n; r++) {
    let e, a;
    try { e = parseJson(exp[r]); } catch (err) { return { ok: false, rows: exp.length, error: `expected line ${r + 1}: invalid JSON: ${err.message}`, differences }; }
    try { a = parseJson(act[r]); } catch (err) {
      if (add({ row: r + 1, column: null, reason: `invalid JSON: ${err.message}`, actual: act[r].slice(0, 200) })) break;
      continue;
    }
    if (!(e instanceof Obj) || !(a instanceof Obj)) {
      if (add({ row: r + 1, column: null, reason: 'line is not a JSON object' })) break;
      continue;
    }
    const ek = e.entries.map(([k]) => k), ak = a.entries.map(([k]) => k);
    if (ek.join('\u0000') !== ak.join('\u0000')) {
      if (add({ row: r + 1, column: null, reason: `keys differ: expected [${ek}], actual [${ak}]` })) break;
      continue;
    }
    let stop = false;
    for (let k = 0; k < ek.length && !stop; k++) {
      const [col, ev] = e.entries[k];
      const av = a.entries[k][1];
      const reason = diffValue(ev, av, types?.[col], '');
      if (reason) stop = add({ row: r + 1, column: col, expected: show(ev), actual: show(av), reason });
    }
    if (stop) break;
  }
  return { ok: differences.length === 0, rows: exp.length, differences };
}

export function formatDifference(d) {
  const parts = [];
  if (d.row !== null) parts.push(`row ${d.row}`);
  if (d.column) parts.push(`column ${d.column}`);
  parts.push(d.reason);
  let s = parts.join(', ');
  if (d.expected !== undefined) s += `: expected ${d.expected}, actual ${d.actual}`;
  else if (d.actual !== undefined) s += `: ${JSON.stringify(d.actual)}`;
  return s;
}

export function summarize(result) {
  if (result.error) return result.error;
  return result.differences.map(formatDifference).join('; ');
}
