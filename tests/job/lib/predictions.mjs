// A job's output read back independently of sluice (DuckDB for Parquet, JSON.parse for JSON
// Lines) and the checks on it: ids exactly once, valid top-k, equality between two outputs.
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const requirePeer = createRequire(new URL('../../peers/package.json', import.meta.url));

export const sqlString = (s) => `'${String(s).replace(/'/g, "''")}'`;

export class DuckDB {
  static async open() {
    let api;
    try {
      api = requirePeer('@duckdb/node-api');
    } catch (e) {
      throw new Error(`cannot load @duckdb/node-api from tests/peers/node_modules (${e.message}); run scripts/setup.sh`);
    }
    const db = new DuckDB();
    db.instance = await api.DuckDBInstance.create(':memory:', { threads: '1' });
    db.conn = await db.instance.connect();
    return db;
  }

  async run(sql) {
    await this.conn.run(sql);
  }

  /// Rows as plain objects (BIGINT as bigint, lists as arrays).
  async all(sql) {
    return (await this.conn.runAndReadAll(sql)).getRowObjectsJS();
  }

  close() {
    this.conn?.closeSync?.();
    this.instance?.closeSync?.();
  }
}

/// { id -> label } of a Parquet input (a glob), as DuckDB reads it.
export async function inputLabels(db, glob) {
  const rows = await db.all(`SELECT id, label FROM read_parquet(${sqlString(glob)})`);
  return new Map(rows.map((r) => [r.id, Number(r.label)]));
}

/// A job output's rows: { rows: [{ id, label?, ids, scores, part }], parts: [names] }.
export async function readOutput(db, dir, format = 'parquet') {
  const parts = readdirSync(dir).filter((n) => /^part-\d{5}\./.test(n)).sort();
  const wrong = parts.filter((n) => !n.endsWith(`.${format}`));
  if (wrong.length) throw new Error(`${dir} holds parts of another format: ${wrong.join(', ')}`);
  const rows = [];
  if (format === 'parquet') {
    if (parts.length === 0) return { rows, parts };
    const got = await db.all(`SELECT * FROM read_parquet(${sqlString(join(dir, 'part-*.parquet'))}, filename = true)`);
    for (const r of got) rows.push(normalize(r, r.filename.slice(r.filename.lastIndexOf('/') + 1)));
  } else {
    for (const part of parts) {
      const text = readFileSync(join(dir, part), 'utf8');
      // JSON Lines: one object per line, each ended by '\n', no blank lines.
      if (text !== '' && (!text.endsWith('\n') || /\n\n|^\n/.test(text))) throw new Error(`${part}: not one JSON object per line`);
      const lines = text.split('\n').slice(0, -1);
      for (const line of lines) rows.push(normalize(JSON.parse(line), part));
    }
  }
  return { rows, parts };
}

function normalize(r, part) {
  const row = { id: r.id, part };
  if ('label' in r) row.label = r.label === null ? null : Number(r.label);
  if ('top_k_ids' in r) row.ids = r.top_k_ids === null ? null : r.top_k_ids.map(Number);
  if ('top_k_scores' in r) row.scores = r.top_k_scores === null ? null : r.top_k_scores.map(Number);
  return row;
}

const few = (list, n = 5) => (list.length > n ? `${list.slice(0, n).join(', ')}, ... (${list.length})` : list.join(', '));

