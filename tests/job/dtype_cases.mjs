// model.dtype auto (the default) on the CPU: the job says what it chose and why, and every row
// it wrote is what float32 or bfloat16 computes for that row, float32 for the trial's rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutput, inputLabels, readOutput, sameTopK } from './lib/predictions.mjs';
import { baseJob, expect, expectNull, expectSummary, runJob } from './lib/job_runs.mjs';

/// Whether /proc/cpuinfo lists bfloat16 instructions (what auto looks for, through CPUID).
function cpuHasBFloat16() {
  try {
    return /\b(avx512_bf16|amx_bf16)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/// Whether row `r` has `ref`'s top-k (same ids, scores within `tol`).
const sameRow = (r, ref, tol) => ref && JSON.stringify(r.ids) === JSON.stringify(ref.ids) &&
  r.scores.every((s, i) => Math.abs(s - ref.scores[i]) <= tol);

export async function autoDtype(ctx, dir) {
  const data = await ctx.data.crash();  // 600 rows: the 512-row trial and more
  const rows = 600;
  const labels = await inputLabels(ctx.db, data.glob);
  // resnet18 (random weights, class 7 favored so that bfloat16 keeps its top-1) on 112x112
  // crops: big enough for bfloat16 to pay on such a CPU. (With plain random weights bfloat16's
  // top-1 differs on ~5 % of rows, and auto keeps float32.)
  const job = (out, dtype) => {
    const j = baseJob(ctx, data.glob, out, { input: { shard_rows: 20 }, preprocess: { resize: 128, crop: 112 },
      model: { uri: join(ctx.models, 'resnet18_one_class.pt'), batch_size: 32 } });
    if (dtype) j.model.dtype = dtype;
    else delete j.model.dtype;  // the default
    return j;
  };
  const runs = {};
  // Explicit bfloat16 is what auto's rows are compared with; a CPU without bfloat16 instructions
  // gets float32 from auto (and, without AVX-512, cannot run bfloat16 at all).
  for (const dtype of cpuHasBFloat16() ? ['float32', 'bfloat16', null] : ['float32', null]) {
    const out = join(dir, `out-${dtype ?? 'default'}`);
    const { r, summary } = await runJob(ctx, dir, dtype ?? 'default', job(out, dtype));
    expectSummary(summary, { rows_written: rows, bad_rows: 0 });
    const output = await readOutput(ctx.db, out, 'parquet');
    expectNull(checkOutput(output, labels, { k: 5, classes: 1000 }));
    runs[dtype ?? 'default'] = { summary, stderr: r.stderr, byId: new Map(output.rows.map((row) => [row.id, row])), output };
  }
  expect(runs.float32.summary.model_dtype === 'float32' && runs.float32.summary.model_dtype_why === '',
    () => `an explicit float32 says ${runs.float32.summary.model_dtype} (${runs.float32.summary.model_dtype_why})`);
  const { summary, stderr, output } = runs.default;
  const why = summary.model_dtype_why;
  ctx.note(`auto: ${summary.model_dtype} (${why})`);
  expect(stderr.includes(`model dtype: ${summary.model_dtype} (auto: `), () => `the summary on stderr does not say the dtype: ${stderr}`);
  if (!cpuHasBFloat16()) {
    expect(summary.model_dtype === 'float32' && /no bfloat16 instructions/.test(why), () => `auto on a CPU without bfloat16: ${summary.model_dtype} (${why})`);
    expectNull(sameTopK(output, runs.float32.output, { what: 'auto and float32' }));
    return;
  }
  const speed = /ran ([\d.]+)x float32 at load/.exec(why);
  expect(speed, () => `auto on a CPU with bfloat16 did not time it at load: ${why}`);
  const trial = /on (?:only )?(\d+) of the first (\d+) rows/.exec(why);
  if (summary.model_dtype === 'float32' && !trial) {  // slower in bfloat16 here: every row is float32's
    expect(Number(speed[1]) < 1.2, () => `auto kept float32 without a trial although bfloat16 ran ${speed[1]}x: ${why}`);
    expectNull(sameTopK(output, runs.float32.output, { what: 'auto and float32' }));
    return;
  }
  expect(trial, () => `no trial in: ${why}`);
  const trialRows = Number(trial[2]);  // the rows the trial saw (fewer when differences ended it early)
  if (summary.model_dtype === 'bfloat16') expect(trialRows >= 512 && trialRows < rows, () => `a trial of ${trialRows} rows`);
  // Each row is float32's or bfloat16's own result; at least the trial's rows are float32's, and
  // with bfloat16 chosen, every other row can be bfloat16's.
  let f32 = 0;
  let bf16 = 0;
  for (const row of output.rows) {
    const isF32 = sameRow(row, runs.float32.byId.get(row.id), 1e-6);
    const isBf16 = sameRow(row, runs.bfloat16.byId.get(row.id), 1e-6);
    expect(isF32 || isBf16, () => `row ${row.id} is neither float32's nor bfloat16's: ${JSON.stringify(row)} vs ` +
      `${JSON.stringify(runs.float32.byId.get(row.id))} / ${JSON.stringify(runs.bfloat16.byId.get(row.id))}`);
    f32 += isF32;
    bf16 += isBf16;
  }
  expect(f32 >= trialRows, () => `${f32} rows are float32's, fewer than the ${trialRows}-row trial`);
  if (summary.model_dtype === 'bfloat16') {
    expect(bf16 >= rows - trialRows, () => `bfloat16 chosen but only ${bf16} rows are bfloat16's`);
  } else {
    expect(f32 === rows, () => `float32 chosen but only ${f32} rows are float32's`);
  }
}
