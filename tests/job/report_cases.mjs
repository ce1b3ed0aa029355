// HTML run reports (`sluice run --report`, `sluice report OUTPUT_URI`), opened in Debian's
// Chromium: the page loads with no console errors and no network requests, and every chart
// draws the run's real data (its points compared with the run's --summary-json). Reports of a
// run with bad rows, a resumed run and a run stopped by an error render too; an unwritable
// report path is refused before any work; GPU samples come through a stand-in NVML library.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, runSluice, writeJob } from './lib/sluice_process.mjs';
import { baseJob, expect, runJob } from './lib/job_runs.mjs';
import { openReport } from './lib/report_page.mjs';
import { sleepJob, sleepModel, startWorkers } from './worker_cases.mjs';

const near = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
const samePoints = (a, b) => a.length === b.length && a.every((p, i) => near(p[0], b[i][0]) && near(p[1], b[i][1]));

/// Opens `html` and checks what every report must: it drew, with no errors and no network.
async function openChecked(html, screenshot) {
  expect(existsSync(html), `${html} was not written`);
  const page = await openReport(html, { screenshot });
  expect(page.errors.length === 0, () => `${html}: ${page.errors.join('; ')}`);
  expect(page.requests.length === 0, () => `${html} made network requests: ${page.requests.join(', ')}`);
  for (const [id, series] of Object.entries(page.drawn)) {
    for (const s of series) {
      expect(s.points >= 1 && s.commands === s.points, () => `chart ${id}, series ${s.series}: ${s.commands} path commands for ${s.points} points`);
    }
  }
  return page;
}

function series(page, chart, name) {
  const c = page.charts[chart];
  expect(c, () => `no chart '${chart}' (charts: ${Object.keys(page.charts)})`);
  const s = c.series.find((x) => x.name === name);
  expect(s, () => `chart '${chart}' has no series '${name}' (${c.series.map((x) => x.name)})`);
  return s.points;
}

/// Every chart of a run report against the run's --summary-json.
function expectRunCharts(page, summary) {
  const stats = summary.stats;
  const col = (name) => stats.timeline_columns.indexOf(name);
  const want = ['rows_per_s', 'workers', 'queues', 'memory', 'shares_preprocess', 'shares_model'];
  for (const id of want) {
    expect(page.drawn[id]?.length > 0 && page.drawn[id].every((s) => s.points >= 2), () => `chart ${id} drew ${JSON.stringify(page.drawn[id])}`);
  }
  for (const s of stats.stages) {
    const conc = s.timeline.map((p) => [p[col('t_s')], p[col('concurrency')]]);
    if (s.kind !== 'rebatch') expect(samePoints(series(page, 'workers', s.name), conc), `workers of ${s.name} differ from the summary's timeline`);
    const queue = s.timeline.map((p) => [p[col('t_s')], p[col('queue_batches')]]);
    if (s.kind !== 'source') expect(samePoints(series(page, 'queues', s.name), queue), `queue of ${s.name} differs from the summary's timeline`);
  }
  // Rows per second of every stage: the rows it finished over the chart's trailing window,
  // recomputed from the summary's timeline.
  const W = page.charts.rows_per_s.window_s;
  expect(W >= 2, `rows_per_s window ${W}`);
  for (const s of stats.stages.filter((x) => x.kind !== 'rebatch')) {
    const tl = s.timeline, want = [];
    let j = 0;
    for (let i = 1; i < tl.length; i++) {
      while (j + 1 < i && tl[j + 1][0] <= tl[i][0] - W) j++;
      if (tl[i][0] > tl[j][0]) want.push([tl[i][0], (tl[i][col('rows_done')] - tl[j][col('rows_done')]) / (tl[i][0] - tl[j][0])]);
    }
    expect(samePoints(series(page, 'rows_per_s', s.name), want), `rows/s of ${s.name} differ from the summary's timeline`);
  }
  const inFlight = stats.plan_timeline.map((p) => [p[0], p[1]]);
  expect(samePoints(series(page, 'memory', 'in flight'), inFlight), 'bytes in flight differ from the summary\'s plan timeline');
  expect(page.text.includes(summary.verdict), () => `the verdict '${summary.verdict}' is not on the page`);
}

