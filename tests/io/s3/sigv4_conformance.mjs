/*
 * sigv4_conformance.mjs — checks a SigV4 signer against AWS's own JS signer (smithy).
 *
 * Usage:
 *   node tests/io/s3/sigv4_conformance.mjs --dump <program> [-- <program args>]
 *   node tests/io/s3/sigv4_conformance.mjs               (oracle self-check only)
 *   node tests/io/s3/sigv4_conformance.mjs --print-cases (dump-program input, then exit)
 *   add --verbose to print the expected values of every case.
 *
 * For every case in sigv4_cases.mjs it computes the canonical request, string to sign,
 * signature and Authorization header with @smithy/signature-v4 configured as the AWS SDK's
 * S3 client uses it (service "s3", uriEscapePath false, applyChecksum false, fixed signing
 * date, x-amz-content-sha256 set by the caller), the path encoded like the SDK's S3
 * serializer does a greedy {Key+} label (extendedEncodeURIComponent per '/' segment).
 * AWS's published examples are also asserted against their documented signatures.
 *
 * Dump-program protocol: the program is run ONCE. Its stdin gets one JSON object per line,
 * then EOF:
 *   {"method":"GET","host":"127.0.0.1:9000","key_path":"/bucket/raw key=1.txt",
 *    "query":[["list-type","2"],["prefix","a b"]],"headers":[["range","bytes=0-9"]],
 *    "payload_sha256":"UNSIGNED-PAYLOAD"|"<64 hex>","region":"us-east-1",
 *    "access_key":"...","secret_key":"...","session_token":""|"...",
 *    "amz_date":"20261124T120000Z"}
 * key_path, query keys/values and header values are RAW (the program must encode them);
 * query pairs come in client order (the program must sort) and keys may repeat; header
 * names are lowercase. The program itself adds host, x-amz-date, x-amz-content-sha256
 * (= payload_sha256) and, when session_token is non-empty, x-amz-security-token, and signs
 * those plus every header given. Strings are UTF-8 (non-ASCII is not \u-escaped).
 * For each input line, in order, it writes one JSON line on stdout:
 *   {"canonical_request":"...","string_to_sign":"...","signature":"<64 hex>",
 *    "authorization":"AWS4-HMAC-SHA256 Credential=AK/20261124/us-east-1/s3/aws4_request,
 *                     SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=<hex>"}
 * stderr is passed through. Exit status: 0 only if every field of every case matches.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { CASES } from './sigv4_cases.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../peers/package.json'));
const { SignatureV4, getCanonicalHeaders, createScope } = require('@smithy/signature-v4');
const { HttpRequest, extendedEncodeURIComponent } = require('@smithy/core/protocols');
const { Sha256 } = require('@aws-crypto/sha256-js');

const FIELDS = ['canonical_request', 'string_to_sign', 'signature', 'authorization'];

/// SignatureV4 that remembers the canonical request and string to sign it computed.
class CapturingSigner extends SignatureV4 {
  createCanonicalRequest(...args) {
    this.canonicalRequest = super.createCanonicalRequest(...args);
    return this.canonicalRequest;
  }
  async createStringToSign(...args) {
    this.stringToSign = await super.createStringToSign(...args);
    return this.stringToSign;
  }
}

/// The AWS SDK's S3 path encoding for a greedy label: each segment encoded, '/' kept.
const encodePath = (raw) => raw.split('/').map(extendedEncodeURIComponent).join('/');

function parseAmzDate(s) {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(s);
  if (!m) throw new Error(`bad amz_date ${s}`);
  return new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/// What AWS's signer produces for one case.
async function oracle(k) {
  const credentials = { accessKeyId: k.access_key, secretAccessKey: k.secret_key,
    ...(k.session_token ? { sessionToken: k.session_token } : {}) };
  const signer = new CapturingSigner({ service: 's3', region: k.region, credentials,
    sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const query = {};
  for (const [name, value] of k.query) {
    if (!(name in query)) query[name] = value;
    else query[name] = [].concat(query[name], value);
  }
  const headers = { host: k.host, 'x-amz-content-sha256': k.payload_sha256 };
  for (const [name, value] of k.headers) headers[name] = value;
  const [hostname, port] = k.host.split(':');
  const request = new HttpRequest({ method: k.method, protocol: 'https:', hostname,
    port: port ? Number(port) : undefined, path: encodePath(k.key_path), query, headers });
  const signingDate = parseAmzDate(k.amz_date);

  let authorization;
  if (!('date' in headers)) {
    authorization = (await signer.signRequest(request, { signingDate })).headers.authorization;
  } else {
    // signRequest drops a Date header (it regenerates dates); AWS's PUT example signs one,
    // so run the same smithy steps signRequest runs, minus that removal.
    const { longDate, shortDate } = signer.formatDate(signingDate);
    request.headers['x-amz-date'] = longDate;
    if (k.session_token) request.headers['x-amz-security-token'] = k.session_token;
    const canonicalHeaders = getCanonicalHeaders(request);
    const scope = createScope(shortDate, k.region, 's3');
    const signature = await signer.getSignature(longDate, scope,
      signer.getSigningKey(credentials, k.region, shortDate, 's3'),
      signer.createCanonicalRequest(request, canonicalHeaders, k.payload_sha256));
    authorization = `AWS4-HMAC-SHA256 Credential=${k.access_key}/${scope}, ` +
      `SignedHeaders=${signer.getCanonicalHeaderList(canonicalHeaders)}, Signature=${signature}`;
  }
  return { canonical_request: signer.canonicalRequest, string_to_sign: signer.stringToSign,
    signature: /Signature=([0-9a-f]{64})$/.exec(authorization)[1], authorization };
}

/// The dump-program input line for a case (the table minus harness-only fields).
function inputLine(k) {
  const line = { ...k };
  delete line.name;
  delete line.expect_signature;
  return JSON.stringify(line);
}

/// Runs the dump program once over all cases; resolves to its stdout lines.
function runDump(argv, lines) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('dump program timed out after 60 s')); }, 60000);
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) process.stdout.write(`dump program exited with ${code ?? signal}\n`);
      resolve(out.split('\n').filter((l) => l.trim() !== ''));
    });
    child.stdin.on('error', () => {});  // it may exit before reading everything
    child.stdin.end(lines.map((l) => l + '\n').join(''));
  });
}

/// Line-by-line diff of two multi-line strings; lines JSON-quoted to show whitespace.
function diffLines(want, got) {
  const a = String(want).split('\n');
  const b = String(got ?? '').split('\n');
  const out = [];
  for (let i = 0; i < Math.max(a.length, b.length); ++i) {
    if (a[i] === b[i]) out.push(`      ${JSON.stringify(a[i])}`);
    else {
      if (i < a.length) out.push(`    - ${JSON.stringify(a[i])}   (expected, line ${i + 1})`);
      if (i < b.length) out.push(`    + ${JSON.stringify(b[i])}   (got)`);
    }
  }
  return out.join('\n');
}

function parseArgs(argv) {
  const o = { dump: null, printCases: false, verbose: false };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--dump' && i + 1 < argv.length) {
      o.dump = [argv[++i]];
      if (argv[i + 1] === '--') o.dump.push(...argv.slice(i + 2));
      if (argv[i + 1] === '--') break;
    } else if (argv[i] === '--print-cases') o.printCases = true;
    else if (argv[i] === '--verbose') o.verbose = true;
    else {
      process.stderr.write(`unknown argument ${argv[i]}\nusage: node sigv4_conformance.mjs ` +
        '[--dump PROGRAM [-- ARGS...]] [--print-cases] [--verbose]\n');
      process.exit(2);
    }
  }
  return o;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const lines = CASES.map(inputLine);
  if (opts.printCases) {
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  const expected = [];
  let failed = 0;
  for (const k of CASES) {
    const e = await oracle(k);
    expected.push(e);
    if (k.expect_signature && e.signature !== k.expect_signature) {
      failed++;
      process.stdout.write(`ORACLE FAIL ${k.name}: smithy gives ${e.signature}, AWS documents ` +
        `${k.expect_signature}\n`);
    }
    if (opts.verbose) process.stdout.write(`--- ${k.name}\n${inputLine(k)}\n${JSON.stringify(e, null, 1)}\n`);
  }
  if (!opts.dump) {
    process.stdout.write(`oracle self-check: ${CASES.length} cases signed, ` +
      `${CASES.filter((k) => k.expect_signature).length} AWS examples checked, ${failed} failed\n`);
    return failed ? 1 : 0;
  }

  const outLines = await runDump(opts.dump, lines);
  let passed = 0;
  CASES.forEach((k, i) => {
    const problems = [];
    let got = null;
    if (i >= outLines.length) problems.push('no output line');
    else {
      try { got = JSON.parse(outLines[i]); } catch (err) { problems.push(`output is not JSON: ${err.message}: ${outLines[i]}`); }
    }
    if (got) {
      for (const f of FIELDS) {
        if (got[f] === expected[i][f]) continue;
        if (typeof got[f] !== 'string') { problems.push(`${f} missing from the output line (or not a string)`); continue; }
        if (f === 'canonical_request' || f === 'string_to_sign') problems.push(`${f} differs:\n${diffLines(expected[i][f], got[f])}`);
        else problems.push(`${f} differs:\n    expected ${JSON.stringify(expected[i][f])}\n    got      ${JSON.stringify(got[f])}`);
      }
      if (k.expect_signature && got.signature !== k.expect_signature) problems.push(`signature is not AWS's documented ${k.expect_signature}`);
    }
    if (problems.length === 0) {
      passed++;
      process.stdout.write(`ok   ${String(i + 1).padStart(2)} ${k.name}\n`);
    } else {
      process.stdout.write(`FAIL ${String(i + 1).padStart(2)} ${k.name}\n  input: ${lines[i]}\n  ${problems.join('\n  ')}\n`);
    }
  });
  if (outLines.length > CASES.length) process.stdout.write(`note: ${outLines.length - CASES.length} extra output lines ignored\n`);
  failed += CASES.length - passed;
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`sigv4_conformance: ${err.code ? err.message : err.stack || err}\n`);
  process.exit(1);
});
