// The job tests that push on a run from outside: SIGKILL at random points then resume
// (exactly-once output), and peak memory under resources.memory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutput, hiddenFiles, inputLabels, readErrors, readOutput, sameTopK } from './lib/predictions.mjs';
import { startSluice, writeJob } from './lib/sluice_process.mjs';
import { baseJob, expect, expectCompleteOutput, expectNull, expectSummary, runJob } from './lib/job_runs.mjs';
import { makeRng as random } from '../support/rng.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));


function byPart(out) {
  const parts = new Map();
  for (const r of out.rows) {
    if (!parts.has(r.part)) parts.set(r.part, []);
    parts.get(r.part).push(r);
  }
  return parts;
}

/// Every part a killed run left published must be the baseline's part, complete and equal.
async function checkPublishedParts(ctx, out, baseline) {
  if (!existsSync(out)) return { published: 0, temps: [] };
  const now = await readOutput(ctx.db, out, 'parquet');
  const base = byPart(baseline);
  for (const [part, rows] of byPart(now)) {
    expect(base.has(part), `${out}/${part} is published but the baseline has no such part`);
    expectNull(sameTopK({ rows }, { rows: base.get(part) }, { what: `${out}/${part} after the kill and the baseline's part` }));
  }
  const empty = now.parts.filter((p) => !now.rows.some((r) => r.part === p));
  expect(empty.length === 0, `${out}: published parts without rows: ${empty}`);
  return { published: now.parts.length, temps: hiddenFiles(out) };
}

export async function crashResume(ctx, dir) {
  const data = await ctx.data.crash();
  const labels = await inputLabels(ctx.db, data.glob);
  // The imagenet preset (resize 256, crop 224) on one CPU: a run of a few seconds, 30 shards.
  const job = baseJob(ctx, data.glob, join(dir, 'baseline'), { input: { shard_rows: 20 }, resources: { cpus: 1 } });
  job.preprocess = { preset: 'imagenet' };
  const base = await runJob(ctx, dir, 'baseline', job);
  expectSummary(base.summary, { rows_total: 600, rows_written: 600, shards_total: 30, shards_written: 30 });
  const baseline = await readOutput(ctx.db, join(dir, 'baseline'), 'parquet');
  expectNull(checkOutput(baseline, labels, { k: 5 }));
  const T = base.r.ms;
  const rng = random(ctx.seed);
  const rounds = 8;
  let resumedRounds = 0;
  let killsInWrite = 0;
  for (let round = 0; round < rounds; round++) {
    const out = join(dir, `round${round}`);
    job.output.uri = out;
    const file = writeJob(join(dir, `round${round}.yaml`), job);
    // The first kills spread from startup to the last parts (the last ~30% of a run's time is
    // model loading and exit); every other round also kills the resumed run.
    const delays = [T * (0.02 + 0.8 * (round + rng()) / rounds)];
    if (round % 2 === 1) delays.push(T * (0.1 + 0.5 * rng()));
    const events = [];
    for (const delay of delays) {
      const p = startSluice(ctx.bin, ['run', file, '--progress', 'none'], { timeoutMs: 120_000 });
      const finished = await Promise.race([p.done, sleep(delay).then(() => null)]);
      if (finished) {
        expect(finished.code === 0, `round ${round}: run ended before the kill with exit ${finished.code}: ${finished.stderr}`);
        events.push(`finished before ${delay.toFixed(0)} ms`);
        continue;
      }
      p.child.kill('SIGKILL');
      const r = await p.done;
      if (r.signal !== 'SIGKILL') {
        expect(r.code === 0, `round ${round}: run exited ${r.code} around the kill: ${r.stderr}`);
      }
      const state = await checkPublishedParts(ctx, out, baseline);
      if (state.temps.length) killsInWrite++;
      events.push(`killed at ${delay.toFixed(0)} ms: ${state.published} parts published, ${state.temps.length} temp files`);
    }
    const final = await runJob(ctx, dir, `round${round}_final`, job);
    const s = final.summary;
    expect(s.shards_resumed + s.shards_written === 30 && s.rows_total === 600,
      `round ${round}: final rerun summary ${JSON.stringify({ ...s, stats: undefined })}`);
    if (s.shards_resumed > 0) resumedRounds++;
    expectCompleteOutput(out, 'parquet', 30);
    const got = await readOutput(ctx.db, out, 'parquet');
    expectNull(checkOutput(got, labels, { k: 5 }));
    expectNull(sameTopK(got, baseline, { what: `round ${round}'s output and the uninterrupted run's` }));
    const errors = readErrors(out);
    expect(errors.length === 0, `round ${round}: bad rows recorded: ${JSON.stringify(errors.slice(0, 3))}`);
    ctx.note(`round ${round}: ${events.join('; ')}; rerun resumed ${s.shards_resumed}, wrote ${s.shards_written}`);
  }
  ctx.note(`${killsInWrite} kills left temporary part files (killed while writing); baseline ${T} ms`);
  expect(resumedRounds > 0, 'no final rerun resumed any shard: the kills never left published parts');
}

const MiB = (b) => `${(b / 1048576).toFixed(1)} MiB`;

export async function memoryBound(ctx, dir) {
  const large = await ctx.data.rawLarge();
  const small = await ctx.data.rawSmall();
  const more = { input: { shard_rows: 50 }, model: { batch_size: 16 }, resources: { memory: '64MiB' } };
  const s = await runJob(ctx, dir, 'small', baseJob(ctx, small.glob, join(dir, 'out_small'), more));
  const l = await runJob(ctx, dir, 'large', baseJob(ctx, large.glob, join(dir, 'out_large'), more));
  expectSummary(l.summary, { rows_total: 1500, rows_written: 1500, shards_total: 15 });
  expectSummary(s.summary, { rows_total: 50, rows_written: 50 });
  const got = await readOutput(ctx.db, join(dir, 'out_large'), 'parquet');
  expectNull(checkOutput(got, await inputLabels(ctx.db, large.glob), { k: 5 }));
  const pl = l.summary.peak_rss_bytes;
  const ps = s.summary.peak_rss_bytes;
  const limit = (64 + 96) * 1048576;
  ctx.note(`peak RSS: ${MiB(pl)} for 1500 rows (${pl} B), ${MiB(ps)} for 50 rows (${ps} B); difference ${MiB(pl - ps)}, ` +
    `limit ${MiB(limit)} (64 MiB budget + 96 MiB slack); executor peak in flight ${MiB(l.summary.stats.peak_in_flight_bytes)}`);
  expect(Number.isFinite(pl) && Number.isFinite(ps) && pl > 0 && ps > 0, `peak_rss_bytes missing: ${pl}, ${ps}`);
  expect(pl - ps < limit, `peak RSS grows by ${MiB(pl - ps)} from 50 to 1500 rows under resources.memory 64MiB ` +
    `(limit ${MiB(limit)}): ${MiB(ps)} -> ${MiB(pl)}`);
}
