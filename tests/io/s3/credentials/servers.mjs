/*
 * servers.mjs — the AWS credential services, on 127.0.0.1 free ports, for the tests of an
 * AWS default credential chain (sluice's, with the AWS JS SDK's as the oracle).
 *
 *   const s = await startServers({ lifetimeSeconds: 3600, sts: { webIdentityToken }, s3: {} });
 *   ... s.imds.endpoint, s.container.url, s.sts.url, s.s3.url, s.authority ...
 *   await s.stop();
 *
 * One credential Authority issues temporary credentials (AccessKeyId "ASIA" + 16 chars, a
 * 40-char secret, a session token) valid for `lifetimeSeconds` (expiry rounded down to the
 * second, as the Expiration text says), remembers every key it issued or had registered
 * (registerStatic: long-term keys, no expiry) and answers lookups for signature checks.
 * IMDS and the container endpoint hand out the subject's current credentials until less than
 * half their lifetime is left, then new ones (as AWS rotates them early); STS issues new ones
 * on every call unless `stickySts` (then it behaves like the others, per action and role),
 * which makes two resolutions in a row (the SDK's, then sluice's) get the same credentials.
 *
 * Servers (each has .stats, .resetStats() and a mutable .behavior: 'ok', 'hang' = never
 * answer, or a server-specific way to misbehave; startServers().resetStats() resets those of
 * imds, container and sts):
 *   imds       EC2 instance metadata, IMDSv2. PUT /latest/api/token needs
 *              X-aws-ec2-metadata-token-ttl-seconds 1..21600 (else 400) and returns a token;
 *              GET /latest/meta-data/iam/security-credentials/ (the role name) and .../<role>
 *              (the EC2 JSON document) need X-aws-ec2-metadata-token (else 401) unless
 *              imds.allowV1. behavior 'garbage': the credentials document is not JSON.
 *              .endpoint is the value for AWS_EC2_METADATA_SERVICE_ENDPOINT.
 *   container  ECS / EKS Pod Identity credentials endpoint: GET container.path with
 *              Authorization equal to container.token (missing: 401, different: 403) returns
 *              {AccessKeyId, SecretAccessKey, Token, Expiration, RoleArn}. 'garbage' as imds.
 *              .url is the value for AWS_CONTAINER_CREDENTIALS_FULL_URI.
 *   sts        POST / (or GET with a query), form parameters. AssumeRoleWithWebIdentity (no
 *              signature; WebIdentityToken must equal sts.webIdentityToken) and AssumeRole
 *              (SigV4, service sts, by a key the authority knows and that has not expired).
 *              Real response and ErrorResponse XML shapes. behavior 'malformed': 200 with
 *              the response XML cut off in the middle of <Credentials>.
 *   s3         (only with the s3 option) a proxy in front of s3rver that forwards only
 *              requests whose SigV4 signature verifies (sigv4_verify.mjs) with a key the
 *              authority knows, not expired when the request arrives, with its session token.
 *              s3rver never verifies signatures and allows anonymous requests, so the proxy
 *              forwards the verified request without its Authorization and
 *              x-amz-security-token headers (anonymous to s3rver). Rejections get S3's XML
 *              error and are counted: stats { accepted, rejected: {Code: n}, rejections:
 *              [{method, path, code, accessKeyId, afterExpiryMs}], keysUsed: {akid: n} }.
 *
 * Also exported: writeProfileFiles (~/.aws/config and credentials text), writeTokenFile
 * (web identity and container tokens, written without a trailing newline), s3Request (a
 * request through the proxy signed with AWS's JS signer) and listKeys.
 */
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex, verifySigV4 } from './sigv4_verify.mjs';
import { startS3rver } from '../../../job/lib/s3_peer.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../../../peers/package.json'));

export const ACCOUNT_ID = '123456789012';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomKeyChars = (n) => Array.from(randomBytes(n), (b) => B32[b % 32]).join('');
const isoSeconds = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const xmlEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// --- the credential authority ------------------------------------------------------------------

export class Authority {
  constructor({ lifetimeSeconds = 3600, stickySts = false } = {}) {
    this.lifetimeSeconds = lifetimeSeconds;
    this.stickySts = stickySts;
    this.keys = new Map();     // accessKeyId -> record
    this.current = new Map();  // `${issuer}|${subject}` -> record (rotation)
  }

