// Running a job inside a test case and asserting on what it did: the base job file, a run
// that fails the case on a bad exit, and checks on the summary and the output directory.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hiddenFiles } from './predictions.mjs';
import { describeRun, readSummary, runSluice, writeJob } from './sluice_process.mjs';

/// Throws (failing the case) with `why` unless `cond`.
export function expect(cond, why) {
  if (!cond) throw new Error(typeof why === 'function' ? why() : why);
}
export const expectNull = (problem) => expect(problem === null, () => problem);

/// The tests' base job: the tiny model (10 classes, any input size) on 32x32 crops, in float32
/// (the cases compare with PyTorch's float32 numbers and across runs; auto has its own case).
export function baseJob(ctx, input, out, more = {}) {
  const job = {
    input: { uri: input, shard_rows: 50 },
    preprocess: { resize: 32, crop: 32 },
    model: { uri: ctx.tiny, batch_size: 16, dtype: 'float32' },
    output: { uri: out, top_k: 5, include: ['label'] },
  };
  for (const [section, entries] of Object.entries(more)) job[section] = { ...(job[section] ?? {}), ...entries };
  return job;
}

/// Writes the job into the case dir and runs it; returns { r, summary, args }.
export async function runJob(ctx, dir, name, job, { extra = [], env, ok = true, timeoutMs } = {}) {
  const file = writeJob(join(dir, `${name}.yaml`), job);
  const summaryPath = join(dir, `${name}.summary.json`);
  rmSync(summaryPath, { force: true });
  const args = ['run', file, '--progress', 'none', '--summary-json', summaryPath, ...extra];
  const r = await runSluice(ctx.bin, args, { env, timeoutMs });
  if (ok) expect(r.code === 0, () => describeRun(args, r));
  const summary = r.code === 0 && existsSync(summaryPath) ? readSummary(summaryPath) : null;
  if (ok) expect(summary, `sluice ${args.join(' ')} exited 0 without writing ${summaryPath}`);
  return { r, summary, args };
}

export function expectSummary(summary, want) {
  const got = Object.fromEntries(Object.keys(want).map((k) => [k, summary[k]]));
  expect(JSON.stringify(got) === JSON.stringify(want), () => `summary ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

/// _SUCCESS, _job.json and a _manifest.json whose parts are exactly the part files.
export function expectCompleteOutput(dir, format, shards) {
  expect(existsSync(join(dir, '_SUCCESS')), `${dir}/_SUCCESS is missing`);
  expect(existsSync(join(dir, '_job.json')), `${dir}/_job.json is missing`);
  const manifest = JSON.parse(readFileSync(join(dir, '_manifest.json'), 'utf8'));
  const parts = readdirSync(dir).filter((n) => n.startsWith('part-')).sort();
  const want = Array.from({ length: shards }, (_, i) => `part-${String(i).padStart(5, '0')}.${format}`);
  expect(JSON.stringify(parts) === JSON.stringify(want), () => `part files ${parts}, want ${want}`);
  expect(JSON.stringify(manifest.parts) === JSON.stringify(want), () => `_manifest.json parts ${manifest.parts}, want ${want}`);
  expect(manifest.shards === shards, () => `_manifest.json shards ${manifest.shards}, want ${shards}`);
  const hidden = hiddenFiles(dir);
  expect(hidden.length === 0, () => `temporary files left in ${dir}: ${hidden.join(', ')}`);
}

export function rowsPerPart(out) {
  const n = {};
  for (const r of out.rows) n[r.part] = (n[r.part] ?? 0) + 1;
  return Object.keys(n).sort().map((p) => n[p]);
}
