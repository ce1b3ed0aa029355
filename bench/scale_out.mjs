// The seeds' time.sleep microbenchmark, distributed: N workers of one job on this machine,
// with the benchmark-only `sleep` model backend (a fixed time per batch and no CPU), so that
// what is measured is the coordination (claims, reports, listings) and the pipeline around
// the model, not the model. Tiny 4x4x3 images keep preprocessing off the 2 cores.
//
//   node bench/scale_out.mjs --sluice build/tools/sluice/sluice [--shards 192] [--per-batch 100ms] [--workers 1,2,4,8,16]
//                            [--tail-workers 4 (0: no tail runs)]
//
// Prints, for each N: the job span (first worker's start to last worker's end, from the
// workers' reports) and the wall time of the launch (process start included), rows/s and the
// scaling efficiency E(N) = rows/s(N) / (N x rows/s(1)) for both. Then the tail (first worker
// done to last worker done) with one worker slowed 3x (SLUICE_SLEEP_SCALE=3), with and
// without workers.help_others.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const requirePeer = createRequire(new URL('../tests/peers/package.json', import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const SLUICE = resolve(args.sluice ?? 'build/tools/sluice/sluice');
const SHARDS = Number(args.shards ?? 192);
const SHARD_ROWS = 256;
const BATCH = 64;
const PER_BATCH = args['per-batch'] ?? '100ms';
const WORKERS = (args.workers ?? '1,2,4,8,16').split(',').map(Number);
const WORK = args.work ?? join(tmpdir(), 'sluice-scale-out');

async function makeDataset(dir) {
  const file = join(dir, `tiny-${SHARDS}x${SHARD_ROWS}.parquet`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const { DuckDBInstance } = requirePeer('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  // Pixels differ per row (the model hashes them). DuckDB writes row groups of at least 2048
  // rows: `sluice parquet copy` cuts them to SHARD_ROWS, one shard each.
  const raw = join(dir, 'duckdb.parquet');
  await c.run(`COPY (SELECT 'r' || lpad(i::VARCHAR, 7, '0') AS id,
      list_transform(range(48), j -> ((i * 31 + j * 7) % 256)::UTINYINT) AS image
      FROM range(${SHARDS * SHARD_ROWS}) t(i) ORDER BY i) TO '${raw}' (FORMAT PARQUET)`);
  const r = await run(SLUICE, ['parquet', 'copy', raw, file, '--row-group-rows', String(SHARD_ROWS)], {});
  if (r.code !== 0) throw new Error(`parquet copy: ${r.err}`);
  return file;
}

function job(input, out, model, help) {
  return `input: { uri: ${input}, shard_rows: ${SHARD_ROWS}, image_shape: [4, 4, 3] }
preprocess: { resize: 4, crop: 4 }
model: { uri: ${model}, backend: sleep, batch_size: ${BATCH}, replicas: 1 }
output: { uri: ${out}, top_k: 1 }
resources: { cpus: 1 }
workers: { heartbeat: 5s, stale_after: 30s, help_others: ${help} }
`;
}

function run(cmd, argv, env) {
  return new Promise((res) => {
    const p = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => res({ code, err }));
  });
}

/// Runs N workers of one job; returns the span and wall times and per-worker end times.
async function launch(name, input, n, { help = true, slow = -1 } = {}) {
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const model = join(dir, 'sleep.txt');
  writeFileSync(model, `per_batch=${PER_BATCH}\n`);
  const file = join(dir, 'job.yaml');
  const out = join(dir, 'out');
  writeFileSync(file, job(input, out, model, help));
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: n }, (_, r) =>
    run(SLUICE, ['run', file, '--progress', 'none', '--worker', `${r}/${n}`], r === slow ? { SLUICE_SLEEP_SCALE: '3' } : {})));
  const wall = (Date.now() - t0) / 1000;
  rs.forEach((r, i) => { if (r.code !== 0) throw new Error(`${name}: worker ${i} exited ${r.code}: ${r.err}`); });
  const reports = Array.from({ length: n }, (_, r) => JSON.parse(readFileSync(join(out, '_workers', `worker-${String(r).padStart(5, '0')}.json`), 'utf8')));
  const manifest = JSON.parse(readFileSync(join(out, '_manifest.json'), 'utf8'));
  const starts = reports.map((w) => w.started_at);
  // Work ends at a worker's last published shard (it may then wait a heartbeat for the others).
  const ends = reports.map((w) => (w.work_ended_at > 0 ? w.work_ended_at : w.started_at));
  const span = Math.max(...ends) - Math.min(...starts);
  const computed = reports.reduce((a, w) => a + w.shards_done, 0);
  // Each worker's own rate while it ran (rows it published over its start..end), averaged:
  // what coordination costs a worker, without the launcher's start-up skew.
  const rate = reports.reduce((a, w) => a + w.rows_per_s, 0) / n;
  return {
    n, wall, span, rows: manifest.rows, tail: Math.max(...ends) - Math.min(...ends), computed, rate,
    skew: Math.max(...starts) - Math.min(...starts), shards: manifest.shards,
    taken: reports.map((w) => w.taken.length), done: reports.map((w) => w.shards_done),
  };
}

const input = await makeDataset(join(WORK, 'data'));
console.log(`# ${SHARDS} shards of ${SHARD_ROWS} rows (${SHARDS * SHARD_ROWS} rows), sleep model ${PER_BATCH} per batch of ${BATCH} (${(SHARD_ROWS / BATCH)} batches a shard)`);
console.log('workers  span_s  wall_s  start_skew_s  rows/s(span)  E(span)  E(wall)  worker_rate/single  bound ceil(S/N)  shards computed  taken per worker');
let base = null;
for (const n of WORKERS) {
  const r = await launch(`n${n}`, input, n);
  base ??= r;
  const e = (x, b) => (r.rows / x) / (r.n * (base.rows / b));
  const bound = (r.shards / n) / Math.ceil(r.shards / n);  // whole shards: the best E possible
  console.log(`${String(n).padStart(7)}  ${r.span.toFixed(2).padStart(6)}  ${r.wall.toFixed(2).padStart(6)}  ${r.skew.toFixed(2).padStart(12)}  ${(r.rows / r.span).toFixed(0).padStart(12)}  ${e(r.span, base.span).toFixed(3).padStart(7)}  ${e(r.wall, base.wall).toFixed(3).padStart(7)}  ${(r.rate / base.rate).toFixed(3).padStart(18)}  ${bound.toFixed(3).padStart(15)}  ${String(r.computed).padStart(7)} of ${r.shards}  ${r.taken.join(',')}`);
}
const tn = Number(args['tail-workers'] ?? 4);
if (tn < 2) process.exit(0);
console.log(`# tail: ${tn} workers, worker ${tn - 1} slowed 3x (SLUICE_SLEEP_SCALE=3)`);
console.log('help_others  span_s  tail_s (first done -> last done)  shards done per worker  taken per worker');
for (const help of [true, false]) {
  const r = await launch(`tail_${help}`, input, tn, { help, slow: tn - 1 });
  console.log(`${String(help).padStart(11)}  ${r.span.toFixed(2).padStart(6)}  ${r.tail.toFixed(2).padStart(6)}  ${r.done.join(',').padStart(22)}  ${r.taken.join(',')}`);
}