  /// A long-term key (no expiry, no token unless given) that requests may be signed with.
  registerStatic(accessKeyId, secretAccessKey, sessionToken = null) {
    const rec = { accessKeyId, secretAccessKey, sessionToken, expiresAt: null, issuer: 'static', subject: accessKeyId, issuedAt: Date.now() };
    this.keys.set(accessKeyId, rec);
    return rec;
  }

  /// Fresh temporary credentials, or with `reuse` the subject's current ones while more than
  /// half their lifetime is left.
  issue(issuer, subject, { reuse = true } = {}) {
    const now = Date.now();
    const slot = `${issuer}|${subject}`;
    const cur = this.current.get(slot);
    if (reuse && cur && cur.expiresAt - now > this.lifetimeSeconds * 500) return cur;
    const rec = {
      accessKeyId: `ASIA${randomKeyChars(16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJ${randomBytes(120).toString('base64')}`,
      expiresAt: Math.floor((now + this.lifetimeSeconds * 1000) / 1000) * 1000,
      issuer, subject, issuedAt: now,
    };
    this.keys.set(rec.accessKeyId, rec);
    this.current.set(slot, rec);
    return rec;
  }

  find(accessKeyId) {
    return this.keys.get(accessKeyId) ?? null;
  }

  /// Every secret and session token known (what must never appear in a message).
  secrets() {
    return [...this.keys.values()].flatMap((r) => [r.secretAccessKey, r.sessionToken]).filter(Boolean);
  }
}

// --- small HTTP helpers -------------------------------------------------------------------------

/// An HTTP server on 127.0.0.1:0 whose stop() also cuts open (e.g. hanging) connections.
async function listen(handler) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`test server error: ${e.stack || e}`);
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const count = (obj, key) => { obj[key] = (obj[key] ?? 0) + 1; };

// --- IMDSv2 -------------------------------------------------------------------------------------

