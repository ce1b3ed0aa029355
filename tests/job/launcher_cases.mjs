// The launchers users already have start the workers: Open MPI's mpirun, a real Slurm
// cluster (munge + slurmctld + 3 slurmd, started here: tests/cluster/slurm_cluster.mjs) running
// the examples/slurm scripts, and workers writing one output on S3 (s3rver).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOutput, sameTopK, checkOutput, inputLabels } from './lib/predictions.mjs';
import { writeJob, describeRun, runSluice } from './lib/sluice_process.mjs';
import { startS3rver, putObject, listKeys } from './lib/s3_peer.mjs';
import { baseJob, expect, expectCompleteOutput, expectNull, runJob } from './lib/job_runs.mjs';
import { startSlurmCluster } from '../cluster/slurm_cluster.mjs';
import { sleepModel, sleepJob, startWorkers } from './worker_cases.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/// The tiny CPU model over the 230-row JPEG input in 5 shards: a single process's output.
export async function single(ctx, dir, data) {
  const out = join(dir, 'single');
  await runJob(ctx, dir, 'single', baseJob(ctx, data.glob, out, {}));
  return readOutput(ctx.db, out, 'parquet');
}

export async function expectSame(ctx, out, want, labels, what) {
  expectCompleteOutput(out, 'parquet', 5);
  const got = await readOutput(ctx.db, out, 'parquet');
  expectNull(checkOutput(got, labels, { k: 5 }));
  expectNull(sameTopK(got, want, { what }));
}

