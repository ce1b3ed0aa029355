// Several `sluice run` processes as the workers of one job (scale-out): the output of N
// concurrent workers equals a single run's; a stopped worker's shards are taken over and the
// job ends without it; a killed one loses only its in-flight shards; SIGTERM stops promptly
// and cleanly; `sluice status` reads it all from the output; conflicts are refused by name.
// The launchers themselves (mpirun, a real Slurm cluster) are in launcher_cases.mjs.
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readOutput, sameTopK, checkOutput, inputLabels, hiddenFiles } from './lib/predictions.mjs';
import { startSluice, writeJob, describeRun, readSummary, runSluice } from './lib/sluice_process.mjs';
import { baseJob, expect, expectCompleteOutput, expectNull, expectSummary, runJob } from './lib/job_runs.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Polls `cond` every 100 ms until it returns a truthy value or `ms` pass.
export async function waitFor(what, cond, ms = 60_000) {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

export function workerReport(out, rank) {
  const p = join(out, '_workers', `worker-${String(rank).padStart(5, '0')}.json`);
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    return null;  // not written yet
  }
}

/// Shards claimed now, by worker rank.
function claims(out) {
  const dir = join(out, '_claims');
  const by = {};
  for (const n of existsSync(dir) ? readdirSync(dir) : []) {
    const m = /^part-(\d+)\.w(\d+)$/.exec(n);
    if (m) (by[Number(m[2])] ??= []).push(Number(m[1]));
  }
  return by;
}

const published = (out) => (existsSync(out) ? readdirSync(out) : []).filter((n) => /^part-\d+\.parquet$/.test(n)).map((n) => Number(n.slice(5, 10)));
/// Each published part's inode: a part published again (renamed over) gets a new one.
const partInodes = (out) => new Map(published(out).map((s) => [s, statSync(join(out, `part-${String(s).padStart(5, '0')}.parquet`)).ino]));

/// The sleep backend: a fixed time per batch and no CPU (src/infer/sleep_backend.h).
export function sleepModel(dir, perBatch) {
  const path = join(dir, `sleep-${perBatch}.txt`);
  writeFileSync(path, `per_batch=${perBatch}\n`);
  return path;
}

/// 230 JPEG rows in 10 shards of 25, through the sleep model 5 rows a batch.
export function sleepJob(ctx, data, out, model, more = {}) {
  return baseJob(ctx, data.glob, out, {
    input: { shard_rows: 25 }, model: { uri: model, backend: 'sleep', batch_size: 5 },
    workers: { heartbeat: '300ms', stale_after: '2s' }, ...more,
  });
}

/// The reference: one process, the sleep model without the sleep (its outputs do not depend on it).
async function sleepReference(ctx, dir, data) {
  ctx.sleepRef ??= (async () => {
    const out = join(dir, 'reference');
    await runJob(ctx, dir, 'reference', sleepJob(ctx, data, out, sleepModel(dir, '0ms')));
    return readOutput(ctx.db, out, 'parquet');
  })();
  return ctx.sleepRef;
}

/// Starts workers 0..n-1 of `file` (extra args and env per worker).
export function startWorkers(ctx, dir, file, n, { env = {}, args = () => [] } = {}) {
  return Array.from({ length: n }, (_, i) => {
    const summary = join(dir, `${file.split('/').pop()}.worker${i}.json`);
    const a = ['run', file, '--progress', 'none', '--summary-json', summary, '--worker', `${i}/${n}`, ...args(i)];
    const s = startSluice(ctx.bin, a, { env: { ...process.env, ...env }, timeoutMs: 180_000 });
    return { ...s, args: a, summary, rank: i };
  });
}

/// Three workers of the sleep job (`perBatch` a 5-row batch) on dir/out; with the reference output.
async function startSleepWorkers(ctx, dir, perBatch) {
  const data = await ctx.data.jpeg();
  const want = await sleepReference(ctx, dir, data);
  const out = join(dir, 'out');
  const file = writeJob(join(dir, 'job.yaml'), sleepJob(ctx, data, out, sleepModel(dir, perBatch)));
  return { want, out, ws: startWorkers(ctx, dir, file, 3) };
}

async function expectExact(ctx, out, want, what) {
  expectCompleteOutput(out, 'parquet', 10);
  const got = await readOutput(ctx.db, out, 'parquet');
  expect(got.rows.length === 230 && new Set(got.rows.map((r) => r.id)).size === 230, `${what}: ${got.rows.length} rows, want the 230 ids once each`);
  expectNull(sameTopK(got, want, { what }));
}

