#!/usr/bin/env node
// run_job_tests.mjs --sluice BIN --models DIR --photos DIR --work DIR [--only NAME[,NAME]] [--seed N] [--keep] [--nvml LIB]
//
// ctest entry point for `sluice run` end to end: real datasets (sluice datagen, real photos,
// DuckDB-written files), the tiny TorchScript model of tests/infer/make_models.py, outputs read
// back by DuckDB, PyTorch as the numeric oracle for one case, s3rver for S3, and SIGKILLed runs
// for exactly-once resume. Prints "ok NAME" / "FAIL NAME: why" per case, then
// "N passed, M failed"; exits 1 if any failed. Each run works in a new WORK/run-XXXXXX, removed
// when all cases pass (unless --keep) and kept for inspection otherwise until the next run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Datasets } from './lib/datasets.mjs';
import {
  DuckDB, checkOutput, inputLabels, readErrors, readOutput, sameTopK, sqlString,
} from './lib/predictions.mjs';
import { describeRun } from './lib/sluice_process.mjs';
import {
  baseJob, expect, expectCompleteOutput, expectNull, expectSummary, rowsPerPart, runJob,
} from './lib/job_runs.mjs';
import { getObject, listKeys, putObject, startS3rver } from './lib/s3_peer.mjs';
import { crashResume, memoryBound } from './stress_cases.mjs';
import { bigRowGroups, soak, watchdog } from './liveness_cases.mjs';
import { includeTypes, rayLayoutOutput, rayTensors } from './ray_cases.mjs';
import { workersLocal, workersStraggler, workersKilled, workersSigterm, workersRefused } from './worker_cases.mjs';
import { workersMpirun, workersSlurm, workersS3 } from './launcher_cases.mjs';
import { cellEqual, cellBadRows, cellFlowControl, cellRefused, cellFeederKilled, cellSlurm } from './cell_cases.mjs';
import { prometheusMetrics } from './metrics_cases.mjs';
import { autoDtype } from './dtype_cases.mjs';
import {
  reportRun, reportBadRows, reportResumed, reportError, reportBadPath, reportJob, reportGpu,
} from './report_cases.mjs';

function parseArgs(argv) {
  const o = { only: null, seed: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--sluice') o.sluice = value();
    else if (a === '--models') o.models = value();
    else if (a === '--photos') o.photos = value();
    else if (a === '--work') o.work = value();
    else if (a === '--only') o.only = value().split(',');
    else if (a === '--seed') o.seed = Number(value());
    else if (a === '--keep') o.keep = true;
    else if (a === '--nvml') o.nvml = value();
    else usage(`unknown argument ${a}`);
  }
  if (!o.sluice || !o.models || !o.photos || !o.work) usage('--sluice, --models, --photos and --work are required');
  return o;
}

function usage(msg) {
  process.stderr.write(`run_job_tests: ${msg}\nusage: node run_job_tests.mjs --sluice BIN --models DIR --photos DIR --work DIR ` +
    '[--only NAME[,NAME]] [--seed N] [--keep] [--nvml LIB]\n');
  process.exit(2);
}

// --- cases --------------------------------------------------------------------------------

async function jpegParquet(ctx, dir) {
  const data = await ctx.data.jpeg();
  const labels = await inputLabels(ctx.db, data.glob);
  expect(labels.size === 230, `DuckDB reads ${labels.size} input rows, want 230`);
  const out = join(dir, 'out');
  const { summary } = await runJob(ctx, dir, 'parquet', baseJob(ctx, data.glob, out));
  expectSummary(summary, { rows_total: 230, rows_written: 230, bad_rows: 0, shards_total: 5, shards_resumed: 0, shards_written: 5 });
  expectCompleteOutput(out, 'parquet', 5);
  const pq = await readOutput(ctx.db, out, 'parquet');
  expectNull(checkOutput(pq, labels, { k: 5 }));
  const sizes = rowsPerPart(pq);
  expect(JSON.stringify(sizes) === '[50,50,50,50,30]', `rows per part ${sizes}, want 50,50,50,50,30 (whole row groups of 25)`);

  const outJ = join(dir, 'out_jsonl');
  const { summary: sj } = await runJob(ctx, dir, 'jsonl', baseJob(ctx, data.glob, outJ, { output: { format: 'jsonl' } }));
  expectSummary(sj, { rows_written: 230, shards_written: 5 });
  expectCompleteOutput(outJ, 'jsonl', 5);
  const js = await readOutput(ctx.db, outJ, 'jsonl');
  expectNull(checkOutput(js, labels, { k: 5 }));
  expectNull(sameTopK(js, pq, { what: 'jsonl and parquet outputs' }));
}

