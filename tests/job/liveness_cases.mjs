// The job tests for liveness and the memory bound: row groups larger than the budget, a model
// that never returns (the no-progress watchdog), and a seeded randomized soak.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkOutput, hiddenFiles, readErrors, readOutput, sqlString } from './lib/predictions.mjs';
import { describeRun, runOk } from './lib/sluice_process.mjs';
import { baseJob, expect, expectCompleteOutput, expectNull, expectSummary, runJob } from './lib/job_runs.mjs';
import { makeRng } from '../support/rng.mjs';

const MiB = 1048576;
const mib = (b) => `${(b / MiB).toFixed(1)} MiB`;

/// The bound the README states: while a job runs, its RSS grows by at most the memory budget
/// plus 64 MiB plus, per preprocessing thread, the decode buffers of its largest image
/// (heaptrack: 16 MiB for both threads on the generator's JPEGs; 32 MiB allowed here) over what
/// it held when the plan started (libraries, the model).
export const FIXED_OVERHEAD_MIB = 64 + 32;

/// Null, or why the run's peak RSS is over the bound.
function rssProblem(summary, budgetBytes) {
  const { peak_rss_bytes: peak, rss_at_start_bytes: start } = summary.stats;
  if (!(peak > 0 && start > 0)) return `peak_rss_bytes / rss_at_start_bytes missing from the summary: ${peak}, ${start}`;
  const limit = budgetBytes + FIXED_OVERHEAD_MIB * MiB;
  if (peak - start > limit) {
    return `RSS grew by ${mib(peak - start)} during the plan (${mib(start)} -> ${mib(peak)}), over the bound ${mib(limit)} ` +
      `(budget ${mib(budgetBytes)} + ${FIXED_OVERHEAD_MIB} MiB)`;
  }
  return null;
}

const parseBudget = (text) => Number(text.replace(/MiB$/, '')) * MiB;

/// Ids of the input in the job's shard order (files sorted by name, rows in file order).
async function idsInOrder(db, glob) {
  const rows = await db.all(`SELECT id FROM read_parquet(${sqlString(glob)}, filename = true, file_row_number = true) ` +
    'ORDER BY filename, file_row_number');
  return rows.map((r) => r.id);
}

export async function bigRowGroups(ctx, dir) {
  const data = await ctx.data.rawBigGroups();
  const ids = new Set(await idsInOrder(ctx.db, data.glob));
  expect(ids.size === 1000, `the input has ${ids.size} ids, want 1000`);
  for (const budget of ['64MiB', '32MiB']) {
    const out = join(dir, `out_${budget}`);
    const job = baseJob(ctx, data.glob, out, { input: { shard_rows: 500 }, model: { batch_size: 16 }, resources: { memory: budget } });
    const { summary } = await runJob(ctx, dir, `budget_${budget}`, job, { timeoutMs: 180_000 });
    expectSummary(summary, { rows_total: 1000, rows_written: 1000, bad_rows: 0, shards_total: 2, shards_written: 2 });
    expectCompleteOutput(out, 'parquet', 2);
    expectNull(checkOutput(await readOutput(ctx.db, out, 'parquet'), ids, { k: 5 }));
    expectNull(rssProblem(summary, parseBudget(budget)));
    const st = summary.stats;
    ctx.note(`budget ${budget}: 2 row groups of 94 MiB; peak in flight ${mib(st.peak_in_flight_bytes)}, RSS ${mib(st.rss_at_start_bytes)} ` +
      `at the start -> peak ${mib(st.peak_rss_bytes)} (+${mib(st.peak_rss_bytes - st.rss_at_start_bytes)}); ${summary.wall_s.toFixed(1)} s`);
  }
}

export async function watchdog(ctx, dir) {
  const data = await ctx.data.jpeg();
  const out = join(dir, 'out');
  // 58 rows in shards of 25, 25 and 8 (row groups of 25), batches of 25 in order (one CPU: one
  // reader, one preprocess worker): the last batch is shard 2's 8 rows, on which stalls.pt
  // spins forever. Shards 0 and 1 are complete before it and get published; shard 2 must not.
  const job = baseJob(ctx, data.glob, out, {
    input: { shard_rows: 25, limit: 58 }, model: { uri: ctx.stalls, batch_size: 25 },
    resources: { stall_timeout: '2s', cpus: 1 },
  });
  const t0 = Date.now();
  const stalled = await runJob(ctx, dir, 'stalled', job, { ok: false, timeoutMs: 90_000 });
  const seconds = (Date.now() - t0) / 1000;
  expect(!stalled.r.timedOut && stalled.r.code === 1, () => `the stalled run should fail with exit 1: ${describeRun(stalled.args, stalled.r)}`);
  const err = stalled.r.stderr;
  for (const want of ['Stalled', 'no stage moved a batch for', "stage 'model' (actor)", 'budget']) {
    expect(err.includes(want), () => `the watchdog's message should contain "${want}": ${err}`);
  }
  expect(seconds < 40, `the stalled run took ${seconds.toFixed(1)} s (stall_timeout 2s)`);
  expect(!existsSync(join(out, '_SUCCESS')), 'a stalled run wrote _SUCCESS');
  const parts = readdirSync(out).filter((n) => n.startsWith('part-')).sort();
  expect(JSON.stringify(parts) === JSON.stringify(['part-00000.parquet', 'part-00001.parquet']),
    `published after the stall: ${parts}; want the two complete shards`);
  const temps = hiddenFiles(out);
  // The rerun with batches of one row (batch size does not change the output) resumes.
  const again = await runJob(ctx, dir, 'rerun', job, { extra: ['--set', 'model.batch_size=1'], timeoutMs: 90_000 });
  expectSummary(again.summary, { rows_total: 58, rows_written: 8, shards_resumed: 2, shards_written: 1 });
  expectCompleteOutput(out, 'parquet', 3);
  const got = await readOutput(ctx.db, out, 'parquet');
  expectNull(checkOutput(got, new Set((await idsInOrder(ctx.db, data.glob)).slice(0, 58)), { k: 5 }));
  ctx.note(`stalled run failed after ${seconds.toFixed(1)} s leaving ${temps.length} temporary files; message: ` +
    `${err.trim().split('\n').pop().slice(0, 400)}`);
}