export async function workersLocal(ctx, dir) {
  const data = await ctx.data.jpeg();  // 230 rows in row groups of 25: shard_rows 50 gives 5 shards
  const labels = await inputLabels(ctx.db, data.glob);
  const base = await runJob(ctx, dir, 'single', baseJob(ctx, data.glob, join(dir, 'single'), {}));
  expectSummary(base.summary, { rows_total: 230, shards_total: 5, job_complete: true });
  const want = await readOutput(ctx.db, join(dir, 'single'), 'parquet');

  const out = join(dir, 'three');
  const file = writeJob(join(dir, 'three.yaml'), baseJob(ctx, data.glob, out, {}));
  // Worker 0 by flag, worker 1 by Open MPI's variables, worker 2 by a Slurm array's: all at once.
  const launches = [
    { args: ['--worker', '0/3'], env: {} },
    { args: [], env: { OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '3' } },
    { args: [], env: { SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_MAX: '12' } },
  ];
  const runs = launches.map((l, i) => {
    const summary = join(dir, `worker${i}.json`);
    const args = ['run', file, '--progress', 'none', '--summary-json', summary, ...l.args];
    return { args, summary, p: startSluice(ctx.bin, args, { env: { ...process.env, ...l.env }, timeoutMs: 120_000 }) };
  });
  const results = await Promise.all(runs.map((r) => r.p.done));
  results.forEach((r, i) => expect(r.code === 0, () => describeRun(runs[i].args, r)));
  const summaries = runs.map((r) => readSummary(r.summary));
  const sources = summaries.map((s) => `${s.worker.rank}/${s.worker.count} ${s.worker.source}`);
  expect(JSON.stringify(sources) === JSON.stringify(['0/3 --worker', '1/3 OMPI_COMM_WORLD_RANK', '2/3 SLURM_ARRAY_TASK_ID']),
    `worker identities: ${sources}`);
  // Who wrote what depends on who started first (an early worker helps the others), but
  // together they wrote the 5 shards, each published once.
  const written = summaries.map((s) => s.shards_written);
  expect(written.reduce((a, b) => a + b, 0) >= 5, `shards written per worker: ${written} (at least 5 together)`);
  expect(summaries.some((s) => s.job_complete), 'no worker found the job complete');
  expectCompleteOutput(out, 'parquet', 5);
  const got = await readOutput(ctx.db, out, 'parquet');
  expectNull(checkOutput(got, labels, { k: 5 }));
  expectNull(sameTopK(got, want, { what: 'three workers and a single run' }));
  const line = results[0].stderr.split('\n').find((l) => l.startsWith('worker 0 of 3'));
  expect(line, () => `worker 0's summary should name it: ${results[0].stderr}`);
  // Each worker's report, and the manifest's merge of them.
  for (let r = 0; r < 3; r++) {
    const rep = workerReport(out, r);
    expect(rep && rep.state === 'done' && rep.count === 3 && rep.host, () => `worker ${r}'s report: ${JSON.stringify(rep)}`);
  }
  const manifest = JSON.parse(readFileSync(join(out, '_manifest.json'), 'utf8'));
  expect(manifest.workers?.workers === 3 && manifest.workers.job_rows_per_s > 0 && manifest.workers.slowest_worker >= 0,
    () => `_manifest.json workers: ${JSON.stringify(manifest.workers)}`);
  expect(Object.keys(claims(out)).length === 0, () => `claims left behind: ${JSON.stringify(claims(out))}`);

  // A rerun of one worker finds its shards published and the job complete.
  const again = await runJob(ctx, dir, 'again', baseJob(ctx, data.glob, out, {}), { extra: ['--worker', '1/3'] });
  expectSummary(again.summary, { shards_written: 0, shards_resumed: 2, job_complete: true });
}