async function rawParquet(ctx, dir) {
  const data = await ctx.data.raw();
  const labels = await inputLabels(ctx.db, data.glob);
  expect(labels.size === 150, `DuckDB reads ${labels.size} input rows, want 150`);
  const out = join(dir, 'out');
  const { summary } = await runJob(ctx, dir, 'raw', baseJob(ctx, data.glob, out, { input: { shard_rows: 30 } }));
  expectSummary(summary, { rows_total: 150, rows_written: 150, bad_rows: 0, shards_total: 5, shards_written: 5 });
  expectCompleteOutput(out, 'parquet', 5);
  const pq = await readOutput(ctx.db, out, 'parquet');
  expectNull(checkOutput(pq, labels, { k: 5 }));
  const outJ = join(dir, 'out_jsonl');
  await runJob(ctx, dir, 'raw_jsonl', baseJob(ctx, data.glob, outJ, { input: { shard_rows: 30 }, output: { format: 'jsonl' } }));
  const js = await readOutput(ctx.db, outJ, 'jsonl');
  expectNull(checkOutput(js, labels, { k: 5 }));
  expectNull(sameTopK(js, pq, { what: 'jsonl and parquet outputs' }));
}

// model.normalize: device sends uint8 crops and normalizes on the model's device (here the
// CPU, through the same torch code a GPU runs): the same predictions as host normalization.
async function deviceNormalize(ctx, dir) {
  for (const [kind, data] of [['jpeg', await ctx.data.jpeg()], ['raw', await ctx.data.raw()]]) {
    const host = join(dir, `${kind}_host`), device = join(dir, `${kind}_device`);
    await runJob(ctx, dir, `${kind}_host`, baseJob(ctx, data.glob, host, { model: { normalize: 'host' } }));
    await runJob(ctx, dir, `${kind}_device`, baseJob(ctx, data.glob, device, { model: { normalize: 'device' } }));
    const a = await readOutput(ctx.db, host, 'parquet'), b = await readOutput(ctx.db, device, 'parquet');
    expect(a.rows.length > 0 && a.rows.length === b.rows.length, `${kind}: ${a.rows.length} vs ${b.rows.length} rows`);
    expectNull(sameTopK(b, a, { tol: 1e-5, what: `${kind}: device- and host-normalized outputs` }));
  }
}

// torchvision's PIL path (what sluice's preprocessing matches bit for bit) and the same model.
const TORCH_ORACLE = `
import json, sys, torch
from PIL import Image
from torchvision import transforms as T
model = torch.jit.load(sys.argv[1]).eval()
tf = T.Compose([T.Resize(32), T.CenterCrop(32), T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
paths = json.load(sys.stdin)
x = torch.stack([tf(Image.open(p).convert("RGB")) for p in paths])
with torch.no_grad():
    s, i = torch.softmax(model(x), 1).topk(5, 1)
print(json.dumps([{"id": p, "ids": i[k].tolist(), "scores": s[k].tolist()} for k, p in enumerate(paths)]))
`;