async function sleepRun(ctx, dir, name, { perBatch = '150ms', env, extra = [] } = {}) {
  const data = await ctx.data.jpeg();
  const html = join(dir, `${name}.html`);
  const run = await runJob(ctx, dir, name, sleepJob(ctx, data, join(dir, name), sleepModel(dir, perBatch)),
    { extra: ['--report', html, ...extra], env });
  expect(run.r.stderr.trimEnd().endsWith(`report: ${html}`), () => `the run should end by naming its report: ${describeRun(run.args, run.r)}`);
  return { ...run, html };
}

export async function reportRun(ctx, dir) {
  const { summary, html } = await sleepRun(ctx, dir, 'run');
  const shot = join(dir, 'run-report.png');
  const page = await openChecked(html, shot);
  expectRunCharts(page, summary);
  expect(page.text.includes('230') && page.text.includes('the job is complete'), 'rows written and completion are not on the page');
  if (process.env.SLUICE_REPORT_SCREENSHOT) copyFileSync(shot, process.env.SLUICE_REPORT_SCREENSHOT);  // for the docs
  ctx.note(`${Object.keys(page.charts).length} charts; screenshot ${shot}`);
}

export async function reportBadRows(ctx, dir) {
  const data = await ctx.data.badRows();
  const html = join(dir, 'bad.html');
  const { summary } = await runJob(ctx, dir, 'bad', baseJob(ctx, data.glob, join(dir, 'bad'), { input: { shard_rows: 25 }, errors: { max_bad_rows: 10 } }),
    { extra: ['--report', html] });
  expect(summary.bad_rows === 6, `bad rows ${summary.bad_rows}, want 6`);
  const page = await openChecked(html);
  expect(page.text.includes('6 bad rows'), 'the page does not count 6 bad rows');
  for (const id of data.bad.keys()) expect(page.text.includes(id), `bad row ${id} is not listed on the page`);
}

export async function reportResumed(ctx, dir) {
  const first = await sleepRun(ctx, dir, 'resumed', { perBatch: '0ms' });
  expect(first.summary.shards_total === 10, `shards ${first.summary.shards_total}, want 10`);
  rmSync(join(dir, 'resumed', 'part-00001.parquet'));  // as if the run had been killed before publishing it
  const again = await sleepRun(ctx, dir, 'resumed', { perBatch: '0ms' });
  expect(again.summary.shards_resumed === 9 && again.summary.shards_written === 1, () => `rerun: ${JSON.stringify(again.summary)}`);
  const page = await openChecked(again.html);
  expect(page.text.includes('1 written by this run') && page.text.includes('9 already published before it (resumed)'),
    'the page does not say 1 shard written and 9 resumed');
}

export async function reportError(ctx, dir) {
  const data = await ctx.data.badRows();
  const html = join(dir, 'stopped.html');
  const job = baseJob(ctx, data.glob, join(dir, 'stopped'), { input: { shard_rows: 25 }, errors: { max_bad_rows: 2 } });
  const { r, args } = await runJob(ctx, dir, 'stopped', job, { extra: ['--report', html], ok: false });
  expect(r.code !== 0 && /too many bad rows/.test(r.stderr) && r.stderr.includes(`report: ${html}`), () => describeRun(args, r));
  const page = await openChecked(html);
  expect(page.text.includes('Stopped:') && page.text.includes('too many bad rows'), 'the page does not say why the run stopped');
}

