// s3rver (tests/io/s3/start_s3rver.mjs) for the job tests, and plain anonymous HTTP requests
// to it: PUT, GET and ListObjectsV2, so what sluice reads and writes is checked through a
// client that is not sluice's.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const START = fileURLToPath(new URL('../../io/s3/start_s3rver.mjs', import.meta.url));

/// Starts s3rver on a free port with the given buckets; resolves to { port, endpoint, stop }.
export function startS3rver(dir, buckets) {
  const child = spawn(process.execPath, [START, '--dir', dir, ...buckets.flatMap((b) => ['--bucket', b])],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = async () => {
    child.stdin.end();  // start_s3rver exits at EOF on stdin
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3rver did not start in 30 s; stderr: ${stderr}`));
    }, 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const { port } = JSON.parse(out.slice(0, nl));
      resolve({ port, endpoint: `http://127.0.0.1:${port}`, stop });
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}) before listening; stderr: ${stderr}`));
    });
  });
}

const keyPath = (bucket, key) => `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

async function request(endpoint, method, path, body) {
  const res = await fetch(`${endpoint}${path}`, {
    method,
    body,
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  const data = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${data.toString('utf8').slice(0, 300)}`);
  return data;
}

export const putObject = (endpoint, bucket, key, body) => request(endpoint, 'PUT', keyPath(bucket, key), body);
export const getObject = (endpoint, bucket, key) => request(endpoint, 'GET', keyPath(bucket, key));

const unxml = (s) => s.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
  .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
  .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/// Every key under `prefix` (ListObjectsV2, following continuation tokens).
export async function listKeys(endpoint, bucket, prefix) {
  const keys = [];
  let token;
  for (;;) {
    let q = `list-type=2&prefix=${encodeURIComponent(prefix)}`;
    if (token) q += `&continuation-token=${encodeURIComponent(token)}`;
    const xml = (await request(endpoint, 'GET', `/${bucket}?${q}`)).toString('utf8');
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(unxml(m[1]));
    const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml);
    if (!/<IsTruncated>true<\/IsTruncated>/.test(xml) || !next) return keys;
    token = unxml(next[1]);
  }
}