async function imageFolder(ctx, dir) {
  const data = await ctx.data.imageFolder();
  const out = join(dir, 'out');
  const job = baseJob(ctx, data.dir, out, { input: { format: 'images', shard_rows: 4 }, model: { batch_size: 3 } });
  job.output.include = [];
  const { summary } = await runJob(ctx, dir, 'images', job);
  const n = data.images.length;
  const shards = Math.ceil(n / 4);
  expectSummary(summary, { rows_total: n, rows_written: n, bad_rows: 0, shards_total: shards, shards_written: shards });
  expectCompleteOutput(out, 'parquet', shards);
  const got = await readOutput(ctx.db, out, 'parquet');
  expectNull(checkOutput(got, new Set(data.images), { k: 5 }));
  const byId = new Map(got.rows.map((r) => [r.id, r]));
  for (const [png, jpg] of Object.entries(data.pngOf)) {  // PIL's PNG of the decoded JPEG: same pixels
    expectNull(sameTopK({ rows: [{ ...byId.get(png), id: 'x' }] }, { rows: [{ ...byId.get(jpg), id: 'x' }] },
      { tol: 0, what: `${png} (PNG of ${jpg}) and the JPEG` }));
  }
  const py = spawnSync('/usr/bin/python3', ['-c', TORCH_ORACLE, ctx.tiny], { input: JSON.stringify(data.images), encoding: 'utf8' });
  expect(py.status === 0, () => `PyTorch oracle failed: ${py.stderr}`);
  expectNull(sameTopK(got, { rows: JSON.parse(py.stdout) }, { tol: 1e-5, what: 'sluice and PyTorch (torchvision PIL path)' }));
}

/// Names, sizes and content hashes of every file under dir.
function snapshot(dir) {
  const h = {};
  const walk = (rel) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else h[p] = `${statSync(join(dir, p)).mtimeMs} ${createHash('sha256').update(readFileSync(join(dir, p))).digest('hex')}`;
    }
  };
  walk('');
  return h;
}

async function overwriteAndChangedJob(ctx, dir) {
  const data = await ctx.data.jpeg();
  const labels = await inputLabels(ctx.db, data.glob);
  const out = join(dir, 'out');
  const job = baseJob(ctx, data.glob, out);
  await runJob(ctx, dir, 'first', job);
  const again = await runJob(ctx, dir, 'again', job);
  expectSummary(again.summary, { rows_total: 230, shards_total: 5, shards_resumed: 5, shards_written: 0, rows_written: 0 });
  const other = await runJob(ctx, dir, 'resources', job, { extra: ['--set', 'model.batch_size=7', '--set', 'resources.cpus=1'] });
  expect(other.summary.shards_resumed === 5, 'changing only model.batch_size and resources.cpus should resume every shard ' +
    `(they do not change the output); shards_resumed ${other.summary.shards_resumed}`);

  const before = snapshot(out);
  const refused = await runJob(ctx, dir, 'changed', job, { extra: ['--set', 'output.top_k=3'], ok: false });
  expect(refused.r.code === 2, () => `a changed output.top_k should be refused with exit 2: ${describeRun(refused.args, refused.r)}`);
  expect(/--overwrite/.test(refused.r.stderr), () => `the refusal should mention --overwrite: ${refused.r.stderr}`);
  expect(/top_k/.test(refused.r.stderr), () => `the refusal should name the changed key (top_k): ${refused.r.stderr}`);
  const after = snapshot(out);
  expect(JSON.stringify(after) === JSON.stringify(before), () => 'the refused run changed the output: ' +
    `before ${Object.keys(before).sort()}, after ${Object.keys(after).sort()}`);

  const over = await runJob(ctx, dir, 'overwrite', job, { extra: ['--set', 'output.top_k=3', '--overwrite'] });
  expectSummary(over.summary, { shards_resumed: 0, shards_written: 5, rows_written: 230 });
  expectCompleteOutput(out, 'parquet', 5);
  expectNull(checkOutput(await readOutput(ctx.db, out, 'parquet'), labels, { k: 3 }));
  const record = readFileSync(join(out, '_job.json'), 'utf8');
  expect(/output\.top_k=3/.test(record), `_job.json after --overwrite does not record top_k 3: ${record}`);
}

