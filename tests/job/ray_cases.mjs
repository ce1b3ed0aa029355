// Ray Data's tensor Parquet layouts (tests/parquet/ray/make_ray_files.mjs) through `sluice
// parquet inspect`, `cat` and `sluice run`, against DuckDB's reading of the same files and
// PyTorch on the same pixels.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readErrors, readOutput, sameTopK, sqlString } from './lib/predictions.mjs';
import { runOk } from './lib/sluice_process.mjs';
import { baseJob, expect, expectCompleteOutput, expectNull, expectSummary, runJob } from './lib/job_runs.mjs';

const RAY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'parquet', 'ray');
const SHAPE = [24, 20, 3];
const FLOAT_SHAPE = [3, 8, 8];

/// The fixed-shape files and what inspect must say they are.
export const RAY_FIXED = [
  ['ray_v1_json', 'tensor<uint8>[24,20,3]', 'ray.data.arrow_tensor (JSON shape)'],
  ['ray_v2_large_list', 'tensor<uint8>[24,20,3]', 'ray.data.arrow_tensor_v2 (JSON shape)'],
  ['ray_v2_pickled', 'tensor<uint8>[24,20,3]', 'ray.data.arrow_tensor_v2 (pickled shape, Ray >= 2.49)'],
  ['ray_pre29_pickled', 'tensor<uint8>[24,20,3]', 'pickled ray.air.util.tensor_extensions.arrow.ArrowTensorType'],
];

