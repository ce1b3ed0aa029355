// Heterogeneous cells (README "Heterogeneous clusters"): one MPI launch of an infer worker and
// CPU-only feeders (`mpirun ... --role infer : ... --role preprocess`). The output equals a
// single process's; the feeders' batches stay within the infer worker's credits while the
// model is slow; bad rows a feeder finds land in _errors/ as on one machine; different job
// files are refused; a killed feeder ends the launch promptly with nothing half-published, and
// the rerun completes exactly once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSlurmCluster } from '../cluster/slurm_cluster.mjs';
import { readOutput, sameTopK, inputLabels, readErrors } from './lib/predictions.mjs';
import { startSluice, writeJob, readSummary } from './lib/sluice_process.mjs';
import { baseJob, expect, expectCompleteOutput, expectNull, runJob } from './lib/job_runs.mjs';
import { single, expectSame } from './launcher_cases.mjs';
import { sleepModel, sleepJob, waitFor, workerReport } from './worker_cases.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MPI_ENV = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_btl: 'self,tcp' };

/// One mpirun with an app context per entry ({ np, args }); returns { args, child, done }.
function startCell(ctx, contexts, { timeoutMs = 180_000 } = {}) {
  const args = ['--oversubscribe'];
  contexts.forEach((c, i) => {
    if (i) args.push(':');
    args.push('-np', String(c.np), ctx.bin, ...c.args);
  });
  return { args, ...startSluice('mpirun', args, { env: { ...process.env, ...MPI_ENV }, timeoutMs }) };
}

function describeCell(cell, r) {
  const how = r.timedOut ? 'timed out (killed)' : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return `mpirun ${cell.args.join(' ')}: ${how}\n${r.stdout}${r.stderr}`;
}

/// An infer worker and `feeders` feeders of `file`; the infer worker's summary in `summary`,
/// each feeder's in `${summary}.feederN`.
function inferAndFeeders(ctx, file, summary, feeders, inferArgs = []) {
  const run = (role, more) => ['run', file, '--role', role, '--progress', 'none', ...more];
  return [
    { np: 1, args: run('infer', ['--summary-json', summary, ...inferArgs]) },
    ...Array.from({ length: feeders }, (_, i) => ({ np: 1, args: run('preprocess', ['--summary-json', `${summary}.feeder${i}`]) })),
  ];
}

/// Writes `job` into the case dir and runs it as an infer worker and two feeders; fails the case
/// unless the launch succeeds. Returns { r, s: the infer worker's summary, summaryPath }.
async function runCell(ctx, dir, job, inferArgs = []) {
  const file = writeJob(join(dir, 'job.yaml'), job);
  const summaryPath = join(dir, 'infer.json');
  const cell = startCell(ctx, inferAndFeeders(ctx, file, summaryPath, 2, inferArgs));
  const r = await cell.done;
  expect(r.code === 0, () => describeCell(cell, r));
  return { r, s: readSummary(summaryPath), summaryPath };
}

const rowsFromFeeders = (s) => s.feeders.reduce((n, f) => n + f.rows + f.bad_rows, 0);