async function badRows(ctx, dir) {
  const data = await ctx.data.badRows();
  const out = join(dir, 'out');
  const job = baseJob(ctx, data.glob, out, { input: { shard_rows: 25 }, errors: { max_bad_rows: 10 } });
  const { summary } = await runJob(ctx, dir, 'tolerant', job);
  const errors = readErrors(out);
  const ids = errors.map((e) => e.id).sort();
  const wrong = errors.filter((e) => !data.bad.has(e.id)).map((e) => `${e.id} (a good row): "${e.message}"`);
  const missed = [...data.bad.keys()].filter((id) => !ids.includes(id)).map((id) => `${id} (${data.bad.get(id)})`);
  expect(wrong.length === 0 && missed.length === 0 && ids.length === data.bad.size,
    () => `_errors lists ${ids.length} rows, want the ${data.bad.size} bad ones; wrongly bad: ${wrong.join(', ') || 'none'}; ` +
      `not listed: ${missed.join(', ') || 'none'}`);
  for (const e of errors) {
    const what = `${e.file}: ${JSON.stringify(e)} (${data.bad.get(e.id)})`;
    expect(e.stage === 'preprocess', `${what}: stage should be preprocess`);
    expect(typeof e.message === 'string' && e.message.trim() !== '', `${what}: empty message`);
    expect(Number.isInteger(e.shard) && e.file === `part-${String(e.shard).padStart(5, '0')}.jsonl`, `${what}: shard and file disagree`);
  }
  expectSummary(summary, { rows_total: 100, rows_written: 94, bad_rows: 6, shards_total: 4, shards_written: 4 });
  expectCompleteOutput(out, 'parquet', 4);
  expectNull(checkOutput(await readOutput(ctx.db, out, 'parquet'), data.good, { k: 5 }));
  ctx.note(`bad row messages: ${errors.map((e) => `${data.bad.get(e.id)}: "${e.message}"`).join('; ')}`);

  const out2 = join(dir, 'out_strict');
  job.output.uri = out2;
  job.errors.max_bad_rows = 2;
  const strict = await runJob(ctx, dir, 'strict', job, { ok: false });
  expect(strict.r.code !== 0 && strict.r.code !== null, () => `with max_bad_rows 2 the run should fail: ${describeRun(strict.args, strict.r)}`);
  expect(/too many bad rows/.test(strict.r.stderr), () => `the failure should say "too many bad rows": ${strict.r.stderr}`);
  expect(!existsSync(join(out2, '_SUCCESS')), `${out2}/_SUCCESS exists after a failed run`);
}

