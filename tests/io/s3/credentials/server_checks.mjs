/*
 * server_checks.mjs — checks that the test servers of servers.mjs refuse what AWS refuses, so
 * that a chain or expiry test passing means something: requests signed by AWS's own JS signer
 * (@smithy/signature-v4) are accepted by the verifying S3 proxy and by STS AssumeRole, and a
 * wrong secret, an unknown key, a missing or wrong session token, an unsigned request, a body
 * that is not the signed one and an expired temporary key are each refused with S3's / STS's
 * error code and counted; IMDS refuses a missing token or a bad TTL, the container endpoint a
 * missing token. checkServers() throws with what went wrong.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { s3Request, startServers } from './servers.mjs';
import { sha256Hex } from './sigv4_verify.mjs';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../../../peers/package.json'));

function expect(cond, why) {
  if (!cond) throw new Error(why);
}
const codeOf = (r) => /<Code>([^<]*)<\/Code>/.exec(r.body.toString('utf8'))?.[1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const asResult = async (res) => ({ status: res.status, body: Buffer.from(await res.text()) });

/// Headers of an S3 request signed by AWS's signer (path already encoded).
async function signS3(endpoint, method, path, credentials, payloadHash) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { HttpRequest } = require('@smithy/core/protocols');
  const { Sha256 } = require('@aws-crypto/sha256-js');
  const u = new URL(endpoint);
  const req = new HttpRequest({ method, protocol: 'http:', hostname: u.hostname, port: Number(u.port), path,
    headers: { host: u.host, 'x-amz-content-sha256': payloadHash } });
  const signed = await new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false }).sign(req);
  return signed.headers;
}

/// An AssumeRole request to the STS server signed by AWS's signer with `credentials`.
async function assumeRole(url, credentials) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { HttpRequest } = require('@smithy/core/protocols');
  const { Sha256 } = require('@aws-crypto/sha256-js');
  const u = new URL(url);
  const body = 'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcheck&RoleSessionName=check';
  const req = new HttpRequest({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/',
    headers: { host: u.host, 'content-type': 'application/x-www-form-urlencoded' }, body });
  const signed = await new SignatureV4({ credentials, region: 'us-east-1', service: 'sts', sha256: Sha256 }).sign(req);
  const res = await fetch(`${url}/`, { method: 'POST', headers: signed.headers, body });
  return asResult(res);
}

export async function checkServers() {
  const s = await startServers({ lifetimeSeconds: 2, s3: { buckets: ['data'] } });
  try {
    const good = { accessKeyId: 'AKIACHECKGOOD0000001', secretAccessKey: 'good-secret/with+chars' };
    s.authority.registerStatic(good.accessKeyId, good.secretAccessKey);
    const put = (credentials, key = 'check/a b+c.txt', body = Buffer.from('hello')) =>
      s3Request(s.s3.url, { method: 'PUT', bucket: 'data', key, body, credentials });

    let r = await put(good);
    expect(r.status === 200, `PUT signed with a registered key: HTTP ${r.status} ${r.body}`);
    r = await s3Request(s.s3.url, { method: 'GET', bucket: 'data', key: 'check/a b+c.txt', credentials: good });
    expect(r.status === 200 && r.body.toString() === 'hello', `GET back: HTTP ${r.status} ${r.body}`);
    r = await s3Request(s.s3.url, { method: 'GET', bucket: 'data', query: { 'list-type': '2', prefix: 'check/' }, credentials: good });
    expect(r.status === 200 && r.body.includes('<Key>check/a b+c.txt</Key>'), `ListObjectsV2: HTTP ${r.status} ${r.body}`);

    const refused = async (what, promise, status, code) => {
      const res = await promise;
      expect(res.status === status && codeOf(res) === code, `${what}: HTTP ${res.status} ${codeOf(res)}, want ${status} ${code}`);
    };
    await refused('wrong secret', put({ ...good, secretAccessKey: 'nope' }), 403, 'SignatureDoesNotMatch');
    await refused('unknown key', put({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }), 403, 'InvalidAccessKeyId');
    await refused('token on a key that has none', put({ ...good, sessionToken: 'tok' }), 400, 'InvalidToken');
    await refused('unsigned', fetch(`${s.s3.url}/data/check/x`).then(asResult), 403, 'AccessDenied');
    // signed for one body and path, sent with another
    const headers = await signS3(s.s3.url, 'PUT', '/data/check/x', good, sha256Hex('hello'));
    const send = (path, body) => fetch(`${s.s3.url}${path}`, { method: 'PUT', headers, body }).then(asResult);
    await refused('body other than the signed one', send('/data/check/x', 'other'), 400, 'XAmzContentSHA256Mismatch');
    await refused('path other than the signed one', send('/data/check/y', 'hello'), 403, 'SignatureDoesNotMatch');

    // temporary credentials: good until they expire, then ExpiredToken
    const res = await fetch(s.container.url, { headers: { authorization: s.container.token } });
    const doc = await res.json();
    const temp = { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token };
    r = await put(temp, 'check/temp');
    expect(r.status === 200, `PUT with fresh container credentials: HTTP ${r.status} ${r.body}`);
    await refused('wrong session token', put({ ...temp, sessionToken: 'IQoJwrong' }), 400, 'InvalidToken');
    await refused('no session token', put({ ...temp, sessionToken: undefined }), 400, 'InvalidToken');
    await sleep(Math.max(0, Date.parse(doc.Expiration) - Date.now()) + 50);
    await refused('expired credentials', put(temp, 'check/late'), 400, 'ExpiredToken');
    const late = s.s3.stats.rejections.find((x) => x.code === 'ExpiredToken');
    expect(late && late.afterExpiryMs >= 0 && late.accessKeyId === temp.accessKeyId, `ExpiredToken not recorded: ${JSON.stringify(s.s3.stats)}`);
    const c = await fetch(s.container.url);
    expect(c.status === 401, `container endpoint without Authorization: HTTP ${c.status}`);

    // STS AssumeRole: signed by a known key -> credentials; by a wrong secret -> SignatureDoesNotMatch
    r = await assumeRole(s.sts.url, good);
    expect(r.status === 200 && r.body.includes('<AccessKeyId>ASIA'), `AssumeRole signed by a registered key: HTTP ${r.status} ${r.body}`);
    await refused('AssumeRole with a wrong secret', assumeRole(s.sts.url, { ...good, secretAccessKey: 'nope' }), 403, 'SignatureDoesNotMatch');
    await refused('AssumeRole with expired credentials', assumeRole(s.sts.url, temp), 400, 'ExpiredToken');

    // IMDSv2
    for (const ttl of [undefined, '0', '21601', 'x']) {
      const t = await fetch(`${s.imds.endpoint}/latest/api/token`, { method: 'PUT', headers: ttl === undefined ? {} : { 'x-aws-ec2-metadata-token-ttl-seconds': ttl } });
      expect(t.status === 400, `IMDS token with TTL ${ttl}: HTTP ${t.status}`);
    }
    const v1 = await fetch(`${s.imds.endpoint}/latest/meta-data/iam/security-credentials/`);
    expect(v1.status === 401, `IMDS GET without a token: HTTP ${v1.status}`);
    const tok = await (await fetch(`${s.imds.endpoint}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
    const roleName = await (await fetch(`${s.imds.endpoint}/latest/meta-data/iam/security-credentials/`, { headers: { 'x-aws-ec2-metadata-token': tok } })).text();
    const imdsDoc = await (await fetch(`${s.imds.endpoint}/latest/meta-data/iam/security-credentials/${roleName}`, { headers: { 'x-aws-ec2-metadata-token': tok } })).json();
    expect(imdsDoc.Code === 'Success' && imdsDoc.Type === 'AWS-HMAC' && /^ASIA/.test(imdsDoc.AccessKeyId), `IMDS document: ${JSON.stringify(imdsDoc)}`);

    const want = { AccessDenied: 1, ExpiredToken: 1, InvalidAccessKeyId: 1, InvalidToken: 3, SignatureDoesNotMatch: 2, XAmzContentSHA256Mismatch: 1 };
    const got = Object.fromEntries(Object.entries(s.s3.stats.rejected).sort());
    expect(JSON.stringify(got) === JSON.stringify(want), `proxy rejections ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    expect(s.s3.stats.accepted === 4, `proxy accepted ${s.s3.stats.accepted} requests, want 4`);
  } finally {
    await s.stop();
  }
}
