// `sluice run --metrics-port`: a real Prometheus (Debian's) scrapes the running job, and a
// PromQL query over its HTTP API returns the job's rows counter equal to the rows written; a
// port in use is refused before any work.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeJob, describeRun, runSluice } from './lib/sluice_process.mjs';
import { expect } from './lib/job_runs.mjs';
import { sleepJob, sleepModel, waitFor } from './worker_cases.mjs';

async function freePort() {
  const s = createServer();
  await new Promise((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address();
  await new Promise((res) => s.close(res));
  return port;
}

async function promQuery(port, query) {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`);
  const j = await r.json();
  return j.data?.result ?? [];
}

export async function prometheusMetrics(ctx, dir) {
  const data = await ctx.data.jpeg();
  const [promPort, metricsPort] = [await freePort(), await freePort()];
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, `global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: sluice
    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]
`);
  mkdirSync(join(dir, 'tsdb'), { recursive: true });
  const prom = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promLog = '';
  prom.stderr.on('data', (d) => { promLog += d; });
  try {
    await waitFor('Prometheus to be ready', async () => {
      try { return (await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok; } catch { return false; }
    }, 30_000);
    // About 7 s of work: the scraper sees the job running and, after it, its final figures.
    const out = join(dir, 'out');
    const file = writeJob(join(dir, 'job.yaml'), sleepJob(ctx, data, out, sleepModel(dir, '150ms')));
    const args = ['run', file, '--progress', 'none', '--metrics-port', String(metricsPort)];
    const r = await runSluice(ctx.bin, args, { timeoutMs: 120_000 });
    expect(r.code === 0 && r.stderr.includes(`metrics: http://127.0.0.1:${metricsPort}/metrics`), () => describeRun(args, r));
    const rows = await promQuery(promPort, 'max_over_time(sluice_rows_written_total[5m])');
    expect(rows.length === 1 && rows[0].value[1] === '230', () => `rows written as Prometheus saw them: ${JSON.stringify(rows)}\n${promLog.slice(-2000)}`);
    const model = await promQuery(promPort, 'max_over_time(sluice_stage_rows_in_total{stage="model"}[5m])');
    expect(model.length === 1 && model[0].value[1] === '230', () => `model rows: ${JSON.stringify(model)}`);
    const shards = await promQuery(promPort, 'max_over_time(sluice_shards_published[5m]) / max_over_time(sluice_shards_total[5m])');
    expect(shards.length === 1 && shards[0].value[1] === '1', () => `shards published of total: ${JSON.stringify(shards)}`);
    const samples = await promQuery(promPort, 'count_over_time(sluice_in_flight_bytes[5m])');
    expect(samples.length === 1 && Number(samples[0].value[1]) >= 3, () => `scrapes while running: ${JSON.stringify(samples)}`);
    ctx.note(`Prometheus took ${samples[0].value[1]} scrapes of the running job; rows written ${rows[0].value[1]}`);

    // A port in use: refused before any work (no _job.json written).
    const busy = join(dir, 'busy');
    const bf = writeJob(join(dir, 'busy.yaml'), sleepJob(ctx, data, busy, sleepModel(dir, '150ms')));
    const b = await runSluice(ctx.bin, ['run', bf, '--progress', 'none', '--metrics-port', String(promPort)]);
    expect(b.code === 2 && /address in use|Address already in use/i.test(b.stderr) && b.stderr.includes(String(promPort)),
      () => describeRun(['run', bf, '--metrics-port', String(promPort)], b));
    expect(!existsSync(join(busy, '_job.json')), 'the job started although its metrics port was taken');
  } finally {
    prom.kill('SIGTERM');
    await new Promise((res) => prom.once('close', res));
  }
}