/// A shard whose every row is bad still gets a part (it is done), with the same columns as the
/// others, also when it is the only shard left for a resumed run (killed after part 0).
async function allBadShard(ctx, dir) {
  const data = await ctx.data.allBadShard();
  const out = join(dir, 'out');
  const job = baseJob(ctx, data.glob, out, { input: { shard_rows: 20 }, errors: { max_bad_rows: 20 } });
  const columns = async (part) => (await ctx.db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlString(join(out, part))})`))
    .map((c) => `${c.column_name} ${c.column_type}`).join(', ');
  const check = async (when) => {
    const [a, b] = [await columns('part-00000.parquet'), await columns('part-00001.parquet')];
    expect(a === b, `${when}: part-00001.parquet (every row bad) has columns [${b}], part-00000.parquet [${a}]`);
    const n = await ctx.db.all(`SELECT count(*) AS n FROM read_parquet(${sqlString(join(out, 'part-*.parquet'))})`);
    expect(Number(n[0].n) === 20, `${when}: DuckDB reads ${n[0].n} rows from the parts, want 20`);
  };
  const first = await runJob(ctx, dir, 'first', job);
  expectSummary(first.summary, { rows_written: 20, bad_rows: 20, shards_written: 2 });
  expectCompleteOutput(out, 'parquet', 2);
  await check('a fresh run');
  rmSync(join(out, 'part-00001.parquet'));
  rmSync(join(out, '_SUCCESS'));
  const resumed = await runJob(ctx, dir, 'resumed', job);
  expectSummary(resumed.summary, { rows_written: 0, bad_rows: 20, shards_resumed: 1, shards_written: 1 });
  expectCompleteOutput(out, 'parquet', 2);
  await check('a resumed run with only the all-bad shard left');
}

async function failFast(ctx, dir) {
  const data = await ctx.data.jpeg();
  const expectFailure = async (name, job, { code, names, extra }) => {
    const x = await runJob(ctx, dir, name, job, { ok: false, extra });
    const fine = code === undefined ? x.r.code !== 0 && x.r.code !== null : x.r.code === code;
    expect(fine, () => `${name}: want exit ${code ?? '!= 0'}: ${describeRun(x.args, x.r)}`);
    expect(x.r.stderr.includes(names), () => `${name}: the message should name '${names}': ${x.r.stderr.trim()}`);
    expect(x.r.ms < 30_000, `${name}: took ${x.r.ms} ms to fail`);
    return x;
  };
  const nothing = join(dir, 'nothing', '*.parquet');
  await expectFailure('missing_input', baseJob(ctx, nothing, join(dir, 'out1')), { code: 2, names: nothing });

  const model = join(dir, 'model.pt');
  writeFileSync(model, 'this is not TorchScript\n');
  const out2 = join(dir, 'out2');
  await expectFailure('unreadable_model', baseJob(ctx, data.glob, out2, { model: { uri: model } }), { names: model });
  const parts = existsSync(out2) ? readdirSync(out2).filter((n) => n.startsWith('part-') || n.startsWith('.')) : [];
  expect(parts.length === 0, `unreadable_model: part files written: ${parts}`);

  writeFileSync(join(dir, 'afile'), 'a regular file\n');
  const out3 = join(dir, 'afile', 'out');
  await expectFailure('output_not_writable', baseJob(ctx, data.glob, out3), { names: out3 });

  const unknown = baseJob(ctx, data.glob, join(dir, 'out4'), { model: { batchsize: 16 } });
  await expectFailure('unknown_key', unknown, { code: 2, names: 'model.batchsize' });
  await expectFailure('unknown_key_set', baseJob(ctx, data.glob, join(dir, 'out5')),
    { code: 2, names: 'output.topk', extra: ['--set', 'output.topk=3'] });
  await expectFailure('missing_column', baseJob(ctx, data.glob, join(dir, 'out6'), { input: { id_column: 'no_such_id' } }),
    { code: 2, names: 'no_such_id' });
}

async function s3Input(ctx, dir) {
  const data = await ctx.data.s3jpeg();
  const server = await startS3rver(join(dir, 's3'), ['data']);
  try {
    for (const name of readdirSync(data.dir).filter((n) => n.endsWith('.parquet'))) {
      await putObject(server.endpoint, 'data', `jpeg/${name}`, readFileSync(join(data.dir, name)));
    }
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
      AWS_ENDPOINT_URL_S3: server.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    };
    const labels = await inputLabels(ctx.db, data.glob);
    const local = join(dir, 'out_local');
    const more = { input: { shard_rows: 25 } };
    await runJob(ctx, dir, 'local', baseJob(ctx, data.glob, local, more));
    const want = await readOutput(ctx.db, local, 'parquet');
    expectNull(checkOutput(want, labels, { k: 5 }));

    const fromS3 = join(dir, 'out_s3_input');
    const { summary } = await runJob(ctx, dir, 's3_input', baseJob(ctx, 's3://data/jpeg/*.parquet', fromS3, more), { env });
    expectSummary(summary, { rows_total: 100, rows_written: 100, shards_total: 4, shards_written: 4 });
    expectCompleteOutput(fromS3, 'parquet', 4);
    const got = await readOutput(ctx.db, fromS3, 'parquet');
    expectNull(checkOutput(got, labels, { k: 5 }));
    expectNull(sameTopK(got, want, { what: 'S3 input and local input outputs' }));

    const s3Job = baseJob(ctx, 's3://data/jpeg/*.parquet', 's3://data/out/', more);
    const w = await runJob(ctx, dir, 's3_output', s3Job, { env });
    expectSummary(w.summary, { rows_written: 100, shards_written: 4 });
    const keys = (await listKeys(server.endpoint, 'data', 'out/')).sort();
    const parts = [0, 1, 2, 3].map((i) => `out/part-0000${i}.parquet`);
    const wantKeys = ['out/_SUCCESS', 'out/_job.json', 'out/_manifest.json', 'out/_workers/worker-00000.json', ...parts].sort();
    expect(JSON.stringify(keys) === JSON.stringify(wantKeys), () => `s3://data/out/ holds ${keys}, want ${wantKeys}`);
    const copy = join(dir, 'out_s3_download');
    mkdirSync(copy, { recursive: true });
    for (const key of parts) writeFileSync(join(copy, key.slice(4)), await getObject(server.endpoint, 'data', key));
    const down = await readOutput(ctx.db, copy, 'parquet');
    expectNull(checkOutput(down, labels, { k: 5 }));
    expectNull(sameTopK(down, want, { what: 'S3 output and local output' }));
    const again = await runJob(ctx, dir, 's3_output_again', s3Job, { env });
    expectSummary(again.summary, { shards_resumed: 4, shards_written: 0 });
  } finally {
    await server.stop();
  }
}