/// `mpirun --oversubscribe -np 3 sluice run job.yaml`: ranks from OMPI_COMM_WORLD_*.
export async function workersMpirun(ctx, dir) {
  const data = await ctx.data.jpeg();
  const labels = await inputLabels(ctx.db, data.glob);
  const want = await single(ctx, dir, data);
  const out = join(dir, 'out');
  const file = writeJob(join(dir, 'job.yaml'), baseJob(ctx, data.glob, out, {}));
  const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_btl: 'self,tcp' };
  const args = ['--oversubscribe', '-np', '3', ctx.bin, 'run', file, '--progress', 'plain'];
  const r = spawnSync('mpirun', args, { env, encoding: 'utf8', timeout: 180_000 });
  expect(r.status === 0, () => `mpirun ${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  for (const rank of [0, 1, 2]) {
    expect(r.stderr.includes(`worker ${rank} of 3 (from OMPI_COMM_WORLD_RANK)`), () => `rank ${rank} did not name itself:\n${r.stderr}`);
  }
  await expectSame(ctx, out, want, labels, 'mpirun -np 3 and a single run');
}

/// A real Slurm cluster: the example job array with 4 tasks, then the example srun
/// allocation over 3 nodes, each equal to a single run.
export async function workersSlurm(ctx, dir) {
  const data = await ctx.data.jpeg();
  const labels = await inputLabels(ctx.db, data.glob);
  const want = await single(ctx, dir, data);
  const cluster = await startSlurmCluster({ dir: join(dir, 'slurm'), nodes: 3 });
  try {
    const env = { ...cluster.env, SLUICE: ctx.bin };
    for (const [name, sbatchArgs, workers] of [
      ['array', ['--array=0-3'], 4],
      ['srun', ['-N', '3', '-n', '3'], 3],
    ]) {
      const out = join(dir, `out_${name}`);
      const file = writeJob(join(dir, `${name}.yaml`), baseJob(ctx, data.glob, out, {}));
      const logs = join(dir, `logs_${name}`);
      mkdirSync(logs, { recursive: true });
      const script = join(REPO, 'examples/slurm', name === 'array' ? 'job_array.sbatch' : 'srun_allocation.sbatch');
      const id = await cluster.sbatch([...sbatchArgs, '-o', join(logs, 'slurm-%A_%a.log'), script, file], { env });
      const tasks = await cluster.waitJob(id, 240_000);
      const logText = readdirSync(logs).map((n) => readFileSync(join(logs, n), 'utf8')).join('\n');
      expect(tasks.every((t) => t.state === 'COMPLETED'), () => `${name}: ${JSON.stringify(tasks)}\n${logText}`);
      const from = name === 'array' ? 'SLURM_ARRAY_TASK_ID' : 'SLURM_PROCID';
      for (let r = 0; r < workers; r++) {
        expect(logText.includes(`worker ${r} of ${workers} (from ${from})`), () => `${name}: worker ${r} did not name itself:\n${logText}`);
      }
      if (name === 'srun') {
        const nodes = new Set(tasks.flatMap((t) => (t.nodes ?? '').split(',')));
        ctx.note(`srun allocation ran on ${[...nodes]}`);
      }
      await expectSame(ctx, out, want, labels, `Slurm ${name} and a single run`);
      const st = await runSluice(ctx.bin, ['status', out]);
      expect(st.code === 0 && new RegExp(`workers ${workers}:`).test(st.stdout), () => `status after the ${name}: ${st.stdout}${st.stderr}`);
    }
    await requeued(ctx, dir, data, cluster, env);
  } finally {
    await cluster.stop();
  }
}

/// `scontrol requeue` of a running array task (what preemption with requeue does): Slurm
/// stops it (SIGTERM: it releases its claims and publishes nothing half-written), the others
/// go on, the task runs again (SLURM_RESTART_COUNT=1) and the output is exact.
async function requeued(ctx, dir, data, cluster, env) {
  const out = join(dir, 'out_requeue');
  const job = sleepJob(ctx, data, out, sleepModel(dir, '200ms'));
  const file = writeJob(join(dir, 'requeue.yaml'), job);
  const logs = join(dir, 'logs_requeue');
  mkdirSync(logs, { recursive: true });
  const script = join(REPO, 'examples/slurm/job_array.sbatch');
  const id = await cluster.sbatch(['--array=0-2', '-o', join(logs, 'slurm-%A_%a.log'), script, file], { env });
  const report = (r) => { try { return JSON.parse(readFileSync(join(out, '_workers', `worker-0000${r}.json`), 'utf8')); } catch { return null; } };
  const t0 = Date.now();
  while (!((report(1)?.shards_done ?? 0) >= 1)) {
    if (Date.now() - t0 > 60_000) throw new Error(`requeue: worker 1 published nothing in 60 s: ${await cluster.logTails()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await cluster.slurm('scontrol', ['requeue', `${id}_1`]);
  // Slurm holds a requeued job for cred_expire; let it start again at once.
  for (let i = 0; i < 50; i++) {
    try {
      await cluster.slurm('scontrol', ['update', `jobid=${id}_1`, 'StartTime=now']);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const tasks = await cluster.waitJob(id, 240_000);
  const logText = readdirSync(logs).map((n) => readFileSync(join(logs, n), 'utf8')).join('\n');
  expect(tasks.every((t) => t.state === 'COMPLETED') && tasks[1].restarts >= 1, () => `requeue: ${JSON.stringify(tasks)}\n${logText}`);
  expectCompleteOutput(out, 'parquet', 10);
  const got = await readOutput(ctx.db, out, 'parquet');
  expect(got.rows.length === 230 && new Set(got.rows.map((r) => r.id)).size === 230, `requeue: ${got.rows.length} rows, want 230 ids once`);
  ctx.note(`requeue: task 1 restarted ${tasks[1].restarts} time(s); workers took ${[0, 1, 2].map((r) => report(r)?.taken)}`);
}

/// Three workers writing one output on S3 (no conditional writes: s3rver has none), and a
/// worker that cannot reach the store failing with the URI named.
export async function workersS3(ctx, dir) {
  const data = await ctx.data.jpeg();
  const server = await startS3rver(join(dir, 's3'), ['data']);
  try {
    for (const name of readdirSync(data.dir).filter((n) => n.endsWith('.parquet'))) {
      await putObject(server.endpoint, 'data', `in/${name}`, readFileSync(join(data.dir, name)));
    }
    const s3env = (endpoint) => ({
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
      AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      SLUICE_S3_MAX_ATTEMPTS: '2',
    });
    const model = sleepModel(dir, '50ms');
    const local = join(dir, 'local');
    await runJob(ctx, dir, 'local', sleepJob(ctx, data, local, model));
    const want = await readOutput(ctx.db, local, 'parquet');
    const job = sleepJob(ctx, { ...data, glob: 's3://data/in/*.parquet' }, 's3://data/out/', model);
    // A worker on a machine that reads its input but cannot reach the output's store.
    const unreachable = sleepJob(ctx, data, 's3://data/out/', model);
    const file = writeJob(join(dir, 'job.yaml'), job);
    // The worker that cannot reach the store fails first, naming the output; the others finish.
    const lostFile = writeJob(join(dir, 'unreachable.yaml'), unreachable);
    const lost = await runSluice(ctx.bin, ['run', lostFile, '--progress', 'none', '--worker', '2/3'], { env: s3env('http://127.0.0.1:9') });
    expect(lost.code !== 0 && /s3:\/\/data\/out\//.test(lost.stderr), () => describeRun(['run', lostFile, '--worker', '2/3'], lost));
    ctx.note(`unreachable store: ${lost.stderr.trim().split('\n').pop()}`);
    const ws = startWorkers(ctx, dir, file, 3, { env: s3env(server.endpoint) });
    const results = await Promise.all(ws.map((w) => w.done));
    results.forEach((r, i) => expect(r.code === 0, () => describeRun(ws[i].args, r)));
    const keys = await listKeys(server.endpoint, 'data', 'out/');
    const parts = keys.filter((k) => /^out\/part-\d+\.parquet$/.test(k));
    expect(parts.length === 10 && keys.includes('out/_SUCCESS') && keys.includes('out/_manifest.json'), () => `s3://data/out/ holds ${keys}`);
    expect(!keys.some((k) => k.startsWith('out/_claims/')), () => `claims left behind: ${keys}`);
    const st = await runSluice(ctx.bin, ['status', 's3://data/out/', '--json'], { env: s3env(server.endpoint) });
    const s = JSON.parse(st.stdout || '{}');
    expect(st.code === 0 && s.complete && s.rows_published === 230 && s.workers.length === 3, () => `status: ${st.stdout}${st.stderr}`);
    // Download and compare with the local run.
    const down = join(dir, 'down');
    mkdirSync(down, { recursive: true });
    for (const k of parts) {
      const r = await runSluice(ctx.bin, ['parquet', 'copy', `s3://data/${k}`, join(down, k.slice(4))], { env: s3env(server.endpoint) });
      expect(r.code === 0, () => describeRun(['parquet', 'copy', k], r));
    }
    const got = await readOutput(ctx.db, down, 'parquet');
    expect(got.rows.length === 230 && new Set(got.rows.map((r) => r.id)).size === 230, `S3 output holds ${got.rows.length} rows`);
    expectNull(sameTopK(got, want, { what: 'three workers on S3 and a local run' }));
  } finally {
    await server.stop();
  }
}
