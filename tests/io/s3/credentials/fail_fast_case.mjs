// `sluice run` on s3:// with no credentials anywhere fails before any work: exit 2 within
// seconds, a message that lists every source of the chain and why each had nothing, and no
// request sent (nothing listens at the endpoint it names).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess } from './chain_cases.mjs';

export async function failFastCase({ sluice, work }) {
  const dir = join(work, 'fail-fast');
  mkdirSync(join(dir, 'home'), { recursive: true });
  writeFileSync(join(dir, 'model.txt'), 'per_batch=0ms classes=10\n');
  const job = join(dir, 'job.yaml');
  writeFileSync(job, `input: { uri: "s3://data/in/*.parquet" }\nmodel: { uri: "${join(dir, 'model.txt')}", backend: sleep }\n` +
    'output: { uri: "s3://data/out" }\n');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  Object.assign(env, {
    HOME: join(dir, 'home'), AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',  // discard port: a request sent would fail differently
  });
  const r = await runProcess([sluice, 'run', job, '--progress', 'none'], env, 20_000);
  const err = r.stderr.trim();
  if (r.code !== 2) throw new Error(`want exit 2, got ${r.code}: ${err.slice(0, 600)}`);
  if (r.ms > 10_000) throw new Error(`took ${r.ms} ms to fail`);
  for (const want of ['no AWS credentials', 'environment:', 'profile:', 'web identity:', 'container:', 'instance metadata:']) {
    if (!err.includes(want)) throw new Error(`stderr does not say '${want}': ${err.slice(0, 600)}`);
  }
  if (/S3 (LIST|GET|HEAD|PUT)/.test(err)) throw new Error(`it tried S3 before failing: ${err.slice(0, 600)}`);
  return `exit 2 in ${r.ms} ms`;
}