export function makeRayFiles(dir) {
  if (existsSync(join(dir, 'ray_v1_json.parquet'))) return dir;
  const r = spawnSync(process.execPath, [join(RAY_DIR, 'make_ray_files.mjs'), dir, '--rows', '10', '--shape', SHAPE.join(','),
    '--float-shape', FLOAT_SHAPE.join(',')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_ray_files.mjs failed: ${r.stderr}`);
  return dir;
}

// PIL + torchvision on the pixels DuckDB read, then the model: the oracle for uint8 tensors; for
// float tensors (`preprocess: none`) the values go to the model as they are.
const ORACLE = `
import json, sys, numpy as np, torch
from PIL import Image
from torchvision import transforms as T
model = torch.jit.load(sys.argv[1]).eval()
rows = json.load(sys.stdin)
tf = T.Compose([T.Resize(32), T.CenterCrop(32), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
def tensor(r):
    a = np.array(r["values"], dtype=np.float32 if r["float"] else np.uint8).reshape(r["shape"])
    return torch.from_numpy(a) if r["float"] else tf(Image.fromarray(a))
x = torch.stack([tensor(r) for r in rows])
with torch.no_grad():
    s, i = torch.softmax(model(x), 1).topk(5, 1)
print(json.dumps([{"id": r["id"], "ids": i[k].tolist(), "scores": s[k].tolist()} for k, r in enumerate(rows)]))
`;

/// `shape` null: variable-shaped rows, each {data, shape} as DuckDB reads the struct.
async function oracle(ctx, file, shape, isFloat, skip = new Set()) {
  const rows = (await ctx.db.all(`SELECT id, image FROM read_parquet(${sqlString(file)}) ORDER BY id`)).filter((r) => !skip.has(r.id));
  const input = rows.map((r) => (shape
    ? { id: r.id, values: r.image.map(Number), shape, float: isFloat }
    : { id: r.id, values: r.image.data.map(Number), shape: r.image.shape.map(Number), float: false }));
  const py = spawnSync('/usr/bin/python3', ['-c', ORACLE, ctx.tiny], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(py.status === 0, () => `PyTorch oracle failed: ${py.stderr}`);
  return { rows: JSON.parse(py.stdout) };
}

/// FNV-1a 64 over the little-endian element bytes, as make_ray_files.mjs's expected.json has it.
function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

export async function rayTensors(ctx, dir) {
  const data = makeRayFiles(join(ctx.data.root, 'ray'));
  for (const [name, type, source] of RAY_FIXED) {
    const file = join(data, `${name}.parquet`);
    const inspect = (await runOk(ctx.bin, ['parquet', 'inspect', file])).stdout;
    expect(inspect.includes(`image: ${type}`) && inspect.includes(`tensor from ${source}`),
      () => `${name}: inspect should show image as ${type} from ${source}:\n${inspect}`);
    // Every row's pixels as sluice reads them equal what was written (checksums of the generator).
    const cat = (await runOk(ctx.bin, ['parquet', 'cat', file, '--columns', 'id,image'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const expected = JSON.parse(readFileSync(join(data, `${name}.expected.json`), 'utf8'));
    const want = new Map((expected.rows ?? expected).map((r) => [r.id, r]));
    expect(cat.length === want.size, `${name}: cat gave ${cat.length} rows, want ${want.size}`);
    for (const r of cat) {
      const flat = r.image.flat(Infinity);
      const e = want.get(r.id);
      expect(e && fnv1a64(flat) === e.fnv1a64, () => `${name} row ${r.id}: pixels differ from what was written (${flat.slice(0, 8)} vs ${e?.head})`);
    }
    // sluice run with no extra keys: predictions equal PyTorch's on the same pixels.
    const out = join(dir, name);
    const job = baseJob(ctx, file, out, { input: { shard_rows: 5 } });
    const { summary } = await runJob(ctx, dir, name, job);
    expectSummary(summary, { rows_total: 10, rows_written: 10, bad_rows: 0, shards_total: 2 });
    expectCompleteOutput(out, 'parquet', 2);
    const got = await readOutput(ctx.db, out, 'parquet');
    expectNull(sameTopK(got, await oracle(ctx, file, SHAPE, false), { tol: 1e-5, what: `${name}: sluice and PyTorch` }));
  }
  {  // A plain list<uint8> column (no extension metadata, as DuckDB rewrites it): the job's
    // input.image_shape says the shape; without it the run fails naming the column's type.
    const file = join(dir, 'plain_list.parquet');
    await ctx.db.run(`COPY (SELECT id, label, image FROM read_parquet(${sqlString(join(data, 'ray_v1_json.parquet'))})) ` +
      `TO ${sqlString(file)} (FORMAT PARQUET)`);
    const inspect = (await runOk(ctx.bin, ['parquet', 'inspect', file])).stdout;
    expect(inspect.includes('image: list<uint8>'), () => `DuckDB's rewrite should read as a list:\n${inspect}`);
    const out = join(dir, 'plain_list');
    const { summary } = await runJob(ctx, dir, 'plain_list', baseJob(ctx, file, out, { input: { shard_rows: 5, image_shape: SHAPE } }));
    expectSummary(summary, { rows_total: 10, rows_written: 10, bad_rows: 0 });
    const got = await readOutput(ctx.db, out, 'parquet');
    expectNull(sameTopK(got, await oracle(ctx, file, SHAPE, false), { tol: 1e-5, what: 'list<uint8> with input.image_shape and PyTorch' }));
    const bad = await runJob(ctx, dir, 'plain_list_no_shape', baseJob(ctx, file, join(dir, 'plain_list_no_shape'), {}), { ok: false });
    expect(bad.r.code !== 0 && /list<uint8>/.test(bad.r.stderr), () => `without image_shape: exit ${bad.r.code}: ${bad.r.stderr}`);
  }
  // Variable-shaped tensors: each row an image of its own shape, resized like a decoded one.
  for (const [name, source] of [['ray_variable_shaped', 'ray.data.arrow_variable_shaped_tensor (JSON ndim)'],
    ['ray_variable_shaped_v2_pickled', 'ray.data.arrow_variable_shaped_tensor (pickled ndim, Ray >= 2.49)']]) {
    const file = join(data, `${name}.parquet`);
    const inspect = (await runOk(ctx.bin, ['parquet', 'inspect', file])).stdout;
    expect(inspect.includes(`variable-shaped uint8 tensor from ${source}`), () => `${name}: inspect should name ${source}:\n${inspect}`);
    const out = join(dir, name);
    const { summary } = await runJob(ctx, dir, name, baseJob(ctx, file, out, { input: { shard_rows: 5 } }));
    expectSummary(summary, { rows_total: 10, rows_written: 10, bad_rows: 0 });
    const got = await readOutput(ctx.db, out, 'parquet');
    expectNull(sameTopK(got, await oracle(ctx, file, null, false), { tol: 1e-5, what: `${name}: sluice and PyTorch` }));
  }
  {  // A malformed row (empty data, shape [4, 5, 3]) is a bad row naming why; the rest go on.
    const file = join(data, 'ray_variable_shaped_bad.parquet');
    const out = join(dir, 'variable_bad');
    const { summary } = await runJob(ctx, dir, 'variable_bad', baseJob(ctx, file, out, { input: { shard_rows: 5 }, errors: { max_bad_rows: 1 } }));
    expectSummary(summary, { rows_total: 10, rows_written: 9, bad_rows: 1 });
    const errors = readErrors(out);
    expect(errors.length === 1 && errors[0].id === 'r2' && /shape \[4, 5, 3\] holds 0 values, not 60/.test(errors[0].message),
      () => `_errors should list r2 with its reason: ${JSON.stringify(errors)}`);
    const got = await readOutput(ctx.db, out, 'parquet');
    expectNull(sameTopK(got, await oracle(ctx, file, null, false, new Set(['r2'])), { tol: 1e-5, what: 'the good rows and PyTorch' }));
  }
  // An already preprocessed float32 [3, H, W] column goes to the model as it is.
  const file = join(data, 'ray_float32_chw.parquet');
  const out = join(dir, 'float');
  const job = baseJob(ctx, file, out, { input: { shard_rows: 5 } });
  job.preprocess = 'none';
  const { summary } = await runJob(ctx, dir, 'float', job);
  expectSummary(summary, { rows_total: 10, rows_written: 10, bad_rows: 0 });
  const got = await readOutput(ctx.db, out, 'parquet');
  expectNull(sameTopK(got, await oracle(ctx, file, FLOAT_SHAPE, true), { tol: 1e-5, what: 'float32 [3, 8, 8] with preprocess: none and PyTorch' }));
  // preprocess: none on a uint8 column is refused before any work, naming the column and type.
  const bad = await runJob(ctx, dir, 'none_on_uint8', baseJob(ctx, join(data, 'ray_v1_json.parquet'), join(dir, 'bad'), {}),
    { ok: false, extra: ['--set', 'preprocess=none'] });
  expect(bad.r.code === 2 && /must be a float tensor column \(it is tensor<uint8>\[24,20,3\]\)/.test(bad.r.stderr),
    () => `preprocess: none on uint8 should fail naming the type: exit ${bad.r.code}: ${bad.r.stderr}`);
}

/// Included columns keep their input types in the output (no widening): uint64 above 2^63,
/// int8, uint16 through a job, read back by DuckDB with the same types and values.
export async function includeTypes(ctx, dir) {
  const data = await ctx.data.jpeg();
  const input = join(dir, 'in.parquet');
  await ctx.db.run(`COPY (SELECT id, image, (9223372036854775808 + hash(id) % 1000)::UBIGINT AS big, ` +
    `((hash(id) % 256)::INTEGER - 128)::TINYINT AS small, (hash(id) % 65536)::USMALLINT AS mid ` +
    `FROM read_parquet(${sqlString(data.glob)}) ORDER BY id LIMIT 40) TO ${sqlString(input)} (FORMAT PARQUET)`);
  const out = join(dir, 'out');
  const job = baseJob(ctx, input, out, { output: { include: ['big', 'small', 'mid'] } });
  const { summary } = await runJob(ctx, dir, 'include', job);
  expectSummary(summary, { rows_total: 40, rows_written: 40, bad_rows: 0 });
  const types = async (glob) => Object.fromEntries((await ctx.db.all(`DESCRIBE SELECT big, small, mid FROM read_parquet(${sqlString(glob)})`))
    .map((r) => [r.column_name, r.column_type]));
  const want = await types(input);
  const got = await types(join(out, 'part-*.parquet'));
  expect(JSON.stringify(got) === JSON.stringify(want), `output column types ${JSON.stringify(got)}, input ${JSON.stringify(want)}`);
  const rows = async (glob) => JSON.stringify(await ctx.db.all(`SELECT id, big::VARCHAR AS b, small, mid FROM read_parquet(${sqlString(glob)}) ORDER BY id`));
  expect(await rows(join(out, 'part-*.parquet')) === await rows(input), 'included values differ from the input');
}

/// The arrow-schema fields of a Parquet file as the Ray fixtures' checker decodes them.
function rayMetadata(file) {
  const r = spawnSync(process.execPath, [join(RAY_DIR, 'check_ray_metadata.mjs'), file], { encoding: 'utf8' });
  expect(r.status === 0, () => `check_ray_metadata.mjs ${file}: ${r.stderr}`);
  return new Map(JSON.parse(r.stdout).fields.map((f) => [f.name, f]));
}

/// Arrow JS's own reading of the file's ARROW:schema (an IPC stream of the schema message).
async function arrowJsFields(file) {
  const { arrow } = await import('../parquet/interop/lib/peers.mjs');
  const { footerKeyValues } = await import('../parquet/ray/lib/parquet_footer.mjs');
  const entry = footerKeyValues(file).find(([k]) => k.toString() === 'ARROW:schema');
  expect(entry, `${file} has no ARROW:schema`);
  const ipc = Buffer.from(entry[1].toString(), 'base64');
  const table = arrow().tableFromIPC(Buffer.concat([ipc, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]));
  return new Map(table.schema.fields.map((f) => [f.name, { type: String(f.type), metadata: Object.fromEntries(f.metadata) }]));
}

/// sluice writes tensors in Ray's current layout (output.tensor_layout / --tensor-layout ray):
/// the extension name, JSON shape and large_list storage Ray reads, checked by the fixtures'
/// decoder and by Arrow JS; the values by DuckDB; and sluice reads its own output back.
export async function rayLayoutOutput(ctx, dir) {
  const data = makeRayFiles(join(ctx.data.root, 'ray'));
  const src = join(data, 'ray_v2_pickled.parquet');
  const copy = join(dir, 'copy_ray.parquet');
  await runOk(ctx.bin, ['parquet', 'copy', src, copy, '--tensor-layout', 'ray']);
  const image = rayMetadata(copy).get('image');
  expect(image?.extension_name === 'ray.data.arrow_tensor_v2' && image.extension_metadata === '[24, 20, 3]' &&
    image.storage_type === 'large_list<item: uint8>', () => `copy's image field: ${JSON.stringify(image)}`);
  const js = (await arrowJsFields(copy)).get('image');
  expect(js?.type === 'LargeList<Uint8>' && js.metadata['ARROW:extension:name'] === 'ray.data.arrow_tensor_v2',
    () => `Arrow JS reads the copy's image field as ${JSON.stringify(js)}`);
  const values = async (file) => JSON.stringify(await ctx.db.all(`SELECT id, label, image FROM read_parquet(${sqlString(file)}) ORDER BY id`),
    (k, v) => (typeof v === 'bigint' ? String(v) : v));
  expect(await values(copy) === await values(src), 'DuckDB reads different rows from the copy in Ray layout');
  const inspect = (await runOk(ctx.bin, ['parquet', 'inspect', copy])).stdout;
  expect(inspect.includes('image: tensor<uint8>[24,20,3]'), () => `sluice reads its Ray-layout copy back as:\n${inspect}`);

  // A job's raw model output (top_k: 0), float32 [10] per row, in Ray's layout.
  const out = join(dir, 'out');
  const job = baseJob(ctx, src, out, { input: { shard_rows: 5 }, output: { top_k: 0, tensor_layout: 'ray', include: ['label'] } });
  await runJob(ctx, dir, 'raw_output', job);
  const part = join(out, 'part-00000.parquet');
  const output = rayMetadata(part).get('output');
  expect(output?.extension_name === 'ray.data.arrow_tensor_v2' && output.extension_metadata === '[10]' &&
    output.storage_type === 'large_list<item: float>', () => `the job's output field: ${JSON.stringify(output)}`);
  const label = rayMetadata(part).get('label');
  expect(label?.storage_type === 'int64', () => `label keeps int64 in ARROW:schema: ${JSON.stringify(label)}`);
  const rows = await ctx.db.all(`SELECT id, len(output) AS n FROM read_parquet(${sqlString(join(out, 'part-*.parquet'))})`);
  expect(rows.length === 10 && rows.every((r) => Number(r.n) === 10), () => `DuckDB reads the outputs as ${JSON.stringify(rows.slice(0, 2))}`);
}