/// The soak's inputs: a dataset re-cut into row groups of `rows` by `sluice parquet copy`.
async function recut(ctx, src, rows, dir) {
  const glob = join(dir, '*.parquet');
  if (existsSync(join(dir, '.done'))) return glob;
  mkdirSync(dir, { recursive: true });
  const from = dirname(src.glob);
  for (const name of readdirSync(from).filter((n) => n.endsWith('.parquet')).sort()) {
    await runOk(ctx.bin, ['parquet', 'copy', join(from, name), join(dir, name), '--row-group-rows', String(rows)]);
  }
  writeFileSync(join(dir, '.done'), '');
  return glob;
}

export async function soak(ctx, dir) {
  const runs = Number(process.env.SLUICE_SOAK_RUNS ?? 30);
  const sources = {
    jpeg: await ctx.data.jpeg(),
    raw: await ctx.data.raw(),
    bad: await ctx.data.badRows(),
    big: await ctx.data.rawBigGroups(),
  };
  const rng = makeRng(ctx.seed);
  const pick = (list) => list[Math.floor(rng() * list.length)];
  const started = Date.now();
  for (let i = 0; i < runs; i++) {
    const config = {
      input: pick(['jpeg', 'raw', 'bad', 'big']),
      row_group_rows: pick([10, 37, 100, 500]),
      memory: pick(['32MiB', '64MiB', '256MiB', '4096MiB']),
      batch_size: pick([1, 7, 64, 512]),
      replicas: pick([1, 2]),
      shard_rows: pick([10, 50, 1000]),
      limit: rng() < 0.3 ? 1 + Math.floor(rng() * 120) : 0,
    };
    const what = `soak run ${i} (--seed ${ctx.seed}): ${JSON.stringify(config)}`;
    const src = sources[config.input];
    const glob = await recut(ctx, src, config.row_group_rows, join(ctx.data.root, `soak_${config.input}_${config.row_group_rows}`));
    const ordered = await idsInOrder(ctx.db, glob);
    const taken = config.limit > 0 ? ordered.slice(0, config.limit) : ordered;
    const bad = src.bad ? taken.filter((id) => src.bad.has(id)) : [];
    const good = new Set(taken.filter((id) => !bad.includes(id)));
    const out = join(dir, `out_${i}`);
    const job = baseJob(ctx, glob, out, {
      input: { shard_rows: config.shard_rows, limit: config.limit },
      model: { batch_size: config.batch_size, replicas: config.replicas },
      resources: { memory: config.memory, stall_timeout: '60s' },
      errors: { max_bad_rows: 10 },
    });
    // A bound from the data size: start-up plus a generous time per row on one slow core.
    const timeoutMs = 60_000 + taken.length * 100;
    const t0 = Date.now();
    const r = await runJob(ctx, dir, `soak_${i}`, job, { ok: false, timeoutMs });
    expect(!r.r.timedOut, () => `${what}: still running after ${timeoutMs} ms (a hang): ${describeRun(r.args, r.r)}`);
    expect(r.r.code === 0, () => `${what}: ${describeRun(r.args, r.r)}`);
    expectSummary(r.summary, { rows_total: taken.length, rows_written: good.size, bad_rows: bad.length });
    expectNull(checkOutput(await readOutput(ctx.db, out, 'parquet'), good, { k: 5 }));
    const errors = readErrors(out).map((e) => e.id).sort();
    expect(JSON.stringify(errors) === JSON.stringify([...bad].sort()), `${what}: _errors lists ${errors}, want ${bad}`);
    const problem = rssProblem(r.summary, parseBudget(config.memory));
    expect(problem === null, () => `${what}: ${problem}`);
    const st = r.summary.stats;
    ctx.note(`run ${i}: ${JSON.stringify(config)}: ${taken.length} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
      `RSS +${mib(st.peak_rss_bytes - st.rss_at_start_bytes)}, peak in flight ${mib(st.peak_in_flight_bytes)}`);
  }
  ctx.note(`${runs} configurations in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