/// Checks an output against the expected ids (Map id -> label, or a Set of ids): every id
/// exactly once, labels carried over, top-k of `k` distinct class ids in [0, classes) with
/// descending probabilities summing to at most 1. Returns null or what is wrong.
export function checkOutput(out, expected, { k, classes = 10 }) {
  const problems = [];
  const seen = new Map();
  for (const r of out.rows) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  const dup = [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
  if (dup.length) problems.push(`duplicate ids: ${few(dup)}`);
  const ids = expected instanceof Map ? [...expected.keys()] : [...expected];
  const missing = ids.filter((id) => !seen.has(id));
  if (missing.length) problems.push(`missing ids: ${few(missing)}`);
  const extra = [...seen.keys()].filter((id) => !(expected instanceof Map ? expected.has(id) : expected.has(id)));
  if (extra.length) problems.push(`unexpected ids: ${few(extra)}`);
  const bad = [];
  for (const r of out.rows) {
    if (expected instanceof Map && expected.has(r.id) && r.label !== expected.get(r.id)) {
      bad.push(`${r.id}: label ${r.label}, input has ${expected.get(r.id)}`);
    }
    const why = topKProblem(r, k, classes);
    if (why) bad.push(`${r.id}: ${why}`);
  }
  if (bad.length) problems.push(few(bad, 3));
  return problems.length ? `${out.rows.length} rows: ${problems.join('; ')}` : null;
}

function topKProblem(r, k, classes) {
  if (!Array.isArray(r.ids) || !Array.isArray(r.scores)) return 'top_k_ids/top_k_scores missing or null';
  if (r.ids.length !== k || r.scores.length !== k) return `${r.ids.length} ids and ${r.scores.length} scores, want ${k}`;
  if (!r.ids.every((c) => Number.isInteger(c) && c >= 0 && c < classes)) return `class ids ${r.ids} not all in [0, ${classes})`;
  if (new Set(r.ids).size !== k) return `repeated class ids ${r.ids}`;
  for (let i = 0; i < k; i++) {
    if (!(r.scores[i] >= 0 && r.scores[i] <= 1)) return `score ${r.scores[i]} outside [0, 1]`;
    if (i > 0 && r.scores[i] > r.scores[i - 1]) return `scores not descending: ${r.scores}`;
  }
  const sum = r.scores.reduce((a, b) => a + b, 0);
  if (sum > 1 + 1e-5) return `scores sum to ${sum} > 1`;
  return null;
}

/// Both outputs have the same ids with identical top_k_ids and scores within `tol`.
export function sameTopK(a, b, { tol = 1e-6, what = 'outputs' } = {}) {
  const byId = new Map(b.rows.map((r) => [r.id, r]));
  const diffs = [];
  if (a.rows.length !== b.rows.length) diffs.push(`${a.rows.length} vs ${b.rows.length} rows`);
  for (const r of a.rows) {
    const o = byId.get(r.id);
    if (!o) {
      diffs.push(`${r.id} only in the first`);
      continue;
    }
    if (JSON.stringify(r.ids) !== JSON.stringify(o.ids)) diffs.push(`${r.id}: top_k_ids ${JSON.stringify(r.ids)} vs ${JSON.stringify(o.ids)}`);
    else if (r.scores.some((s, i) => !(Math.abs(s - o.scores[i]) <= tol))) {
      diffs.push(`${r.id}: scores ${JSON.stringify(r.scores)} vs ${JSON.stringify(o.scores)} (tolerance ${tol})`);
    }
  }
  const inA = new Set(a.rows.map((r) => r.id));
  const onlyB = b.rows.filter((r) => !inA.has(r.id)).map((r) => r.id);
  if (onlyB.length) diffs.push(`only in the second: ${few(onlyB)}`);
  return diffs.length ? `${what} differ: ${few(diffs, 3)}` : null;
}

/// The lines of every _errors/*.jsonl file of an output, parsed, with their file name.
export function readErrors(dir) {
  const errDir = join(dir, '_errors');
  if (!existsSync(errDir)) return [];
  const out = [];
  for (const name of readdirSync(errDir).sort()) {
    for (const line of readFileSync(join(errDir, name), 'utf8').split('\n')) {
      if (line !== '') out.push({ file: name, ...JSON.parse(line) });
    }
  }
  return out;
}

/// Every path under `dir` (relative) whose last component starts with '.'.
export function hiddenFiles(dir, rel = '') {
  const found = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.name.startsWith('.')) found.push(p);
    if (e.isDirectory()) found.push(...hiddenFiles(dir, p));
  }
  return found;
}