/// One infer worker (its own cores preprocess too) and two feeders equal a single run.
export async function cellEqual(ctx, dir) {
  const data = await ctx.data.jpeg();
  const labels = await inputLabels(ctx.db, data.glob);
  const want = await single(ctx, dir, data);
  const out = join(dir, 'out');
  const { r, s, summaryPath } = await runCell(ctx, dir, baseJob(ctx, data.glob, out, {}));
  await expectSame(ctx, out, want, labels, 'an infer worker with 2 feeders and a single run');
  expect(s.feeders.length === 2, () => `the infer worker's summary lists ${s.feeders.length} feeders, want 2`);
  expect(rowsFromFeeders(s) > 0, () => `the feeders delivered no rows: ${JSON.stringify(s.feeders)}`);
  expect(rowsFromFeeders(s) + s.rows_from_own_cores === 230,
    () => `rows from feeders (${rowsFromFeeders(s)}) and own cores (${s.rows_from_own_cores}) should add up to 230`);
  const report = workerReport(out, 0);
  expect(report?.feeders?.length === 2 && report.feeders.every((f) => f.name.includes('MPI rank')),
    () => `_workers/worker-00000.json should list both feeders: ${JSON.stringify(report?.feeders)}`);
  for (let i = 0; i < 2; i++) {
    const f = readSummary(`${summaryPath}.feeder${i}`);
    expect(f.role === 'preprocess' && f.feeder === i && f.feeders === 2, () => `feeder ${i}'s summary: ${JSON.stringify(f)}`);
  }
  expect(/rows from feeder 0 \(MPI rank \d+ on /.test(r.stderr), () => `the summary should name each feeder:\n${r.stderr}`);
  ctx.note(`own cores ${s.rows_from_own_cores} rows; ${s.feeders.map((f) => `${f.name}: ${f.rows} rows, ${f.bytes} bytes`).join('; ')}`);
}

/// Bad rows a feeder finds (--feeders-only: the feeders preprocess every row) are recorded in
/// _errors/ exactly as a single run records them.
export async function cellBadRows(ctx, dir) {
  const data = await ctx.data.badRows();
  const job = baseJob(ctx, data.glob, join(dir, 'single'), { input: { shard_rows: 25 }, errors: { max_bad_rows: 10 } });
  await runJob(ctx, dir, 'single', job);
  const want = readErrors(join(dir, 'single'));
  const wantOut = await readOutput(ctx.db, join(dir, 'single'), 'parquet');
  const out = join(dir, 'out');
  job.output.uri = out;
  const { s } = await runCell(ctx, dir, job, ['--feeders-only']);
  expect(s.rows_from_own_cores === 0 && rowsFromFeeders(s) === 100, () => `--feeders-only: own cores ${s.rows_from_own_cores}, feeders ${rowsFromFeeders(s)}`);
  expect(s.bad_rows === 6, () => `bad_rows ${s.bad_rows}, want 6`);
  const got = readErrors(out);
  const key = (e) => JSON.stringify([e.file, e.id, e.stage, e.shard, e.message]);
  expect(JSON.stringify(got.map(key).sort()) === JSON.stringify(want.map(key).sort()),
    () => `_errors/ differs from a single run's:\n${got.map(key).sort().join('\n')}\nwant\n${want.map(key).sort().join('\n')}`);
  expectCompleteOutput(out, 'parquet', 4);
  expectNull(sameTopK(await readOutput(ctx.db, out, 'parquet'), wantOut, { what: 'feeders-only and a single run' }));
}

/// A slow model (the sleep backend) and fast feeders: the feeders wait for credits, the infer
/// worker never holds more of their batches than its credits allow, and neither side's memory
/// grows past its budget plus a fixed overhead.
export async function cellFlowControl(ctx, dir) {
  // 1000 JPEGs (150 MB of uint8 crops, 4 shards of one 250-row group) against a 32 MiB budget.
  const data = await ctx.data.datagen('jpeg', join(dir, 'data'), 1000, 250, 7);
  const model = sleepModel(dir, '80ms');  // 5 rows a batch: ~60 rows/s; the feeders do ~100 each
  const job = sleepJob(ctx, data, join(dir, 'single'), model, {
    input: { shard_rows: 250 }, preprocess: { resize: 256, crop: 224 }, resources: { memory: '32MiB' },
  });
  const { summary: alone } = await runJob(ctx, dir, 'single', job);
  job.output.uri = join(dir, 'out');
  const { s, summaryPath } = await runCell(ctx, dir, job, ['--feeders-only']);
  const maxBatch = 32 * 224 * 224 * 3 + (64 << 10);  // a feeder's batch: at most 32 crops, ids and shard numbers
  const allowed = s.feeder_credits * 2 * maxBatch;
  expect(s.feeder_inbox_peak_bytes <= allowed,
    () => `the inbox held ${s.feeder_inbox_peak_bytes} bytes, more than 2 feeders x ${s.feeder_credits} credits x ${maxBatch} bytes`);
  const overhead = 96 << 20;  // MPI's libraries and buffers, the inbox's bookkeeping
  expect(s.peak_rss_bytes <= alone.peak_rss_bytes + allowed + overhead,
    () => `infer worker peak RSS ${s.peak_rss_bytes}, a single run's ${alone.peak_rss_bytes} + inbox ${allowed} + ${overhead}`);
  let waited = 0;
  for (let i = 0; i < 2; i++) {
    const f = readSummary(`${summaryPath}.feeder${i}`);
    const grew = f.stats.peak_rss_bytes - f.stats.rss_at_start_bytes;
    expect(grew <= (32 << 20) + overhead, () => `feeder ${i} grew by ${grew} bytes over a 32 MiB budget`);
    waited += f.credit_wait_s;
  }
  expect(waited > 2, () => `the feeders should have waited for credits behind a slow model (waited ${waited} s)`);
  ctx.note(`inbox peak ${s.feeder_inbox_peak_bytes} of ${allowed} allowed (${s.feeder_credits} credits, batches up to ${Math.round(maxBatch)} B); ` +
    `feeders waited ${waited.toFixed(1)} s for credits; infer peak RSS ${s.peak_rss_bytes >> 20} MiB vs single ${alone.peak_rss_bytes >> 20} MiB`);
}

/// The example Slurm script (examples/slurm/cell.sbatch: mpirun inside the allocation) on a
/// real Slurm cluster of 3 nodes: one infer worker and 2 feeders; equal to a single run.
export async function cellSlurm(ctx, dir) {
  const data = await ctx.data.jpeg();
  const labels = await inputLabels(ctx.db, data.glob);
  const want = await single(ctx, dir, data);
  const cluster = await startSlurmCluster({ dir: join(dir, 'slurm'), nodes: 3 });
  try {
    const out = join(dir, 'out');
    const file = writeJob(join(dir, 'job.yaml'), baseJob(ctx, data.glob, out, {}));
    const logs = join(dir, 'logs');
    mkdirSync(logs, { recursive: true });
    const env = { ...cluster.env, SLUICE: ctx.bin, ...MPI_ENV };
    const id = await cluster.sbatch(['-N', '3', '-n', '3', '-o', join(logs, 'slurm-%j.log'), join(REPO, 'examples/slurm/cell.sbatch'), file], { env });
    const tasks = await cluster.waitJob(id, 240_000);
    const log = readdirSync(logs).map((n) => readFileSync(join(logs, n), 'utf8')).join('\n');
    const completed = tasks.every((t) => t.state === 'COMPLETED');
    const tails = completed ? '' : await cluster.logTails();
    expect(completed, () => `${JSON.stringify(tasks)}\n${log}\n${tails}`);
    for (const f of [0, 1]) expect(log.includes(`feeder ${f} of 2`), () => `feeder ${f} did not report:\n${log}`);
    expect(/rows from feeder 1 \(MPI rank 2 on /.test(log), () => `the infer worker's summary should name its feeders:\n${log}`);
    await expectSame(ctx, out, want, labels, 'a Slurm cell (mpirun in an sbatch allocation) and a single run');
    ctx.note(`nodes ${[...new Set(tasks.flatMap((t) => (t.nodes ?? '').split(',')))]}`);
  } finally {
    await cluster.stop();
  }
}

/// Feeders given a job that crops differently (an output-deciding key) are refused at once by
/// every rank, naming the ranks, before any work.
export async function cellRefused(ctx, dir) {
  const data = await ctx.data.jpeg();
  const out = join(dir, 'out');
  const file = writeJob(join(dir, 'job.yaml'), baseJob(ctx, data.glob, out, {}));
  const contexts = inferAndFeeders(ctx, file, join(dir, 'infer.json'), 2);
  for (const c of contexts.slice(1)) c.args.push('--set', 'preprocess.crop=28');
  const cell = startCell(ctx, contexts, { timeoutMs: 60_000 });
  const r = await cell.done;
  expect(r.code !== 0 && !r.timedOut, () => `different job files should be refused: ${describeCell(cell, r)}`);
  expect(/different jobs: rank\(s\) 1, 2 /.test(r.stderr), () => `the refusal should name ranks 1 and 2:\n${r.stderr}`);
  expect(!existsSync(join(out, 'part-00000.parquet')), 'a part was published by a refused launch');
}

/// A feeder SIGKILLed mid-run ends the launch within seconds, naming the lost rank; every
/// published part is whole, nothing else is; the rerun completes with every row once.
export async function cellFeederKilled(ctx, dir) {
  const data = await ctx.data.jpeg();
  const model = sleepModel(dir, '150ms');
  const job = sleepJob(ctx, data, join(dir, 'reference'), sleepModel(dir, '0ms'));
  await runJob(ctx, dir, 'reference', job);
  const want = await readOutput(ctx.db, join(dir, 'reference'), 'parquet');
  const out = join(dir, 'out');
  const file = writeJob(join(dir, 'job.yaml'), sleepJob(ctx, data, out, model));
  const cell = startCell(ctx, inferAndFeeders(ctx, file, join(dir, 'infer.json'), 2));
  const parts = () => (existsSync(out) ? readdirSync(out) : []).filter((n) => /^part-\d+\.parquet$/.test(n));
  await waitFor('a first published part', () => parts().length > 0, 60_000);
  const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(cell.child.pid)], { encoding: 'utf8' });
  const feeder = children.split('\n').find((l) => l.includes('--role preprocess'));
  expect(feeder, () => `no feeder among mpirun's children:\n${children}`);
  const killedAt = Date.now();
  process.kill(Number(feeder.trim().split(/\s+/)[0]), 'SIGKILL');
  const r = await cell.done;
  const ended = (Date.now() - killedAt) / 1000;
  expect(r.code !== 0, () => `the launch should fail when a feeder dies: ${describeCell(cell, r)}`);
  expect(ended < 20, () => `the launch took ${ended.toFixed(1)} s to end after the feeder died`);
  expect(/rank \d+ .*(signal 9|Killed)/s.test(r.stdout + r.stderr), () => `mpirun should name the lost rank:\n${r.stdout}${r.stderr}`);
  expect(!existsSync(join(out, '_SUCCESS')), 'the killed launch wrote _SUCCESS');
  const published = parts().length;
  const partial = await readOutput(ctx.db, out, 'parquet');
  const perPart = {};
  for (const row of partial.rows) perPart[row.part] = (perPart[row.part] ?? 0) + 1;
  for (const [part, n] of Object.entries(perPart)) {
    const shard = Number(/part-(\d+)/.exec(part)[1]);
    const full = shard === 9 ? 5 : 25;  // 230 rows in shards of 25
    expect(n === full, () => `${part} was published with ${n} rows, want ${full}`);
  }
  const again = startCell(ctx, inferAndFeeders(ctx, file, join(dir, 'rerun.json'), 2));
  const r2 = await again.done;
  expect(r2.code === 0, () => describeCell(again, r2));
  const rerun = readSummary(join(dir, 'rerun.json'));
  expect(rerun.shards_resumed === published, () => `the rerun resumed ${rerun.shards_resumed} shards, ${published} were published`);
  expectCompleteOutput(out, 'parquet', 10);
  expectNull(sameTopK(await readOutput(ctx.db, out, 'parquet'), want, { what: 'the rerun after a killed feeder and a single run' }));
  ctx.note(`launch ended ${ended.toFixed(1)} s after the kill; ${published} parts published before, resumed by the rerun`);
}