/// A worker stopped (SIGSTOP) mid-run: the others take its remaining shards, also the ones it
/// had claimed once its report goes silent, and the job completes without it; when it resumes
/// it finishes what it held, and the output is still exact.
export async function workersStraggler(ctx, dir) {
  const { want, out, ws } = await startSleepWorkers(ctx, dir, '200ms');
  await waitFor('worker 2 to publish a shard', () => (workerReport(out, 2)?.shards_done ?? 0) >= 1);
  ws[2].child.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const held = claims(out)[2] ?? [];
  try {
    const [a, b] = await Promise.all([ws[0].done, ws[1].done]);
    [a, b].forEach((r, i) => expect(r.code === 0, () => describeRun(ws[i].args, r)));
    expect(existsSync(join(out, '_SUCCESS')), 'the job did not complete while worker 2 was stopped');
    const taken = [0, 1].flatMap((r) => readSummary(ws[r].summary).shards_taken);
    expect(taken.reduce((x, y) => x + y, 0) >= 1, `workers 0 and 1 took ${taken} shards (want some)`);
    ctx.note(`worker 2 stopped holding shards [${held}]; the others finished ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s later, taking ${taken}`);
    const st = await runSluice(ctx.bin, ['status', out, '--json']);
    const s = JSON.parse(st.stdout);
    expect(st.code === 0 && s.complete && s.shards_published === 10, () => `status: ${st.code} ${st.stdout}`);
    expect(s.stragglers.includes(2), () => `status names no straggler: ${st.stdout}`);
  } finally {
    ws[2].child.kill('SIGCONT');
  }
  const c = await ws[2].done;
  expect(c.code === 0, () => describeRun(ws[2].args, c));
  await expectExact(ctx, out, want, 'three workers, one stopped for a while, and a single run');
  expect(Object.keys(claims(out)).length === 0, () => `claims left behind: ${JSON.stringify(claims(out))}`);
  expect(hiddenFiles(out).length === 0, () => `temporary files left: ${hiddenFiles(out)}`);
}

/// A worker killed (SIGKILL) mid-run. With help (the default) the others take over its
/// shards once it is silent and complete the job; without, they finish their own and the rerun
/// of the dead worker (a requeue) completes it. Either way only shards the dead worker had in
/// flight are computed twice.
export async function workersKilled(ctx, dir) {
  const data = await ctx.data.jpeg();
  const want = await sleepReference(ctx, dir, data);
  for (const help of [true, false]) {
    const out = join(dir, `out_help_${help}`);
    const job = sleepJob(ctx, data, out, sleepModel(dir, '200ms'), {});
    job.workers.help_others = help;
    const file = writeJob(join(dir, `help_${help}.yaml`), job);
    const ws = startWorkers(ctx, dir, file, 3);
    await waitFor('worker 1 to publish a shard', () => (workerReport(out, 1)?.shards_done ?? 0) >= 1);
    ws[1].child.kill('SIGKILL');
    const inFlight = claims(out)[1] ?? [];
    const atKill = partInodes(out);
    const publishedAtKill = new Set(atKill.keys());
    const [a, b] = await Promise.all([ws[0].done, ws[2].done]);
    [a, b].forEach((r, i) => expect(r.code === 0, () => describeRun(ws[i * 2].args, r)));
    const survivorsDone = readSummary(ws[0].summary).job_complete || readSummary(ws[2].summary).job_complete;
    expect(survivorsDone === help, `help_others ${help}: the survivors ${survivorsDone ? 'completed' : 'did not complete'} the job`);
    // The dead worker run again, as a requeue would. It removes temporary files of processes of
    // this host that are gone (its own killed run's, and this made-up one), never another host's.
    const gone = `.part-00001.parquet.tmp-${hostname()}-99999999-0`, elsewhere = '.part-00001.parquet.tmp-other-host.example-1-0';
    writeFileSync(join(out, gone), 'x');
    writeFileSync(join(out, elsewhere), 'x');
    const again = await runJob(ctx, dir, `rerun_${help}`, job, { extra: ['--worker', '1/3'] });
    expect(!existsSync(join(out, gone)) && existsSync(join(out, elsewhere)), () => `temporary files after the rerun: ${hiddenFiles(out)}`);
    rmSync(join(out, elsewhere));
    expectSummary(again.summary, { job_complete: true });
    const rerun = workerReport(out, 1).published;
    // Nothing published before the kill was published again: only what was in flight is redone.
    const now = partInodes(out);
    const twice = [...atKill].filter(([s, ino]) => now.get(s) !== ino).map(([s]) => s);
    expect(twice.length === 0, `shards published before the kill were published again: ${twice}`);
    ctx.note(`help_others ${help}: killed worker 1 with shards [${inFlight}] in flight, [${[...publishedAtKill]}] published; ` +
      `survivors took ${[0, 2].map((r) => workerReport(out, r).taken)}; the rerun wrote [${rerun}]`);
    await expectExact(ctx, out, want, `three workers, one killed (help_others ${help}), and a single run`);
  }
}