export async function reportBadPath(ctx, dir) {
  const data = await ctx.data.jpeg();
  const out = join(dir, 'out');
  const file = writeJob(join(dir, 'job.yaml'), sleepJob(ctx, data, out, sleepModel(dir, '0ms')));
  mkdirSync(join(dir, 'a-directory'), { recursive: true });
  for (const [report, why] of [[join(dir, 'missing', 'r.html'), 'does not exist'], [join(dir, 'a-directory'), 'is a directory']]) {
    const args = ['run', file, '--progress', 'none', '--report', report];
    const r = await runSluice(ctx.bin, args);
    expect(r.code === 2 && r.stderr.includes(report) && r.stderr.includes(why), () => describeRun(args, r));
    expect(!existsSync(join(out, '_job.json')), 'the job started although its report could not be written');
  }
  const args = ['report', out, '--out', join(dir, 'missing', 'job.html')];
  const r = await runSluice(ctx.bin, args);
  expect(r.code === 2 && r.stderr.includes('does not exist'), () => describeRun(args, r));
}

export async function reportJob(ctx, dir) {
  const data = await ctx.data.jpeg();
  const out = join(dir, 'out');
  const file = writeJob(join(dir, 'job.yaml'), sleepJob(ctx, data, out, sleepModel(dir, '100ms')));
  const ws = startWorkers(ctx, dir, file, 2);
  const results = await Promise.all(ws.map((w) => w.done));
  results.forEach((r, i) => expect(r.code === 0, () => describeRun(ws[i].args, r)));
  const status = await runSluice(ctx.bin, ['status', out, '--json']);
  expect(status.code === 0, () => describeRun(['status', out, '--json'], status));
  const workers = JSON.parse(status.stdout).workers;
  const html = join(dir, 'job.html');
  const args = ['report', out, '--out', html];
  const r = await runSluice(ctx.bin, args);
  expect(r.code === 0 && r.stdout.includes(`report: ${html}`), () => describeRun(args, r));
  const page = await openChecked(html, join(dir, 'job-report.png'));
  const drawn = page.charts.worker_rows.series;
  expect(drawn.length === 2, `worker_rows has ${drawn.length} series, want 2`);
  for (const w of workers) {
    const pts = drawn.find((s) => s.name.startsWith(`worker ${w.rank}`)).points;
    expect(pts.length >= 2 && pts[pts.length - 1][1] === w.rows_done, () => `worker ${w.rank}: chart ends at ${JSON.stringify(pts.at(-1))}, report says ${w.rows_done} rows`);
  }
  expect(workers.reduce((a, w) => a + w.rows_done, 0) === 230, 'the workers published 230 rows together');
  expect(page.text.includes('Complete') && page.text.includes('10 / 10'), 'the page does not say the job is complete with 10 of 10 shards');
}

export async function reportGpu(ctx, dir) {
  expect(ctx.nvml, 'report_gpu needs --nvml (the stand-in NVML library)');
  const { summary, html } = await sleepRun(ctx, dir, 'gpu', { env: { ...process.env, SLUICE_NVML_LIBRARY: ctx.nvml } });
  const gpus = summary.stats.gpus;
  expect(gpus.length === 1 && gpus[0].name === 'Fake NVML GPU' && gpus[0].memory_total_bytes === 16 * 2 ** 30,
    () => `gpus in the summary: ${JSON.stringify(gpus).slice(0, 500)}`);
  const tl = gpus[0].timeline;
  expect(tl.length >= 3 && tl.every((p) => p[1] >= 0.1 && p[1] <= 0.9), () => `GPU samples: ${JSON.stringify(tl)}`);
  const page = await openChecked(html);
  expect(samePoints(series(page, 'gpu_utilization', 'GPU 0 Fake NVML GPU'), tl.map((p) => [p[0], p[1]])), 'GPU utilization differs from the summary');
  expect(samePoints(series(page, 'gpu_memory', 'GPU 0'), tl.map((p) => [p[0], p[2]])), 'GPU memory differs from the summary');
  // Without NVML (a library that is not there): no GPU section, not an error.
  const none = await sleepRun(ctx, dir, 'nogpu', { perBatch: '0ms', env: { ...process.env, SLUICE_NVML_LIBRARY: join(dir, 'no-such-nvml.so') } });
  expect(none.summary.stats.gpus.length === 0, 'GPUs reported without NVML');
  const plain = await openChecked(none.html);
  expect(!('gpu_utilization' in plain.charts), 'a GPU chart without NVML');
}
