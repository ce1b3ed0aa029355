// Smoke test of tests/cluster/slurm_cluster.mjs: a real 3-node Slurm cluster runs a job array
// and a 3-node srun, every task writes what Slurm told it, and stop() leaves no process behind.
// Also `scontrol requeue` of a running array task (~12 s of the ~18 s; SLURM_SMOKE_REQUEUE=0
// skips it). SLURM_SMOKE_KEEP=1 keeps the temporary directory (logs) for a look afterwards.
//   node tests/cluster/slurm_cluster_smoke.mjs     (as root)
import { mkdtemp, mkdir, writeFile, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSlurmCluster } from './slurm_cluster.mjs';
import { makeChecks } from '../support/checks.mjs';

const { check, finish } = makeChecks();
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

async function script(dir, name, body) {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/bash\nset -e\n${body}\n`, { mode: 0o755 });
  return file;
}

/// Files `prefix*` in `dir` as { name: [fields...] }.
async function outputs(dir, prefix) {
  const names = (await readdir(dir)).filter((f) => f.startsWith(prefix)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (f) => [f, (await readFile(path.join(dir, f), 'utf8')).trim().split(/\s+/)])));
}

async function arrayJob(cluster, work) {
  const out = path.join(work, 'array');
  await mkdir(out);
  const file = await script(work, 'array.sh', `cd ${out}
echo "$SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT $SLURM_ARRAY_TASK_MIN $SLURM_ARRAY_TASK_MAX $(hostname) $SLURMD_NODENAME" > task.$SLURM_ARRAY_TASK_ID`);
  return { out, id: await cluster.sbatch(['--array=0-3', '-o', `${out}/slurm-%A_%a.log`, file]) };
}

async function srunJob(cluster, work) {
  const out = path.join(work, 'srun');
  await mkdir(out);
  const file = await script(work, 'srun.sh', `cd ${out}
srun bash -c 'echo $SLURM_PROCID $SLURM_NTASKS $SLURMD_NODENAME > out.$SLURM_PROCID'`);
  return { out, id: await cluster.sbatch(['-N', '3', '-n', '3', '-o', `${out}/slurm-%j.log`, file]) };
}

function checkArray(tasks, files) {
  check('array: 4 tasks completed', tasks.length === 4 && tasks.every((t) => t.state === 'COMPLETED' && t.exitCode === '0:0'),
    () => JSON.stringify(tasks));
  const rows = Object.values(files);
  check('array: one file per task id 0..3', JSON.stringify(Object.keys(files)) === '["task.0","task.1","task.2","task.3"]',
    () => JSON.stringify(files));
  check('array: ids, count 4, min 0, max 3', rows.every(([id, count, min, max], i) => id === String(i) && count === '4' && min === '0' && max === '3'),
    () => JSON.stringify(rows));
  check('array: SLURMD_NODENAME set', rows.every((r) => /^n[1-3]$/.test(r[5])), () => JSON.stringify(rows));
}

function checkSrun(tasks, files) {
  check('srun: job completed', tasks.length === 1 && tasks[0].state === 'COMPLETED' && tasks[0].nodes === 'n[1-3]',
    () => JSON.stringify(tasks));
  const rows = Object.values(files);
  check('srun: procids 0..2 of 3', JSON.stringify(rows.map((r) => r.slice(0, 2))) === '[["0","3"],["1","3"],["2","3"]]',
    () => JSON.stringify(files));
  check('srun: on n1, n2, n3', JSON.stringify(rows.map((r) => r[2]).sort()) === '["n1","n2","n3"]', () => JSON.stringify(rows));
}

/// A running array task requeued with `scontrol requeue` runs again, after cred_expire (10 s):
/// the first run sleeps until it is killed, the second (SLURM_RESTART_COUNT=1) ends at once.
async function checkRequeue(cluster, work) {
  const out = path.join(work, 'requeue');
  await mkdir(out);
  const file = await script(work, 'requeue.sh', `cd ${out}
echo "start $SLURM_ARRAY_TASK_ID \${SLURM_RESTART_COUNT-unset}" >> task.$SLURM_ARRAY_TASK_ID
if [[ $SLURM_ARRAY_TASK_ID == 1 && -z $SLURM_RESTART_COUNT ]]; then sleep 60; fi
echo "end $SLURM_ARRAY_TASK_ID" >> task.$SLURM_ARRAY_TASK_ID`);
  const id = await cluster.sbatch(['--array=0-1', '-o', `${out}/slurm-%A_%a.log`, file]);
  const first = path.join(out, 'task.1');
  for (let i = 0; i < 300 && !existsSync(first); i += 1) await new Promise((r) => setTimeout(r, 100));
  const requeued = Date.now();
  await cluster.slurm('scontrol', ['requeue', `${id}_1`]);
  const tasks = await cluster.waitJob(id, 60_000);
  const log = (await readFile(first, 'utf8')).trim().split('\n');
  console.log(`requeue: task 1 wrote ${JSON.stringify(log)}; ran again and ended ${((Date.now() - requeued) / 1000).toFixed(1)} s after the requeue`);
  check('requeue: task ran again, SLURM_RESTART_COUNT=1', JSON.stringify(log) === '["start 1 unset","start 1 1","end 1"]'
    && tasks[1].restarts === 1 && tasks.every((t) => t.state === 'COMPLETED'), () => JSON.stringify({ log, tasks }));
}

/// Processes whose command line or environment names the cluster's directory (every daemon
/// has it in its arguments or environment; slurmstepd and job tasks inherit the environment).
function leftovers(clusterDir) {
  const mine = (p) => [`/proc/${p}/cmdline`, `/proc/${p}/environ`].some((f) => {
    try { return readFileSync(f, 'utf8').includes(clusterDir); } catch { return false; }
  });
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid && mine(p));
  return pids.map((p) => `${p}:${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`);
}

const dir = await mkdtemp(path.join(tmpdir(), 'slurm-smoke-'));
let cluster;
try {
  cluster = await startSlurmCluster({ dir: path.join(dir, 'cluster'), log: (m) => console.log(m) });
  console.log(`cluster up after ${elapsed()}`);
  const work = path.join(dir, 'work');
  await mkdir(work);
  const [array, srun] = [await arrayJob(cluster, work), await srunJob(cluster, work)];
  checkArray(await cluster.waitJob(array.id, 60_000), await outputs(array.out, 'task.'));
  checkSrun(await cluster.waitJob(srun.id, 60_000), await outputs(srun.out, 'out.'));
  console.log(`jobs done after ${elapsed()}`);
  if (process.env.SLURM_SMOKE_REQUEUE !== '0') await checkRequeue(cluster, work);
} catch (err) {
  check('cluster runs the jobs', false, err.stack);
} finally {
  if (cluster) await cluster.stop();
  const left = leftovers(path.join(dir, 'cluster'));
  check('stop() leaves no process of the cluster', left.length === 0, () => `left: ${left.join(' ')}`);
  console.log(`stopped after ${elapsed()}`);
  if (process.env.SLURM_SMOKE_KEEP !== '1') await rm(dir, { recursive: true, force: true });
}
finish();
