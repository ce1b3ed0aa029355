// A real Slurm cluster on this one machine for the multi-worker tests: one munged, one
// slurmctld and N slurmd (Debian's slurm-wlm 22.05 is built with multiple-slurmd support, so
// `slurmd -N nK` runs node nK on localhost). Everything -- key, sockets, state, spool, logs,
// pid files -- lives under the caller's `dir`, and every port is picked free at start, so two
// clusters can run side by side and nothing is left in /etc, /var or /run. Runs as root (the
// daemons and jobs all run as root; SlurmUser=root).
import { spawn, execFile } from 'node:child_process';
import { mkdir, writeFile, readFile, readdir } from 'node:fs/promises';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Explicit paths, so a PATH without /usr/sbin (a non-login root shell, CI) still works.
const SBIN = '/usr/sbin';
const BIN = '/usr/bin';
// Every daemon, and every job submitted with `env`, carries this variable: stop() finds
// what a cluster left behind (slurmstepd, job processes orphaned by a killed slurmd) by it.
const MARK = 'SLUICE_SLURM_CLUSTER';
// States after which a job (array task) never runs again.
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED',
  'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE']);

/// `count` distinct free TCP ports on 127.0.0.1 (all held open until all are chosen).
async function freePorts(count) {
  const servers = [];
  for (let i = 0; i < count; i += 1) {
    const s = createServer();
    await new Promise((res, rej) => s.once('error', rej).listen(0, '127.0.0.1', res));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function slurmConf({ dir, name, ctldPort, nodePorts, cpusPerNode, mungeSocket }) {
  const nodes = nodePorts.map((port, i) => `NodeName=n${i + 1} NodeHostname=localhost `
    + `NodeAddr=127.0.0.1 Port=${port} CPUs=${cpusPerNode} State=UNKNOWN`);
  return `# Written by tests/cluster/slurm_cluster.mjs
ClusterName=${name}
# slurmctld accepts "localhost" as its own host name, whatever the machine is called.
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${ctldPort}
# Our own munged (not /run/munge). cred_expire also sets how long a requeued job must wait
# before it may start again (default 120 s, far too long for a test).
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${mungeSocket},cred_expire=10
SlurmUser=root
SlurmdUser=root
# Fresh state per cluster (a stale ClusterName in it makes slurmctld refuse to start).
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool/%n
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.%n.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.%n.log
# Default /usr/bin/mail does not exist: slurmctld logs an error at every start.
MailProg=/bin/true
# No cgroups here (no systemd, sandboxed kernel): track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
# Cores only: nodes declare no memory, so memory must not be a consumable resource.
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Start jobs within ~1 s: by default batch jobs wait up to 3 s for the next pass
# (batch_sched_delay), and a requeued job, once eligible, waits for the backfill pass (30 s).
SchedulerParameters=batch_sched_delay=0,sched_interval=1,bf_interval=1
# Else sbatch copies the submitting shell's rlimits into the job, and slurmd complains or
# fails where its own hard limits are lower.
PropagateResourceLimits=NONE
# Failure tests: a killed slurmd is marked DOWN within ~10 s, and a restarted one comes back.
SlurmdTimeout=10
SlurmctldTimeout=10
ReturnToService=2
# scancel / requeue: SIGTERM, then SIGKILL after 2 s instead of 30.
KillWait=2
# Finished jobs stay visible to \`scontrol show job\` (no accounting) for an hour.
MinJobAge=3600
${nodes.join('\n')}
PartitionName=main Nodes=n[1-${nodePorts.length}] Default=YES MaxTime=INFINITE State=UP
`;
}

/// The last `lines` lines of every log in `dir`, for error messages.
async function logTails(dir, lines = 15) {
  // slurmctld first, munged (rarely the culprit, and chatty) last.
  const rank = (f) => (f.startsWith('slurmctld') ? 0 : f.startsWith('munged') ? 2 : 1);
  const names = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.log'))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const tails = await Promise.all(names.map(async (f) => {
    const text = await readFile(path.join(dir, f), 'utf8').catch(() => '');
    return `--- ${f}\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
  }));
  return tails.join('\n');
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const readPid = (file) => { try { return Number(readFileSync(file, 'utf8').trim()) || 0; } catch { return 0; } };

/// Pids of processes whose environment carries MARK=dir (daemons, slurmstepd, job tasks).
export function clusterPids(dir) {
  const pids = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`${MARK}=${dir}`)) pids.push(Number(p));
    } catch { /* gone, or a kernel thread */ }
  }
  return pids;
}

/// SIGTERM the pids, wait up to `ms` for them to exit, then SIGKILL what is left.
async function terminate(pids, ms = 5000) {
  pids = pids.filter((p) => p > 0 && alive(p));
  for (const p of pids) try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
  const until = Date.now() + ms;
  while (pids.some(alive) && Date.now() < until) await sleep(50);
  for (const p of pids.filter(alive)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  while (pids.some(alive)) await sleep(20);
}

/// Starts munged, slurmctld and `nodes` slurmd (n1..nN) in `dir` (created if missing; private
/// to this cluster) and waits until every node is idle. Resolves to the cluster (see below);
/// rejects, after stopping whatever did start, with the tails of the daemon logs.
export async function startSlurmCluster({ dir, nodes = 3, cpusPerNode = 2, log = () => {}, readyMs = 30_000 }) {
  dir = path.resolve(dir);
  const conf = path.join(dir, 'slurm.conf');
  const env = { ...process.env, SLURM_CONF: conf, [MARK]: dir, PATH: `${BIN}:${SBIN}:${process.env.PATH ?? '/bin'}` };
  // Daemons by name (munged, slurmctld, slurmd.nK): pid file, and child once spawned.
  const names = ['munged', 'slurmctld', ...Array.from({ length: nodes }, (_, i) => `slurmd.n${i + 1}`)];
  const pidFile = (n) => path.join(dir, `${n}.pid`);
  const children = {};
  let stopped = false;

  /// Foreground daemon, stdout/stderr appended to DIR/NAME.out.log; Node does not wait on it.
  const daemon = (name, args) => {
    const fd = openSync(path.join(dir, `${name}.out.log`), 'a');
    const child = spawn(path.join(SBIN, name.split('.')[0]), args, { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.unref();
    child.exited = new Promise((r) => child.on('exit', (code, sig) => r(sig ?? code)));
    children[name] = child;
    return child;
  };
  // The pid file, or the child's pid for a daemon that died (or was stopped) before writing it.
  const pidOf = (n) => readPid(pidFile(n)) || children[n]?.pid || 0;
  // Order matters: nodes first (no relaunch), controller, what jobs left (slurmstepd and
  // tasks, found by MARK), munged last (slurmstepd talks to it while it ends).
  const stop = async () => {
    stopped = true;
    await terminate(names.slice(2).map(pidOf));
    await terminate([pidOf('slurmctld')]);
    const munged = pidOf('munged');
    await terminate(clusterPids(dir).filter((p) => p !== munged));
    await terminate([munged]);
    log(`slurm cluster in ${dir} stopped`);
  };
  // Best effort if the test exits (process.exit in checks.finish) without calling stop().
  const onExit = () => {
    if (stopped) return;
    for (const p of [...names.map(pidOf), ...clusterPids(dir)]) try { if (p) process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  };
  process.on('exit', onExit);

  const slurm = async (cmd, args, opts = {}) => (await run(path.join(BIN, cmd), args,
    { env: { ...env, ...opts.env }, cwd: opts.cwd ?? dir, timeout: opts.timeoutMs ?? 30_000 })).stdout;

  try {
    await mkdir(path.join(dir, 'state'), { recursive: true });
    for (let i = 1; i <= nodes; i += 1) await mkdir(path.join(dir, 'spool', `n${i}`), { recursive: true });
    const [ctldPort, ...nodePorts] = await freePorts(1 + nodes);
    const munge = {
      key: path.join(dir, 'munge.key'), socket: path.join(dir, 'munge.sock'),
    };
    await run(path.join(SBIN, 'mungekey'), ['--create', `--keyfile=${munge.key}`]);
    // -F: foreground (we own the process). --force: munged refuses a socket whose directory
    // is not executable by all (dir is usually a private mkdtemp), though only root uses it.
    daemon('munged', ['-F', '--force', `--key-file=${munge.key}`,
      `--socket=${munge.socket}`, `--pid-file=${pidFile('munged')}`, `--seed-file=${dir}/munged.seed`,
      `--log-file=${dir}/munged.log`]);
    await waitFor(() => run(path.join(BIN, 'munge'), ['-n', '-S', munge.socket]), 10_000, children);

    // Distinct per directory: clusters running side by side never share a name.
    const name = `t${createHash('sha1').update(dir).digest('hex').slice(0, 10)}`;
    await writeFile(conf, slurmConf({ dir, name, ctldPort, nodePorts, cpusPerNode, mungeSocket: munge.socket }));
    // -D: foreground (we own the process); -c: start clean, ignoring any saved state.
    daemon('slurmctld', ['-D', '-c', '-f', conf]);
    for (let i = 1; i <= nodes; i += 1) daemon(`slurmd.n${i}`, ['-D', '-N', `n${i}`, '-f', conf]);
    log(`slurm cluster ${name}: slurmctld :${ctldPort}, slurmd :${nodePorts.join(',')}, in ${dir}`);

    await waitFor(async () => {
      const states = (await slurm('sinfo', ['-h', '-N', '-o', '%N %T'], { timeoutMs: 5000 })).trim().split('\n');
      if (states.length !== nodes || !states.every((l) => / idle$/.test(l))) throw new Error(`nodes: ${states.join(', ')}`);
    }, readyMs, children);
  } catch (err) {
    const tails = await logTails(dir);
    await stop();
    process.off('exit', onExit);
    throw new Error(`slurm cluster in ${dir} did not start: ${err.message}\n${tails}`);
  }

  return {
    dir, conf,
    /// Environment for child processes and jobs: SLURM_CONF, PATH with the Slurm tools, MARK.
    env,
    /// Runs a Slurm client (`squeue`, `scontrol`, `srun`, ...) against this cluster; its stdout.
    slurm,
    /// `sbatch --parsable ...args` (opts: cwd, env, timeoutMs); resolves to the job id.
    async sbatch(args, opts = {}) {
      return (await slurm('sbatch', ['--parsable', ...args], opts)).trim().split(';')[0];
    },
    /// Waits until no task of `jobId` (a job, or a whole array) may run again, and resolves to
    /// one record per job / array task, from `scontrol show job` (accounting is off):
    /// [{ jobId, taskId (null if not an array), state, exitCode: 'code:signal', nodes,
    /// restarts }], sorted by taskId. Rejects on timeout with the last states and log tails.
    async waitJob(jobId, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      let tasks = [];
      for (;;) {
        const out = await slurm('scontrol', ['-o', 'show', 'job', String(jobId)]);
        tasks = out.trim().split('\n').filter(Boolean).map(parseJob);
        if (tasks.length && tasks.every((t) => FINAL.has(t.state))) return tasks.sort((a, b) => a.taskId - b.taskId);
        if (Date.now() > until) {
          throw new Error(`job ${jobId} not done in ${timeoutMs} ms: ${JSON.stringify(tasks)}\n${await logTails(dir)}`);
        }
        await sleep(200);
      }
    },
    logTails: () => logTails(dir),
    async stop() { process.off('exit', onExit); await stop(); },
  };
}

function parseJob(line) {
  const field = (k) => new RegExp(`(?:^| )${k}=(\\S*)`).exec(line)?.[1];
  const task = field('ArrayTaskId');
  return {
    jobId: field('JobId'), taskId: task === undefined ? null : (/^\d+$/.test(task) ? Number(task) : task),
    state: field('JobState'), exitCode: field('ExitCode'), nodes: field('NodeList'), restarts: Number(field('Restarts')),
  };
}

/// Retries `probe` until it resolves; fails at once if one of `daemons` ({name: child}) exits.
async function waitFor(probe, ms, daemons) {
  const until = Date.now() + ms;
  let exited = null;
  for (const [name, child] of Object.entries(daemons)) child.exited.then((e) => { exited ??= `${name} exited (${e})`; });
  for (;;) {
    try { return await probe(); } catch (err) {
      if (exited) throw new Error(exited);
      if (Date.now() > until) throw new Error(`not ready in ${ms} ms: ${String(err.message).trim()}`);
    }
    await sleep(100);
  }
}