const CASES = [
  ['jpeg_parquet', jpegParquet],
  ['raw_parquet', rawParquet],
  ['auto_dtype', autoDtype],
  ['device_normalize', deviceNormalize],
  ['image_folder', imageFolder],
  ['crash_resume', crashResume],
  ['overwrite_and_changed_job', overwriteAndChangedJob],
  ['bad_rows', badRows],
  ['all_bad_shard', allBadShard],
  ['fail_fast', failFast],
  ['memory_bound', memoryBound],
  ['s3_input', s3Input],
  ['big_row_groups', bigRowGroups],
  ['watchdog', watchdog],
  ['ray_tensors', rayTensors],
  ['include_types', includeTypes],
  ['ray_layout_output', rayLayoutOutput],
  ['prometheus_metrics', prometheusMetrics],
  ['report_run', reportRun],  // the report_* cases: ctest job_reports
  ['report_bad_rows', reportBadRows],
  ['report_resumed', reportResumed],
  ['report_error', reportError],
  ['report_bad_path', reportBadPath],
  ['report_job', reportJob],
  ['report_gpu', reportGpu],
  ['soak', soak],  // long: only when named with --only (ctest job_soak, label slow)
  // Several workers (ctest job_workers runs these, beside the rest):
  ['workers_local', workersLocal],
  ['workers_straggler', workersStraggler],
  ['workers_killed', workersKilled],
  ['workers_sigterm', workersSigterm],
  ['workers_refused', workersRefused],
  ['workers_s3', workersS3],
  ['workers_mpirun', workersMpirun],
  ['workers_slurm', workersSlurm],
  // Heterogeneous cells over MPI (ctest job_cells):
  ['cell_equal', cellEqual],
  ['cell_bad_rows', cellBadRows],
  ['cell_flow_control', cellFlowControl],
  ['cell_refused', cellRefused],
  ['cell_slurm', cellSlurm],
  ['cell_feeder_killed', cellFeederKilled],
];
const ONLY_WHEN_NAMED = new Set(['soak', ...CASES.map(([n]) => n).filter((n) => /^(workers|report|cell)_/.test(n))]);

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const unknown = (o.only ?? []).filter((n) => !CASES.some(([name]) => name === n));
  if (unknown.length) usage(`unknown case ${unknown} (cases: ${CASES.map(([n]) => n).join(', ')})`);
  const tiny = resolve(o.models, 'tiny.pt');
  const stalls = resolve(o.models, 'stalls.pt');
  if (!existsSync(tiny)) usage(`${tiny} is missing (the make_test_models ctest fixture makes it)`);
  mkdirSync(o.work, { recursive: true });
  for (const old of readdirSync(o.work).filter((n) => n.startsWith('run-'))) {  // kept by an earlier failing run
    rmSync(join(o.work, old), { recursive: true, force: true });
  }
  const work = mkdtempSync(join(resolve(o.work), 'run-'));
  const db = await DuckDB.open();
  const seed = o.seed ?? (Date.now() % 1_000_000);
  const ctx = {
    bin: resolve(o.sluice), models: resolve(o.models), tiny, stalls, photos: resolve(o.photos), db, seed, nvml: o.nvml && resolve(o.nvml),
    data: new Datasets({ bin: resolve(o.sluice), photos: resolve(o.photos), root: join(work, 'data'), db }),
    note: (msg) => console.log(`# ${ctx.current}: ${msg}`),
  };
  console.log(`# work dir ${work}, seed ${seed} (--seed ${seed} repeats the crash timings)`);
  const started = Date.now();
  let passed = 0;
  let failed = 0;
  for (const [name, run] of CASES) {
    if (o.only ? !o.only.includes(name) : ONLY_WHEN_NAMED.has(name)) continue;
    ctx.current = name;
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const t0 = Date.now();
    try {
      await run(ctx, dir);
      passed++;
      console.log(`ok ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}: ${String(err?.message ?? err).replace(/\n/g, ' | ')}`);
    }
  }
  db.close();
  console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (failed === 0 && !o.keep) rmSync(work, { recursive: true, force: true });
  else console.log(`# kept ${work}`);
  process.exit(failed ? 1 : 0);
}

await main();
