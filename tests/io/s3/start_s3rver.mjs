/*
 * start_s3rver.mjs — start a real S3 server (s3rver 3.7, npm) on 127.0.0.1 for tests.
 *
 * Usage:
 *   node tests/io/s3/start_s3rver.mjs --dir <empty dir> [--bucket NAME ...] [--ignore-stdin]
 *
 * Listens on 127.0.0.1 on a free port (port 0), silent, creates the buckets, then prints
 * exactly one line on stdout: {"port":N}. Runs until stdin reaches EOF (the test that
 * started it exits or closes the pipe) or SIGTERM/SIGINT, then exits 0. --ignore-stdin
 * keeps it running when stdin is /dev/null (manual use; stop it with a signal).
 * Dependencies come from tests/peers/node_modules (scripts/setup.sh installs them).
 *
 * Self-contained on Node 20: s3rver encrypts ListObjectsV2 continuation tokens with DES,
 * which OpenSSL 3 only has in its legacy provider. If DES is unavailable this script
 * re-executes itself with --openssl-legacy-provider (stdio inherited, signals forwarded).
 *
 * s3rver 3.7.1 behaviours measured with curl on Node 20 (differences from AWS marked *):
 *  Auth
 *  - No Authorization header = anonymous; every operation is allowed.
 *  * A SigV4 Authorization header is parsed but the signature is NEVER verified (check
 *    signing with sigv4_conformance.mjs instead). What it does check: access key id must be
 *    S3RVER (else 403 InvalidAccessKeyId); x-amz-content-sha256 present (else 400
 *    InvalidRequest) and UNSIGNED-PAYLOAD / STREAMING-... / 64 hex (else 400
 *    InvalidArgument), never compared with the body; x-amz-date (or Date) within 15 min of
 *    the server clock (else 403 RequestTimeTooSkewed; missing: 403 AccessDenied); exactly
 *    the components Credential, SignedHeaders, Signature (else 400 AuthorizationHeaderMalformed).
 *  GET / HEAD / Range
 *  - GET/HEAD give ETag ("md5 hex", quoted), Content-Length, Last-Modified, Accept-Ranges;
 *    Content-Type is whatever the PUT sent. HEAD of a missing key: 404, no body.
 *  - bytes=a-b and bytes=a- give 206 + Content-Range; an end past EOF is clamped;
 *    a start >= size gives 416 InvalidRange (XML with ActualObjectSize). HEAD honours Range.
 *  * Suffix ranges are WRONG: bytes=-N is served as bytes=0-N (N+1 bytes from the start).
 *  * bytes=5-2 gives 416 (AWS ignores it, 200); bytes=0-1,4-5 gives 206 with the whole
 *    object; bytes=0-0 on an empty object gives 206 "bytes 0-0/0" (AWS: 416).
 *  PUT / DELETE
 *  - PUT returns 200 + ETag; chunked PUT (no Content-Length) works; x-amz-meta-* kept.
 *    DELETE returns 204, also for a missing key.
 *  ListObjectsV2
 *  - Without the legacy provider a listing works until a page is truncated; building
 *    NextContinuationToken then fails with 500 (DES). Tokens are base64 (contain '+', '/',
 *    '=') and must be percent-encoded: a raw '+' (read as space) gives 500 InternalError;
 *    a garbage token gives 400 InvalidArgument. max-keys=0 gives an empty, untruncated page.
 *  * encoding-type=url is IGNORED: keys come back raw, with no <EncodingType> element, so
 *    only url-decode keys when the response says <EncodingType>url</EncodingType>.
 *  - Text is XML-escaped with numeric references: ' -> &#x27;, ETag quotes -> &quot;.
 *  - With delimiter, <Contents> come before <CommonPrefixes>. StartAfter works.
 *  Multipart
 *  - POST ?uploads -> UploadId (32 hex). PUT ?partNumber=&uploadId= -> 200 with an ETag
 *    header (quoted md5 of the part). POST ?uploadId= with CompleteMultipartUpload -> 200.
 *  * The final ETag is the md5 of the WHOLE object, not AWS's "<md5 of md5s>-<N>".
 *  * Part ETags in the Complete XML are not checked (wrong or unquoted ones are accepted);
 *    a listed part that was never uploaded gives 500 InternalError (AWS: 400 InvalidPart).
 *  * No 5 MiB minimum part size; partNumber 0 or 10001 and unknown uploadIds are accepted
 *    by UploadPart (200).
 *  * AbortMultipartUpload (DELETE ?uploadId=) is NOT implemented: 405 MethodNotAllowed.
 *    ListMultipartUploads (GET bucket?uploads) is 501 NotImplemented; ListParts (GET
 *    key?uploadId=) is 405 MethodNotAllowed.
 *  Keys (sent percent-encoded in the path; s3rver decodes it)
 *  - '=', ' ', '+' (%2B), '~', '%' (%25), '!'()*', unicode (UTF-8) and a trailing '/'
 *    round-trip through PUT, GET and ListObjectsV2. A raw '+' in the path is '+', not ' '.
 *  * A literal '//' in the path gives 404 with a plain-text "Not Found" body (router);
 *    '%2F%2F' is stored as a single '/' (keys are files), so "a//b" and "a/b" collide.
 *  - Errors are XML <Error><Code/><Message/>...</Error>; unrouted paths are plain text.
 *  * A GET racing a PUT/DELETE of the same key can be cut short (socket closed mid-body):
 *    tests that need clean reads must not overwrite the key they are reading.
 */
import { spawn } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../peers/package.json'));

/// Parses --dir, --bucket (repeatable) and --ignore-stdin; exits 2 on bad usage.
function parseArgs(argv) {
  const opts = { dir: null, buckets: [], ignoreStdin: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--dir' && i + 1 < argv.length) opts.dir = argv[++i];
    else if (a === '--bucket' && i + 1 < argv.length) opts.buckets.push(argv[++i]);
    else if (a === '--ignore-stdin') opts.ignoreStdin = true;
    else usage(`unknown or incomplete argument: ${a}`);
  }
  if (!opts.dir) usage('--dir is required');
  return opts;
}

function usage(msg) {
  process.stderr.write(`start_s3rver: ${msg}\n` +
    'usage: node start_s3rver.mjs --dir <empty dir> [--bucket NAME ...] [--ignore-stdin]\n');
  process.exit(2);
}

/// True when OpenSSL can make a DES cipher (needed for ListObjectsV2 continuation tokens).
function desAvailable() {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

/// Runs this script again under --openssl-legacy-provider and mirrors its exit status.
function reexecWithLegacyProvider() {
  const child = spawn(process.execPath,
    ['--openssl-legacy-provider', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const S3rver = require('s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: path.resolve(opts.dir),
    configureBuckets: opts.buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    try { await server.close(); } catch { /* already closed */ }
    process.exit(0);
  };
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, shutdown);
  if (!opts.ignoreStdin) {
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.resume();  // we never use the data; reading is how we see EOF
  }
  process.stdout.write(JSON.stringify({ port }) + '\n');
}

if (desAvailable()) {
  main().catch((err) => {
    process.stderr.write(`start_s3rver: ${err.stack || err}\n`);
    process.exit(1);
  });
} else {
  reexecWithLegacyProvider();
}
