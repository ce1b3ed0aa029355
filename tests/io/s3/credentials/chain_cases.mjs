/*
 * chain_cases.mjs — the environments an AWS default credential chain must resolve, and the
 * comparison of sluice's chain (`sluice s3 credentials --json`) with the AWS JS SDK's
 * (sdk_chain.mjs) in each of them.
 *
 * CASES: each { name, servers?, expect, setup(ctx) -> { env, want } } or, for bad input,
 * { name, bad: { provider: RegExp, reason: RegExp, maxMs }, setup }. setup gets ctx = { dir (the
 * case's own temp dir), s (startServers(): authority, imds, container, sts), key(tag) (a static
 * key pair registered with the authority), secret(value) (one more value that must never be
 * printed), processCommand(mode, creds?) (a credential_process line) } and returns the
 * environment variables to add (null deletes one) and what the credentials must be: want =
 * { accessKeyId } (a static key) or { issuer, subject } (temporary credentials the authority
 * issued: issuer 'imds', 'container', 'sts:AssumeRole' or 'sts:AssumeRoleWithWebIdentity').
 * `expect` is the provider the SDK resolves to (for the precedence cases: what the SDK did,
 * which is the point of asking it).
 *
 * Every case runs in a clean environment: no AWS_* variable from outside, HOME and the
 * config/credentials files inside the case dir (absent unless written), AWS_REGION=us-east-1,
 * AWS_EC2_METADATA_DISABLED=true (so nothing ever reaches a real 169.254.169.254) unless the
 * case uses the IMDS server. Servers are started per case with stickySts (STS, IMDS and the
 * container endpoint give the same credentials to the SDK and then to sluice) and 1 h lifetimes.
 *
 * runChainCases({ sluiceCommand, oracleOnly, only, log, work, verbose }):
 *   every case: the SDK's line must name `expect` and the wanted credentials (this validates
 *   the servers). Unless oracleOnly, sluiceCommand(env) (-> { code, stdout, stderr, ms }) must
 *   then exit 0 with exactly one JSON line of the same five keys, equal to the SDK's in
 *   provider, access_key_id, secret_sha256, session_token_sha256 and expiration (the same
 *   instant, written YYYY-MM-DDTHH:MM:SS[.fff]Z, or both null); a case's check(ctx) then looks
 *   at what sluice asked the servers (e.g. IMDSv2's token). Bad cases: the SDK must fail too;
 *   sluice must exit 2 within maxMs (default 10 s), print nothing on stdout, and say on stderr
 *   which provider failed and why. No secret, session token, web identity token or container
 *   token may appear in sluice's stdout or stderr, ever. verbose logs each run's line and what
 *   the servers saw.
 * Returns { passed, failed }.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCOUNT_ID, startServers, writeProfileFiles, writeTokenFile } from './servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SDK_CHAIN = join(here, 'sdk_chain.mjs');
const PROCESS_SCRIPT = join(here, 'credential_process.mjs');
const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
const role = (name) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const KEYS = ['provider', 'access_key_id', 'secret_sha256', 'session_token_sha256', 'expiration'];

// --- environment pieces ---------------------------------------------------------------------

const envKeys = (k) => ({ AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey });
const profileKeys = (k) => ({ aws_access_key_id: k.accessKeyId, aws_secret_access_key: k.secretAccessKey });
const files = (ctx, spec) => {
  const f = writeProfileFiles(join(ctx.dir, 'aws'), spec);
  return { AWS_CONFIG_FILE: f.configFile, AWS_SHARED_CREDENTIALS_FILE: f.credentialsFile };
};
const webIdentityEnv = (ctx, roleName, { stsUrl = true } = {}) => ({
  AWS_WEB_IDENTITY_TOKEN_FILE: writeTokenFile(join(ctx.dir, 'web-identity-token'), ctx.s.sts.webIdentityToken),
  AWS_ROLE_ARN: role(roleName), AWS_ROLE_SESSION_NAME: 'sluice-wi-session',
  ...(stsUrl ? { AWS_ENDPOINT_URL_STS: ctx.s.sts.url } : {}),
});
const containerEnv = (ctx) => ({ AWS_CONTAINER_CREDENTIALS_FULL_URI: ctx.s.container.url, AWS_CONTAINER_AUTHORIZATION_TOKEN: ctx.s.container.token });
const imdsEnv = (ctx) => ({ AWS_EC2_METADATA_SERVICE_ENDPOINT: ctx.s.imds.endpoint, AWS_EC2_METADATA_DISABLED: null });
const fromContainer = (ctx) => ({ issuer: 'container', subject: ctx.s.container.roleArn });
const fromImds = (ctx) => ({ issuer: 'imds', subject: ctx.s.imds.roleName });

// --- the table -------------------------------------------------------------------------------

export const CASES = [
  { name: 'env_keys', expect: 'environment', setup: (ctx) => {
    const k = ctx.key('env');
    return { env: envKeys(k), want: { accessKeyId: k.accessKeyId } };
  } },
  { name: 'env_keys_session_token', expect: 'environment', setup: (ctx) => {
    const k = ctx.key('envtok');
    return { env: { ...envKeys(k), AWS_SESSION_TOKEN: ctx.secret(`envtoken-${randomBytes(20).toString('hex')}`) }, want: { accessKeyId: k.accessKeyId } };
  } },
  { name: 'profile_credentials_file', expect: 'profile', setup: (ctx) => {
    const k = ctx.key('dev');
    return { env: { AWS_PROFILE: 'dev', ...files(ctx, { credentials: { dev: profileKeys(k) }, config: { 'profile dev': { region: 'us-west-2' } } }) },
      want: { accessKeyId: k.accessKeyId } };
  } },
  { name: 'profile_config_file_only', expect: 'profile', setup: (ctx) => {
    const k = ctx.key('cfg');
    return { env: { AWS_PROFILE: 'cfg', ...files(ctx, { config: { 'profile cfg': { ...profileKeys(k), region: 'eu-west-1' } } }) },
      want: { accessKeyId: k.accessKeyId } };
  } },
  { name: 'profile_default_in_home', expect: 'profile', setup: (ctx) => {
    // No AWS_PROFILE, no AWS_*_FILE: [default] of $HOME/.aws/credentials.
    const k = ctx.key('home');
    writeProfileFiles(join(ctx.home, '.aws'), { credentials: { default: profileKeys(k) }, config: { default: { region: 'us-east-1' } } });
    return { env: { AWS_CONFIG_FILE: null, AWS_SHARED_CREDENTIALS_FILE: null }, want: { accessKeyId: k.accessKeyId } };
  } },
  { name: 'credentials_file_beats_config_file', expect: 'profile', setup: (ctx) => {
    const inCreds = ctx.key('increds'), inConfig = ctx.key('inconfig');
    return { env: { AWS_PROFILE: 'both', ...files(ctx, { credentials: { both: profileKeys(inCreds) }, config: { 'profile both': profileKeys(inConfig) } }) },
      want: { accessKeyId: inCreds.accessKeyId } };
  } },
  { name: 'credential_process', expect: 'process', setup: (ctx) => {
    const k = ctx.key('proc');
    const token = ctx.secret(`proctoken-${randomBytes(20).toString('hex')}`);
    const expiration = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000).toISOString().replace(/\.000Z$/, 'Z');
    const cmd = ctx.processCommand('print', { Version: 1, AccessKeyId: k.accessKeyId, SecretAccessKey: k.secretAccessKey, SessionToken: token, Expiration: expiration });
    return { env: { AWS_PROFILE: 'proc', ...files(ctx, { config: { 'profile proc': { credential_process: cmd } } }) }, want: { accessKeyId: k.accessKeyId } };
  } },
  { name: 'assume_role_source_profile', expect: 'assume-role', setup: (ctx) => {
    const src = ctx.key('src');
    return { env: { AWS_PROFILE: 'chained', AWS_ENDPOINT_URL_STS: ctx.s.sts.url,
      ...files(ctx, { credentials: { src: profileKeys(src) },
        config: { 'profile chained': { role_arn: role('chained'), source_profile: 'src', role_session_name: 'sluice-chain' } } }) },
    want: { issuer: 'sts:AssumeRole', subject: role('chained') } };
  } },
  { name: 'assume_role_services_endpoint', expect: 'assume-role', setup: (ctx) => {
    // STS endpoint from the profile's services section; no role_session_name (SDK: aws-sdk-js-<ms>).
    const src = ctx.key('src2');
    return { env: { AWS_PROFILE: 'svc', ...files(ctx, { credentials: { base: profileKeys(src) },
      config: { 'profile svc': { role_arn: role('svc'), source_profile: 'base', services: 'local' },
        'services local': { sts: { endpoint_url: ctx.s.sts.url } } } }) },
    want: { issuer: 'sts:AssumeRole', subject: role('svc') } };
  } },
  { name: 'assume_role_profile_endpoint_url', expect: 'assume-role', setup: (ctx) => {
    const src = ctx.key('src3');
    return { env: { AWS_PROFILE: 'epu', ...files(ctx, { credentials: { base: profileKeys(src) },
      config: { 'profile epu': { role_arn: role('epu'), source_profile: 'base', endpoint_url: ctx.s.sts.url } } }) },
    want: { issuer: 'sts:AssumeRole', subject: role('epu') } };
  } },
  { name: 'assume_role_two_hops', expect: 'assume-role', setup: (ctx) => {
    // second AssumeRole is signed with the first one's temporary credentials
    const src = ctx.key('root');
    return { env: { AWS_PROFILE: 'hop2', AWS_ENDPOINT_URL_STS: ctx.s.sts.url, ...files(ctx, { credentials: { root: profileKeys(src) },
      config: { 'profile hop1': { role_arn: role('hop1'), source_profile: 'root' },
        'profile hop2': { role_arn: role('hop2'), source_profile: 'hop1', role_session_name: 'sluice-hop2' } } }) },
    want: { issuer: 'sts:AssumeRole', subject: role('hop2') } };
  } },
  { name: 'web_identity_env', expect: 'web-identity', setup: (ctx) => ({
    env: webIdentityEnv(ctx, 'wi-env'), want: { issuer: 'sts:AssumeRoleWithWebIdentity', subject: role('wi-env') } }) },
  { name: 'web_identity_profile', expect: 'web-identity', setup: (ctx) => ({
    env: { AWS_PROFILE: 'wi', AWS_ENDPOINT_URL_STS: ctx.s.sts.url, ...files(ctx, { config: { 'profile wi': {
      web_identity_token_file: writeTokenFile(join(ctx.dir, 'wi-token'), ctx.s.sts.webIdentityToken),
      role_arn: role('wi-profile'), role_session_name: 'sluice-wi-profile' } } }) },
    want: { issuer: 'sts:AssumeRoleWithWebIdentity', subject: role('wi-profile') } }) },
  { name: 'container_token', expect: 'container', setup: (ctx) => ({ env: containerEnv(ctx), want: fromContainer(ctx) }) },
  { name: 'container_token_file', expect: 'container', setup: (ctx) => ({
    env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: ctx.s.container.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: writeTokenFile(join(ctx.dir, 'container-token'), ctx.s.container.token) },
    want: fromContainer(ctx) }) },
  { name: 'imds_v2', expect: 'imds', setup: (ctx) => ({ env: imdsEnv(ctx), want: fromImds(ctx) }),
    check: (ctx) => (ctx.s.imds.stats.tokenTtls.length === 0 ? 'IMDS saw no PUT /latest/api/token (IMDSv2 not used)' : null) },

  // precedence
  { name: 'env_beats_profile', expect: 'environment', setup: (ctx) => {
    const e = ctx.key('env'), p = ctx.key('prof');
    return { env: { ...envKeys(e), ...files(ctx, { credentials: { default: profileKeys(p) } }) }, want: { accessKeyId: e.accessKeyId } };
  } },
  { name: 'aws_profile_beats_env_keys', expect: 'profile', setup: (ctx) => {
    // The JS SDK skips the environment keys when AWS_PROFILE is set (with a warning).
    const e = ctx.key('env'), p = ctx.key('prof');
    return { env: { ...envKeys(e), AWS_PROFILE: 'dev', ...files(ctx, { credentials: { dev: profileKeys(p) } }) }, want: { accessKeyId: p.accessKeyId } };
  } },
  { name: 'env_beats_web_identity_env', expect: 'environment', setup: (ctx) => {
    const e = ctx.key('env');
    return { env: { ...envKeys(e), ...webIdentityEnv(ctx, 'wi-unused') }, want: { accessKeyId: e.accessKeyId } };
  } },
  { name: 'profile_beats_web_identity_env', expect: 'profile', setup: (ctx) => {
    // JS SDK order: env, profile (ini), process, web identity from env, container/IMDS.
    const p = ctx.key('prof');
    return { env: { ...webIdentityEnv(ctx, 'wi-unused'), ...files(ctx, { credentials: { default: profileKeys(p) } }) }, want: { accessKeyId: p.accessKeyId } };
  } },
  { name: 'profile_beats_container', expect: 'profile', setup: (ctx) => {
    const p = ctx.key('prof');
    return { env: { ...containerEnv(ctx), ...files(ctx, { credentials: { default: profileKeys(p) } }) }, want: { accessKeyId: p.accessKeyId } };
  } },
  { name: 'web_identity_env_beats_container', expect: 'web-identity', setup: (ctx) => ({
    env: { ...webIdentityEnv(ctx, 'wi-over-container'), ...containerEnv(ctx) },
    want: { issuer: 'sts:AssumeRoleWithWebIdentity', subject: role('wi-over-container') } }) },
  { name: 'container_beats_imds', expect: 'container', setup: (ctx) => ({ env: { ...imdsEnv(ctx), ...containerEnv(ctx) }, want: fromContainer(ctx) }),
    check: (ctx) => (ctx.s.imds.stats.credentials.length ? 'IMDS was asked for credentials although the container endpoint answered' : null) },

  // bad input: sluice must fail with exit 2 and say which provider and why
  { name: 'bad_imds_never_answers', servers: { imds: { behavior: 'hang' } },
    bad: { provider: /IMDS|instance metadata|EC2 metadata/i, reason: /time|no (answer|response)|did not (answer|respond)/i, maxMs: 10_000 },
    setup: (ctx) => ({ env: imdsEnv(ctx) }) },
  { name: 'bad_imds_garbage', servers: { imds: { behavior: 'garbage' } },
    bad: { provider: /IMDS|instance metadata|EC2 metadata/i, reason: /JSON|parse|invalid|malformed/i },
    setup: (ctx) => ({ env: imdsEnv(ctx) }) },
  { name: 'bad_sts_malformed_xml', servers: { sts: { behavior: 'malformed' } },
    bad: { provider: /web.identity|AssumeRoleWithWebIdentity/i, reason: /XML|malformed|parse|truncat|invalid/i },
    setup: (ctx) => ({ env: webIdentityEnv(ctx, 'wi-bad') }) },
  { name: 'bad_process_exit_nonzero',
    bad: { provider: /credential_process/, reason: /exit|status|code/i },
    setup: (ctx) => ({ env: { AWS_PROFILE: 'p', ...files(ctx, { config: { 'profile p': { credential_process: ctx.processCommand('fail') } } }) } }) },
  { name: 'bad_process_garbage',
    bad: { provider: /credential_process/, reason: /JSON|parse|invalid/i },
    setup: (ctx) => ({ env: { AWS_PROFILE: 'p', ...files(ctx, { config: { 'profile p': { credential_process: ctx.processCommand('garbage') } } }) } }) },
  { name: 'bad_web_identity_token_file_missing',
    bad: { provider: /web.identity|WEB_IDENTITY_TOKEN_FILE/i, reason: /web-identity-token-missing/ },
    setup: (ctx) => ({ env: { ...webIdentityEnv(ctx, 'wi-missing'), AWS_WEB_IDENTITY_TOKEN_FILE: join(ctx.dir, 'web-identity-token-missing') } }) },
  { name: 'bad_container_wrong_token',
    bad: { provider: /container|AWS_CONTAINER_CREDENTIALS_FULL_URI/i, reason: /403|denied|forbidden|unauthori[sz]ed/i },
    setup: (ctx) => ({ env: { ...containerEnv(ctx), AWS_CONTAINER_AUTHORIZATION_TOKEN: ctx.secret('not-the-token') } }) },
];

// --- running ---------------------------------------------------------------------------------

/// The case's environment: the process's without AWS_*, then the base, then the case's.
function caseEnv(ctx, extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  Object.assign(env, {
    HOME: ctx.home, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(ctx.dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(ctx.dir, 'no-aws-credentials'),
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  return env;
}

/// Runs a command asynchronously (the servers live in this process) with a time limit.
export function runProcess(argv, env, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [], err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: null, stdout: '', stderr: `cannot start ${argv[0]}: ${e.message}`, ms: 0 }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const runOracle = (env) => runProcess([process.execPath, SDK_CHAIN], env);

function parseLine(stdout, who) {
  const lines = stdout.split('\n').filter((l) => l.length);
  if (lines.length !== 1) throw new Error(`${who} printed ${lines.length} lines, want 1: ${JSON.stringify(stdout.slice(0, 500))}`);
  try {
    return JSON.parse(lines[0]);
  } catch {
    throw new Error(`${who} printed a line that is not JSON: ${lines[0].slice(0, 300)}`);
  }
}

/// Whether a resolved line is the credentials the case wants (checked on the SDK's line).
function checkWant(ctx, line, want) {
  if (want.accessKeyId && line.access_key_id !== want.accessKeyId) return `access_key_id ${line.access_key_id}, want ${want.accessKeyId}`;
  const rec = ctx.s.authority.find(line.access_key_id);
  if (!rec) return `access_key_id ${line.access_key_id} is unknown to the authority`;
  if (want.issuer && (rec.issuer !== want.issuer || rec.subject !== want.subject)) {
    return `credentials issued by ${rec.issuer} for ${rec.subject}, want ${want.issuer} for ${want.subject}`;
  }
  if (line.secret_sha256 !== sha256(rec.secretAccessKey)) return 'secret_sha256 is not the sha256 of the issued secret';
  if (rec.sessionToken && line.session_token_sha256 !== sha256(rec.sessionToken)) return 'session_token_sha256 is not the sha256 of the issued token';
  return null;
}

function sameLine(sdk, got) {
  const keys = Object.keys(got).sort();
  if (JSON.stringify(keys) !== JSON.stringify([...KEYS].sort())) return `sluice's line has keys ${keys}, want ${KEYS}`;
  for (const k of KEYS.slice(0, 4)) if (got[k] !== sdk[k]) return `${k}: sluice ${JSON.stringify(got[k])}, SDK ${JSON.stringify(sdk[k])}`;
  const t = (v) => (v === null ? null : Date.parse(v));
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
  if (t(got.expiration) !== t(sdk.expiration) || (got.expiration !== null && !iso.test(got.expiration))) {
    return `expiration: sluice ${got.expiration}, SDK ${sdk.expiration}`;
  }
  return null;
}

function logRun(log, name, who, r, line, s) {
  log(`  ${name}: ${who} (exit ${r.code}, ${r.ms} ms) ${line ? JSON.stringify(line) : r.stdout.trim()}` +
    `${r.stderr.trim() ? ` stderr: ${r.stderr.trim().slice(0, 400)}` : ''}`);
  for (const call of s.sts.stats.calls) log(`  ${name}: ${who} -> STS ${JSON.stringify(call)}`);
  if (Object.keys(s.imds.stats.requests).length) log(`  ${name}: ${who} -> IMDS ${JSON.stringify(s.imds.stats)}`);
  if (s.container.stats.requests) log(`  ${name}: ${who} -> container ${JSON.stringify(s.container.stats)}`);
}

function leaks(ctx, text) {
  const found = [...ctx.secrets, ...ctx.s.authority.secrets()].filter((v) => v && text.includes(v));
  return found.length ? `printed ${found.length} secret value(s) (e.g. one starting ${found[0].slice(0, 4)}...)` : null;
}

async function runCase(c, { sluiceCommand, oracleOnly, work, verbose, log }) {
  const dir = mkdtempSync(join(work, `${c.name}-`));
  const s = await startServers({ lifetimeSeconds: 3600, stickySts: true, ...(c.servers ?? {}) });
  const ctx = { dir, home: join(dir, 'home'), s, secrets: [] };
  mkdirSync(ctx.home, { recursive: true });
  ctx.secret = (v) => { ctx.secrets.push(v); return v; };
  ctx.key = (tag) => {
    const k = { accessKeyId: `AKIA${tag.toUpperCase().replace(/[^A-Z0-9]/g, '').padEnd(6, 'X').slice(0, 6)}${randomBytes(5).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64') };
    s.authority.registerStatic(k.accessKeyId, k.secretAccessKey);
    return k;
  };
  ctx.processCommand = (mode, json) => {
    let file = '';
    if (json) {
      file = join(dir, `process-${randomBytes(4).toString('hex')}.json`);
      writeFileSync(file, JSON.stringify(json, null, 2));
      if (json.SessionToken) ctx.secret(json.SessionToken);
    }
    return `${process.execPath} ${PROCESS_SCRIPT} ${mode}${file ? ` ${file}` : ''}`;
  };
  try {
    const { env: extra, want } = c.setup(ctx);
    ctx.secrets.push(s.sts.webIdentityToken, s.container.token);
    const env = caseEnv(ctx, extra);
    const sdk = await runOracle(env);
    const sdkLine = parseLine(sdk.stdout, 'sdk_chain.mjs');
    if (verbose) logRun(log, c.name, 'SDK', sdk, sdkLine, s);
    if (c.bad) {
      if (sdk.code === 0) throw new Error(`the SDK resolved credentials (${sdkLine.provider}) where it should fail: the server does not misbehave`);
    } else {
      if (sdk.code !== 0) throw new Error(`the SDK failed: ${sdkLine.error}; stderr: ${sdk.stderr.slice(0, 500)}`);
      if (sdkLine.provider !== c.expect) throw new Error(`the SDK resolved provider ${sdkLine.provider}, the table expects ${c.expect}`);
      const bad = checkWant(ctx, sdkLine, want) ?? c.check?.(ctx);
      if (bad) throw new Error(`SDK: ${bad}`);
    }
    if (oracleOnly) return;

    s.resetStats();  // c.check looks at what sluice asked the servers
    const r = await sluiceCommand(env);
    if (verbose) logRun(log, c.name, 'sluice', r, null, s);
    const what = `sluice s3 credentials --json (exit ${r.code}${r.signal ? ', ' + r.signal : ''}, ${r.ms} ms)`;
    const leak = leaks(ctx, r.stdout + r.stderr);
    if (leak) throw new Error(`${what} ${leak}`);
    if (c.bad) {
      const err = r.stderr.trim();
      if (r.code !== 2) throw new Error(`${what}: want exit 2; stdout ${r.stdout.slice(0, 300)}; stderr ${err.slice(0, 500)}`);
      if (r.stdout.trim()) throw new Error(`${what}: printed on stdout on failure: ${r.stdout.slice(0, 300)}`);
      if (r.ms > (c.bad.maxMs ?? 10_000)) throw new Error(`${what}: took ${r.ms} ms, over ${c.bad.maxMs ?? 10_000}`);
      if (!c.bad.provider.test(err)) throw new Error(`${what}: stderr does not name the provider (${c.bad.provider}): ${err.slice(0, 500)}`);
      if (!c.bad.reason.test(err)) throw new Error(`${what}: stderr does not give the reason (${c.bad.reason}): ${err.slice(0, 500)}`);
      return;
    }
    if (r.code !== 0) throw new Error(`${what}: ${r.stderr.slice(0, 800)}`);
    const diff = sameLine(sdkLine, parseLine(r.stdout, 'sluice'));
    if (diff) throw new Error(`${what} differs from the SDK: ${diff}`);
    const again = c.check?.(ctx);
    if (again) throw new Error(`after sluice: ${again}`);
  } finally {
    await s.stop();
  }
}

export async function runChainCases({ sluiceCommand, oracleOnly = false, only = null, log = console.log, work = null, verbose = false } = {}) {
  if (!oracleOnly && !sluiceCommand) throw new Error('runChainCases: sluiceCommand is required unless oracleOnly');
  const base = work ?? mkdtempSync(join(tmpdir(), 'sluice-cred-cases-'));
  mkdirSync(base, { recursive: true });
  let passed = 0, failed = 0;
  for (const c of CASES) {
    if (only && !only.includes(c.name)) continue;
    try {
      await runCase(c, { sluiceCommand, oracleOnly, work: base, verbose, log });
      for (const d of readdirSync(base).filter((n) => n.startsWith(`${c.name}-`))) rmSync(join(base, d), { recursive: true, force: true });
      log(`ok ${c.name}`);
      passed++;
    } catch (e) {
      log(`FAIL ${c.name}: ${e.message}`);
      failed++;
    }
  }
  if (!work && failed === 0) rmSync(base, { recursive: true, force: true });
  return { passed, failed };
}
