// Several `sluice run` processes as workers of one job (the first step of scale-out): each
// takes shards r, r + N, ...; the output of three concurrent workers equals a single run's, and
// whichever finds every shard published writes _manifest.json and _SUCCESS.
import { join } from 'node:path';
import { readOutput, sameTopK, checkOutput, inputLabels } from './lib/predictions.mjs';
import { startSluice, writeJob, describeRun, readSummary } from './lib/sluice_process.mjs';
import { baseJob, expect, expectCompleteOutput, expectNull, expectSummary, runJob } from './lib/job_runs.mjs';

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
  const written = summaries.map((s) => s.shards_written);
  expect(JSON.stringify(written) === JSON.stringify([2, 2, 1]), `shards written per worker: ${written} (want 2, 2, 1)`);
  expect(summaries.some((s) => s.job_complete), 'no worker found the job complete');
  expectCompleteOutput(out, 'parquet', 5);
  const got = await readOutput(ctx.db, out, 'parquet');
  expectNull(checkOutput(got, labels, { k: 5 }));
  expectNull(sameTopK(got, want, { what: 'three workers and a single run' }));
  const line = results[0].stderr.split('\n').find((l) => l.startsWith('worker 0 of 3'));
  expect(line, () => `worker 0's summary should name it: ${results[0].stderr}`);

  // A rerun of one worker finds its shards published and the job complete.
  const again = await runJob(ctx, dir, 'again', baseJob(ctx, data.glob, out, {}), { extra: ['--worker', '1/3'] });
  expectSummary(again.summary, { shards_written: 0, shards_resumed: 2, job_complete: true });

  // Refused: an index outside the count, and --overwrite with several workers.
  const bad = await runJob(ctx, dir, 'bad_index', baseJob(ctx, data.glob, out, {}), { ok: false, extra: ['--worker', '3/3'] });
  expect(bad.r.code === 2 && /worker index 3 is outside 0\.\.2/.test(bad.r.stderr), () => describeRun(bad.args, bad.r));
  const over = await runJob(ctx, dir, 'overwrite', baseJob(ctx, data.glob, out, {}), { ok: false, extra: ['--worker', '0/3', '--overwrite'] });
  expect(over.r.code === 2 && /--overwrite with 3 workers/.test(over.r.stderr), () => describeRun(over.args, over.r));
}