/// SIGTERM (preemption) stops a worker within seconds, publishing nothing half-written and
/// releasing its claims; the others complete the job; `sluice status` follows it all.
export async function workersSigterm(ctx, dir) {
  // 2 s a shard: the others still work for several seconds after worker 0 stops.
  const { want, out, ws } = await startSleepWorkers(ctx, dir, '400ms');
  await waitFor('a published shard and three reports', () => published(out).length >= 1 && [0, 1, 2].every((r) => workerReport(out, r)));
  const t0 = Date.now();
  ws[0].child.kill('SIGTERM');
  const stopped = await ws[0].done;
  const ms = Date.now() - t0;
  const running = await runSluice(ctx.bin, ['status', out]);
  expect(running.code === 3 && /not complete/.test(running.stdout) && /worker 2 of 3/.test(running.stdout),
    () => `status of a running job: exit ${running.code}\n${running.stdout}${running.stderr}`);
  const json = JSON.parse((await runSluice(ctx.bin, ['status', out, '--json'])).stdout);
  expect(json.complete === false && json.workers.length === 3 && json.shards_total === 10 && json.rows_total === 230,
    () => `status --json of a running job: ${JSON.stringify(json)}`);
  expect(stopped.code !== 0 && /stop|Cancel/i.test(stopped.stderr), () => describeRun(ws[0].args, stopped));
  expect(ms < 10_000, `SIGTERM took ${ms} ms to stop worker 0`);
  const rep = workerReport(out, 0);
  expect(rep.state === 'stopped' && rep.in_progress.length === 0, () => `worker 0's report after SIGTERM: ${JSON.stringify(rep)}`);
  expect(!(claims(out)[0]?.length), () => `worker 0 left claims ${claims(out)[0]}`);
  ctx.note(`SIGTERM: worker 0 exited in ${ms} ms (code ${stopped.code})`);
  const rest = await Promise.all([ws[1].done, ws[2].done]);
  rest.forEach((r, i) => expect(r.code === 0, () => describeRun(ws[i + 1].args, r)));
  const done = await runSluice(ctx.bin, ['status', out]);
  expect(done.code === 0 && /: complete/.test(done.stdout) && /10 of 10 published/.test(done.stdout), () => `status of a finished job: ${done.stdout}`);
  await expectExact(ctx, out, want, 'three workers, one stopped by SIGTERM, and a single run');
  expect(hiddenFiles(out).length === 0, () => `temporary files left: ${hiddenFiles(out)}`);
}

/// Refused with a clear message: an index out of range, --overwrite with several workers, two
/// processes on one index, workers disagreeing on their number, a second job file on the output.
export async function workersRefused(ctx, dir) {
  const data = await ctx.data.jpeg();
  const out = join(dir, 'out');
  const job = sleepJob(ctx, data, out, sleepModel(dir, '300ms'));
  const bad = await runJob(ctx, dir, 'bad_index', job, { ok: false, extra: ['--worker', '3/3'] });
  expect(bad.r.code === 2 && /worker index 3 is outside 0\.\.2/.test(bad.r.stderr), () => describeRun(bad.args, bad.r));
  const over = await runJob(ctx, dir, 'overwrite', job, { ok: false, extra: ['--worker', '0/3', '--overwrite'] });
  expect(over.r.code === 2 && /--overwrite with 3 workers/.test(over.r.stderr), () => describeRun(over.args, over.r));

  const file = writeJob(join(dir, 'job.yaml'), job);
  const w0 = startSluice(ctx.bin, ['run', file, '--progress', 'none', '--worker', '0/2'], { timeoutMs: 180_000 });
  try {
    await waitFor('worker 0 to run', () => workerReport(out, 0)?.state === 'running');
    const twice = await runJob(ctx, dir, 'same_index', job, { ok: false, extra: ['--worker', '0/2'] });
    expect(twice.r.code === 2 && /two workers claim index 0/.test(twice.r.stderr), () => describeRun(twice.args, twice.r));
    const count = await runJob(ctx, dir, 'other_count', job, { ok: false, extra: ['--worker', '1/3'] });
    expect(count.r.code === 2 && /disagree on their number/.test(count.r.stderr) && /worker 0 of 2/.test(count.r.stderr),
      () => describeRun(count.args, count.r));
    const other = sleepJob(ctx, data, out, sleepModel(dir, '300ms'), { output: { uri: out, top_k: 3, include: ['label'] } });
    const diff = await runJob(ctx, dir, 'other_job', other, { ok: false, extra: ['--worker', '1/2'] });
    expect(diff.r.code === 2 && /different job/.test(diff.r.stderr) && /output.top_k=3/.test(diff.r.stderr), () => describeRun(diff.args, diff.r));
    ctx.note(`messages: ${[twice, count, diff].map((x) => x.r.stderr.trim().split('\n').pop()).join(' | ')}`);
  } finally {
    w0.child.kill('SIGKILL');
    await w0.done;
  }
}