async function startImds(authority, { roleName = 'sluice-test-role', allowV1 = false, behavior = 'ok' } = {}) {
  const tokens = new Map();  // token -> expiry ms
  const imds = { roleName, allowV1, behavior, resetStats: () => { imds.stats = { requests: {}, tokenTtls: [], unauthorized: 0, credentials: [] }; } };
  imds.resetStats();
  const CREDS = '/latest/meta-data/iam/security-credentials/';
  const server = await listen(async (req, res) => {
    await readBody(req);
    const path = req.url.split('?')[0];
    count(imds.stats.requests, `${req.method} ${path}`);
    const ttlText = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
    if (req.method === 'PUT') imds.stats.tokenTtls.push(ttlText ?? null);
    if (imds.behavior === 'hang') return;  // never answer
    if (req.method === 'PUT' && path === '/latest/api/token') {
      const ttl = Number(ttlText);
      if (!ttlText || !/^\d+$/.test(ttlText) || ttl < 1 || ttl > 21600) return send(res, 400, 'text/plain', 'Bad Request');
      const token = randomBytes(40).toString('base64');
      tokens.set(token, Date.now() + ttl * 1000);
      return send(res, 200, 'text/plain', token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'Method Not Allowed');
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (token !== undefined || !imds.allowV1) {
      const until = tokens.get(token);
      if (!until || until < Date.now()) {
        imds.stats.unauthorized++;
        return send(res, 401, 'text/plain', 'Unauthorized');
      }
    }
    if (path === CREDS) return send(res, 200, 'text/plain', imds.roleName);
    if (path === CREDS + imds.roleName) {
      if (imds.behavior === 'garbage') return send(res, 200, 'text/plain', '{"Code": "Success", "AccessKeyId": <garbage');
      const c = authority.issue('imds', imds.roleName);
      imds.stats.credentials.push(c.accessKeyId);
      return send(res, 200, 'text/plain', JSON.stringify({
        Code: 'Success', LastUpdated: isoSeconds(c.issuedAt), Type: 'AWS-HMAC', AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: isoSeconds(c.expiresAt),
      }, null, 2));
    }
    return send(res, 404, 'text/html', '<html><body><h1>404 - Not Found</h1></body></html>');
  });
  return Object.assign(imds, { url: server.url, endpoint: server.url, stop: server.stop });
}

// --- container credentials endpoint -------------------------------------------------------------

async function startContainer(authority, { path = '/v1/credentials', token = `ctok-${randomBytes(12).toString('hex')}`, behavior = 'ok',
  roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/sluice-container-role` } = {}) {
  const c = { path, token, behavior, roleArn, resetStats: () => { c.stats = { requests: 0, unauthorized: 0, credentials: [] }; } };
  c.resetStats();
  const server = await listen(async (req, res) => {
    await readBody(req);
    c.stats.requests++;
    if (c.behavior === 'hang') return;
    const json = (status, obj) => send(res, status, 'application/json', JSON.stringify(obj));
    if (req.method !== 'GET' || req.url.split('?')[0] !== c.path) return json(404, { Code: 'NotFound', Message: 'no such path' });
    const auth = req.headers.authorization;
    if (auth !== c.token) {
      c.stats.unauthorized++;
      return auth === undefined ? json(401, { Code: 'AccessDenied', Message: 'Authorization header is missing' })
        : json(403, { Code: 'AccessDenied', Message: 'Authorization token is invalid' });
    }
    if (c.behavior === 'garbage') return send(res, 200, 'application/json', 'not json at all {');
    const cred = authority.issue('container', c.roleArn);
    c.stats.credentials.push(cred.accessKeyId);
    return json(200, { RoleArn: c.roleArn, AccessKeyId: cred.accessKeyId, SecretAccessKey: cred.secretAccessKey,
      Token: cred.sessionToken, Expiration: isoSeconds(cred.expiresAt) });
  });
  return Object.assign(c, { url: `${server.url}${path}`, base: server.url, stop: server.stop });
}

// --- STS ----------------------------------------------------------------------------------------

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function stsError(res, status, code, message) {
  send(res, status, 'text/xml', `<ErrorResponse xmlns="${STS_NS}">\n  <Error>\n    <Type>Sender</Type>\n` +
    `    <Code>${code}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n` +
    `  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`);
}

function stsResult(action, cred, roleArn, session, extra = '') {
  const role = roleArn.split('/').slice(1).join('/');
  return `<${action}Response xmlns="${STS_NS}">\n  <${action}Result>\n${extra}` +
    '    <AssumedRoleUser>\n' +
    `      <Arn>arn:aws:sts::${ACCOUNT_ID}:assumed-role/${xmlEscape(role)}/${xmlEscape(session)}</Arn>\n` +
    `      <AssumedRoleId>AROA${sha256Hex(roleArn).slice(0, 17).toUpperCase()}:${xmlEscape(session)}</AssumedRoleId>\n` +
    '    </AssumedRoleUser>\n    <Credentials>\n' +
    `      <AccessKeyId>${cred.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${cred.secretAccessKey}</SecretAccessKey>\n` +
    `      <SessionToken>${cred.sessionToken}</SessionToken>\n      <Expiration>${isoSeconds(cred.expiresAt)}</Expiration>\n` +
    `    </Credentials>\n  </${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${randomUUID()}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`;
}

async function startSts(authority, { webIdentityToken = `wit-${randomBytes(16).toString('hex')}`, behavior = 'ok' } = {}) {
  const sts = { webIdentityToken, behavior, resetStats: () => { sts.stats = { calls: [], rejections: [] }; } };
  sts.resetStats();
  const server = await listen(async (req, res) => {
    const body = await readBody(req);
    if (sts.behavior === 'hang') return;
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const p = Object.fromEntries(new URLSearchParams(req.method === 'POST' ? body.toString('utf8') : query));
    const call = { action: p.Action, roleArn: p.RoleArn, roleSessionName: p.RoleSessionName, durationSeconds: p.DurationSeconds,
      signed: Boolean(req.headers.authorization), contentType: req.headers['content-type'], userAgent: req.headers['user-agent'] };
    sts.stats.calls.push(call);
    const reject = (status, code, message) => {
      sts.stats.rejections.push({ ...call, code, message });
      stsError(res, status, code, message);
    };
    if (req.method !== 'POST' && req.method !== 'GET') return reject(405, 'InvalidAction', `method ${req.method}`);
    if (p.Action !== 'AssumeRole' && p.Action !== 'AssumeRoleWithWebIdentity') {
      return reject(400, 'InvalidAction', `Could not find operation ${p.Action} for version ${p.Version}`);
    }
    if (p.Version !== '2011-06-15') return reject(400, 'InvalidAction', `Could not find operation ${p.Action} for version ${p.Version}`);
    if (!/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(p.RoleArn ?? '')) return reject(400, 'ValidationError', `invalid RoleArn '${p.RoleArn}'`);
    if (!/^[\w+=,.@-]{2,64}$/.test(p.RoleSessionName ?? '')) {
      return reject(400, 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
    }
    if (p.DurationSeconds !== undefined && !(Number(p.DurationSeconds) >= 900 && Number(p.DurationSeconds) <= 43200)) {
      return reject(400, 'ValidationError', `DurationSeconds ${p.DurationSeconds} is outside 900..43200`);
    }
    let extra = '';
    if (p.Action === 'AssumeRoleWithWebIdentity') {
      if (p.WebIdentityToken !== sts.webIdentityToken) return reject(400, 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS.');
      extra = '    <SubjectFromWebIdentityToken>system:serviceaccount:test:sluice</SubjectFromWebIdentityToken>\n' +
        '    <Audience>sts.amazonaws.com</Audience>\n    <Provider>oidc.test.example</Provider>\n';
    } else {
      const v = verifySigV4({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body },
        { service: 'sts', lookup: (k) => authority.find(k) });
      call.callerKey = v.accessKeyId;
      if (!v.ok) return reject(v.status, v.code, v.message);
    }
    const cred = authority.issue(`sts:${p.Action}`, p.RoleArn, { reuse: authority.stickySts });
    call.issued = cred.accessKeyId;
    let xml = stsResult(p.Action, cred, p.RoleArn, p.RoleSessionName, extra);
    if (sts.behavior === 'malformed') xml = xml.slice(0, xml.indexOf('<SecretAccessKey>') + 20);
    send(res, 200, 'text/xml', xml);
  });
  return Object.assign(sts, { url: server.url, stop: server.stop });
}

// --- verifying S3 proxy in front of s3rver -------------------------------------------------------

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'expect', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function s3Error(res, status, code, message, resource) {
  send(res, status, 'application/xml', `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>${randomUUID()}</RequestId></Error>`);
}

async function startS3Proxy(authority, { dir, buckets = ['data'] }) {
  const s3rver = await startS3rver(dir, buckets);
  const target = new URL(s3rver.endpoint);
  const agent = new http.Agent({ keepAlive: true });
  const stats = { accepted: 0, rejected: {}, rejections: [], keysUsed: {} };
  const server = await listen(async (req, res) => {
    const arrival = Date.now();
    const body = await readBody(req);
    const v = verifySigV4({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body },
      { service: 's3', lookup: (k) => authority.find(k), now: arrival });
    if (!v.ok) {
      count(stats.rejected, v.code);
      stats.rejections.push({ method: req.method, path: req.url, code: v.code, message: v.message,
        accessKeyId: v.accessKeyId ?? null, afterExpiryMs: v.afterExpiryMs ?? null, at: new Date(arrival).toISOString() });
      return s3Error(res, v.status, v.code, v.message, req.url.split('?')[0]);
    }
    stats.accepted++;
    count(stats.keysUsed, v.accessKeyId);
    const headers = {};
    for (const [k, val] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(k) && k !== 'authorization' && k !== 'x-amz-security-token' && k !== 'host') headers[k] = val;
    }
    headers.host = target.host;
    headers['content-length'] = String(body.length);
    await new Promise((resolve) => {
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (ur) => {
        const out = {};
        for (const [k, val] of Object.entries(ur.headers)) if (!HOP_BY_HOP.has(k)) out[k] = val;
        res.writeHead(ur.statusCode, out);
        ur.pipe(res);
        ur.on('end', resolve);
        ur.on('error', resolve);
      });
      up.on('error', (e) => { s3Error(res, 502, 'BadGateway', `s3rver: ${e.message}`, req.url); resolve(); });
      up.end(body);
    });
  });
  return {
    url: server.url, stats, s3rverEndpoint: s3rver.endpoint,
    stop: async () => { await server.stop(); agent.destroy(); await s3rver.stop(); },
  };
}

// --- all together ----------------------------------------------------------------------------------

/// Starts the authority and every server. opts: { lifetimeSeconds, stickySts, imds: {...},
/// container: {...}, sts: {...}, s3: { dir?, buckets? } (no s3 option: no s3rver, no proxy) }.
export async function startServers(opts = {}) {
  const authority = new Authority({ lifetimeSeconds: opts.lifetimeSeconds ?? 3600, stickySts: opts.stickySts ?? false });
  const started = [];
  const stop = async () => { for (const s of started.reverse()) await s.stop().catch(() => {}); };
  try {
    const imds = await startImds(authority, opts.imds); started.push(imds);
    const container = await startContainer(authority, opts.container); started.push(container);
    const sts = await startSts(authority, opts.sts); started.push(sts);
    let s3 = null;
    if (opts.s3) {
      let dir = opts.s3.dir;
      let tmp = null;
      if (!dir) dir = tmp = mkdtempSync(join(tmpdir(), 'sluice-cred-s3-'));
      s3 = await startS3Proxy(authority, { ...opts.s3, dir });
      started.push(s3);
      if (tmp) started.unshift({ stop: async () => rmSync(tmp, { recursive: true, force: true }) });
    }
    const resetStats = () => { imds.resetStats(); container.resetStats(); sts.resetStats(); };
    return { authority, imds, container, sts, s3, stop, resetStats };
  } catch (e) {
    await stop();
    throw e;
  }
}

// --- files ------------------------------------------------------------------------------------------

/// INI text: { 'default': {k: v}, 'profile dev': {...}, 'services local': { sts: { endpoint_url: U } } }
/// (an object value is a sub-section: "sts =" then indented "endpoint_url = U").
export function iniText(sections) {
  let text = '';
  for (const [name, entries] of Object.entries(sections)) {
    text += `[${name}]\n`;
    for (const [k, v] of Object.entries(entries)) {
      if (v !== null && typeof v === 'object') {
        text += `${k} =\n`;
        for (const [sk, sv] of Object.entries(v)) text += `  ${sk} = ${sv}\n`;
      } else {
        text += `${k} = ${v}\n`;
      }
    }
    text += '\n';
  }
  return text;
}

/// Writes dir/config and dir/credentials (either may be omitted); returns their paths.
export function writeProfileFiles(dir, { config, credentials } = {}) {
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'config');
  const credentialsFile = join(dir, 'credentials');
  if (config) writeFileSync(configFile, typeof config === 'string' ? config : iniText(config));
  if (credentials) writeFileSync(credentialsFile, typeof credentials === 'string' ? credentials : iniText(credentials));
  return { configFile, credentialsFile };
}

/// A token file (web identity or container authorization), with no trailing newline: the SDK
/// sends the file's bytes as they are.
export function writeTokenFile(path, token) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, token);
  return path;
}

// --- signed S3 requests through the proxy (AWS's JS signer) ----------------------------------

/// { method, bucket, key?, query?: {k: v}, body?: Buffer, credentials: {accessKeyId,
/// secretAccessKey, sessionToken?}, region? } -> { status, body: Buffer }.
export async function s3Request(endpoint, { method, bucket, key = '', query = {}, body, credentials, region = 'us-east-1' }) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { HttpRequest, extendedEncodeURIComponent } = require('@smithy/core/protocols');
  const { Sha256 } = require('@aws-crypto/sha256-js');
  const url = new URL(endpoint);
  const path = `/${bucket}${key ? '/' + key.split('/').map(extendedEncodeURIComponent).join('/') : ''}`;
  const payload = body ?? Buffer.alloc(0);
  const request = new HttpRequest({
    method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query,
    headers: { host: url.host, 'x-amz-content-sha256': sha256Hex(payload), ...(body ? { 'content-length': String(payload.length) } : {}) },
    body: body ? payload : undefined,
  });
  const signer = new SignatureV4({ credentials, region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign(request);
  const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  const res = await fetch(`${endpoint}${path}${qs ? '?' + qs : ''}`, { method, headers: signed.headers, body: body ? payload : undefined });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/// Every key under prefix, listed through the proxy with ListObjectsV2 (signed).
export async function listKeys(endpoint, bucket, prefix, credentials) {
  const keys = [];
  let token;
  for (;;) {
    const query = { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) };
    const r = await s3Request(endpoint, { method: 'GET', bucket, query, credentials });
    const xml = r.body.toString('utf8');
    if (r.status !== 200) throw new Error(`ListObjectsV2 ${bucket}/${prefix}: HTTP ${r.status}: ${xml.slice(0, 300)}`);
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(m[1].replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml);
    if (!/<IsTruncated>true<\/IsTruncated>/.test(xml) || !next) return keys;
    token = next[1];
  }
}
