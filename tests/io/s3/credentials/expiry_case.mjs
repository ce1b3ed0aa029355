/*
 * expiry_case.mjs — a job that outlives its credentials several times over must refresh them
 * in time: not one S3 request may arrive signed with expired credentials.
 *
 * expiryCase({ sluice, work, photos, lifetimeSeconds = 4, source = 'container', log }):
 *   1. `sluice datagen jpeg` 200 images, 25 per file (8 Parquet files) into the case dir;
 *   2. startServers with an s3rver behind the verifying proxy, credentials living
 *      lifetimeSeconds; the files are PUT through the proxy at s3://data/in/, signed (AWS's JS
 *      signer) with a static key registered with the authority that sluice is not given;
 *   3. `sluice run job.yaml` reading s3://data/in/*.parquet and writing s3://data/out/ through
 *      AWS_ENDPOINT_URL=<proxy>, with the sleep backend (`per_batch=300ms classes=10`, batches
 *      of 5: about 12 s of model time) and credentials from the container endpoint
 *      (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN), instance
 *      metadata ('imds'), web identity ('web-identity': STS AssumeRoleWithWebIdentity) or a
 *      profile's role ('assume-role': STS AssumeRole with another profile's keys), or with
 *      source 'static' from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of another registered key
 *      (a control that needs no refresh: it checks the proxy against sluice's signer);
 *   4. asserts exit 0, the summary (200 rows written), every part file, _SUCCESS and
 *      _manifest.json in the bucket (listed through the proxy), the proxy accepted requests
 *      and rejected none (any ExpiredToken, SignatureDoesNotMatch, InvalidToken, ... is listed
 *      with method, path, key and how long after expiry it came), and, with temporary
 *      credentials, that the job ran longer than two lifetimes and signed with at least two different keys.
 * Throws with what went wrong; returns a one-line description of what it measured.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { listKeys, s3Request, startServers, writeProfileFiles, writeTokenFile } from './servers.mjs';
import { runProcess } from './chain_cases.mjs';
import { jobYaml } from '../../../job/lib/sluice_process.mjs';

function expect(cond, why) {
  if (!cond) throw new Error(typeof why === 'function' ? why() : why);
}

export async function expiryCase({ sluice, work, photos = join(homedir(), '.cache/sluice-photos'), lifetimeSeconds = 4,
  source = 'container', log = () => {} }) {
  mkdirSync(work, { recursive: true });
  const dir = mkdtempSync(join(work, `expiry-${source}-`));
  const data = join(dir, 'data');
  const gen = await runProcess([sluice, 'datagen', 'jpeg', '--out', data, '--images', '200', '--per-file', '25', '--photos', photos], process.env, 120_000);
  expect(gen.code === 0, () => `sluice datagen failed (${gen.code}): ${gen.stderr.slice(0, 800)}`);
  const inputs = readdirSync(data).filter((n) => n.endsWith('.parquet')).sort();
  expect(inputs.length === 8, `datagen wrote ${inputs.length} Parquet files, want 8`);

  const s = await startServers({ lifetimeSeconds, s3: { dir: join(dir, 's3'), buckets: ['data'] } });
  try {
    const uploader = { accessKeyId: 'AKIAUPLOADER00000001', secretAccessKey: 'uploader-secret-not-given-to-sluice' };
    s.authority.registerStatic(uploader.accessKeyId, uploader.secretAccessKey);
    for (const name of inputs) {
      const r = await s3Request(s.s3.url, { method: 'PUT', bucket: 'data', key: `in/${name}`, body: readFileSync(join(data, name)), credentials: uploader });
      expect(r.status === 200, () => `upload of ${name} through the proxy: HTTP ${r.status} ${r.body}`);
    }

    const model = join(dir, 'sleep.txt');
    writeFileSync(model, 'per_batch=300ms classes=10\n');
    const job = join(dir, 'job.yaml');
    writeFileSync(job, jobYaml({
      input: { uri: 's3://data/in/*.parquet', shard_rows: 25 },
      preprocess: { resize: 32, crop: 32 },
      model: { uri: model, backend: 'sleep', batch_size: 5 },
      output: { uri: 's3://data/out/', top_k: 5, include: ['label'] },
    }));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    Object.assign(env, {
      HOME: join(dir, 'home'), AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: s.s3.url, AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    });
    const role = 'arn:aws:iam::123456789012:role/sluice-job';
    if (source === 'container') {
      Object.assign(env, { AWS_CONTAINER_CREDENTIALS_FULL_URI: s.container.url, AWS_CONTAINER_AUTHORIZATION_TOKEN: s.container.token });
    } else if (source === 'imds') {
      delete env.AWS_EC2_METADATA_DISABLED;
      env.AWS_EC2_METADATA_SERVICE_ENDPOINT = s.imds.endpoint;
    } else if (source === 'web-identity') {  // EKS IRSA: STS at its own endpoint, S3 at the proxy
      Object.assign(env, { AWS_WEB_IDENTITY_TOKEN_FILE: writeTokenFile(join(dir, 'token'), s.sts.webIdentityToken), AWS_ROLE_ARN: role,
        AWS_ENDPOINT_URL_STS: s.sts.url });
    } else if (source === 'assume-role') {  // a profile's role, assumed with another profile's long-term keys
      const k = { accessKeyId: 'AKIASLUICESOURCE0001', secretAccessKey: 'sluice-source-secret' };
      s.authority.registerStatic(k.accessKeyId, k.secretAccessKey);
      const f = writeProfileFiles(join(dir, 'aws'), { config: { 'profile job': { role_arn: role, source_profile: 'base' } },
        credentials: { base: { aws_access_key_id: k.accessKeyId, aws_secret_access_key: k.secretAccessKey } } });
      Object.assign(env, { AWS_PROFILE: 'job', AWS_CONFIG_FILE: f.configFile, AWS_SHARED_CREDENTIALS_FILE: f.credentialsFile,
        AWS_ENDPOINT_URL_STS: s.sts.url });
    } else {
      const k = { accessKeyId: 'AKIASLUICESTATIC0001', secretAccessKey: 'sluice-static-secret' };
      s.authority.registerStatic(k.accessKeyId, k.secretAccessKey);
      Object.assign(env, { AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey });
    }

    const summaryPath = join(dir, 'summary.json');
    const acceptedBefore = s.s3.stats.accepted;
    const r = await runProcess([sluice, 'run', job, '--progress', 'none', '--summary-json', summaryPath], env, 180_000);
    const rejections = s.s3.stats.rejections.map((x) => `${x.method} ${x.path} -> ${x.code} (key ${x.accessKeyId}` +
      `${x.afterExpiryMs !== null ? `, ${x.afterExpiryMs} ms after expiry` : ''})`);
    expect(r.code === 0, () => `sluice run exited ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${r.ms} ms: ${r.stderr.slice(-1500)}` +
      (rejections.length ? `\nproxy rejections: ${rejections.slice(0, 10).join('; ')}` : ''));
    expect(rejections.length === 0, () => `the proxy rejected ${rejections.length} request(s) ${JSON.stringify(s.s3.stats.rejected)}: ` +
      rejections.slice(0, 10).join('; '));
    const summary = existsSync(summaryPath) ? JSON.parse(readFileSync(summaryPath, 'utf8')) : null;
    expect(summary?.rows_written === 200, () => `summary rows_written ${summary?.rows_written}, want 200`);

    const keys = (await listKeys(s.s3.url, 'data', 'out/', uploader)).sort();
    const parts = Array.from({ length: 8 }, (_, i) => `out/part-${String(i).padStart(5, '0')}.parquet`);
    const missing = [...parts, 'out/_SUCCESS', 'out/_manifest.json'].filter((k) => !keys.includes(k));
    expect(missing.length === 0, () => `missing in s3://data/out/: ${missing.join(', ')} (have ${keys.join(', ')})`);

    const sluiceKeys = Object.keys(s.s3.stats.keysUsed).filter((k) => k !== uploader.accessKeyId);
    const accepted = s.s3.stats.accepted - acceptedBefore;
    expect(accepted > 0, 'the proxy accepted no request from sluice');
    if (source !== 'static') {
      expect(r.ms > 2 * lifetimeSeconds * 1000, `the job took ${r.ms} ms, not more than two ${lifetimeSeconds} s credential lifetimes`);
      expect(sluiceKeys.length >= 2, () => `sluice signed with ${sluiceKeys.length} key(s) over ${r.ms} ms: it never got new credentials`);
    }
    const what = `${accepted} requests accepted, 0 rejected, ${sluiceKeys.length} key(s) used by sluice, ` +
      `source ${source}, job ${(r.ms / 1000).toFixed(1)} s, lifetime ${lifetimeSeconds} s`;
    log(`  expiry (${source}): ${what}`);
    return what;
  } finally {
    await s.stop();
  }
}
