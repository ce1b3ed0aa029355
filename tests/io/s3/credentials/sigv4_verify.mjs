/*
 * sigv4_verify.mjs — server-side check of AWS Signature Version 4 header authentication, as
 * S3 and STS do it, for the test servers of servers.mjs (the STS AssumeRole endpoint and the
 * verifying S3 proxy). Written from AWS's published algorithm; servers.mjs's self-test signs
 * requests with AWS's own JS signer (@smithy/signature-v4) to check it.
 *
 * verifySigV4(request, { service, lookup, now }) recomputes the signature of a received
 * request from its method, raw path, raw query, raw headers and body:
 *   canonical URI    S3: the path's segments percent-decoded then encoded once as AWS does
 *                    (unreserved A-Za-z0-9-_.~ kept); other services: the raw path encoded again
 *   canonical query  every name=value decoded, encoded as above, sorted by name then value
 *   headers          the SignedHeaders, values trimmed with inner spaces collapsed, repeated
 *                    headers joined with ','
 *   payload          x-amz-content-sha256 (required for S3: 64 hex that must equal the body's
 *                    sha256, or UNSIGNED-PAYLOAD; STREAMING-* is refused as not implemented),
 *                    for other services that header or else the body's sha256
 * and answers { ok: true, accessKeyId, record } or { ok: false, status, code, message,
 * accessKeyId, afterExpiryMs } with the error S3 / STS would give, checked in this order:
 * no Authorization (presigned URLs are not supported), malformed header or scope, wrong
 * service, missing/bad x-amz-date, clock skew over 15 min, unknown key, expired temporary
 * key (ExpiredToken 400; afterExpiryMs = how long after its expiry the request arrived),
 * session token absent or different from the one issued with the key, x-amz-* headers left
 * unsigned (S3 only), payload hash, signature.
 *
 * lookup(accessKeyId) returns { secretAccessKey, sessionToken|null, expiresAt: ms|null } or null.
 */
import { createHash, createHmac } from 'node:crypto';

export const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

/// Bytes of a percent-encoded string (%XX become bytes, everything else its UTF-8).
function percentDecode(s) {
  const out = [];
  for (let i = 0; i < s.length; ++i) {
    if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(s[i], 'utf8'));
    }
  }
  return Buffer.from(out);
}

/// SigV4's UriEncode of bytes or a string: all but A-Z a-z 0-9 - _ . ~ as %XX (upper case).
export function uriEncode(value, keepSlash = false) {
  let out = '';
  for (const b of Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function canonicalUri(rawPath, service) {
  if (service !== 's3') return uriEncode(rawPath || '/', true);
  return (rawPath || '/').split('/').map((seg) => uriEncode(percentDecode(seg))).join('/');
}

function canonicalQuery(rawQuery) {
  if (!rawQuery) return '';
  const pairs = rawQuery.split('&').filter(Boolean).map((p) => {
    const eq = p.indexOf('=');
    const [k, v] = eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    return [uriEncode(percentDecode(k)), uriEncode(percentDecode(v))];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/// name (lower case) -> values in arrival order, from Node's rawHeaders.
function headerValues(rawHeaders) {
  const m = new Map();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!m.has(name)) m.set(name, []);
    m.get(name).push(rawHeaders[i + 1]);
  }
  return m;
}

function parseAuthorization(value) {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(value ?? '');
  if (!m) return null;
  const parts = {};
  for (const kv of m[1].split(',')) {
    const eq = kv.indexOf('=');
    if (eq < 0) return null;
    parts[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
  }
  const scope = (parts.Credential ?? '').split('/');
  if (scope.length !== 5 || !parts.SignedHeaders || !/^[0-9a-f]{64}$/.test(parts.Signature ?? '')) return null;
  const [accessKeyId, date, region, service, terminator] = scope;
  return { accessKeyId, date, region, service, terminator, signedHeaders: parts.SignedHeaders.split(';'), signature: parts.Signature };
}

const amzDateMs = (d) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15));

/// The signature of a canonical request (exported for the self-test's hand-made cases).
export function signatureOf(secret, amzDate, scope, canonicalRequest) {
  const [date, region, service] = scope.split('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/// request: { method, url (raw path?query), rawHeaders, body: Buffer }.
export function verifySigV4(request, { service, lookup, now = Date.now() }) {
  const s3 = service === 's3';
  const fail = (status, code, message, extra = {}) => ({ ok: false, status, code, message, ...extra });
  const headers = headerValues(request.rawHeaders);
  const one = (name) => headers.get(name)?.join(',');
  const qmark = request.url.indexOf('?');
  const rawPath = qmark < 0 ? request.url : request.url.slice(0, qmark);
  const rawQuery = qmark < 0 ? '' : request.url.slice(qmark + 1);

  const authHeader = one('authorization');
  if (!authHeader) {
    if (/(^|&)X-Amz-Signature=/i.test(rawQuery)) return fail(403, 'AccessDenied', 'presigned URLs are not supported by this test server');
    return s3 ? fail(403, 'AccessDenied', 'Anonymous access is not allowed (no Authorization header)')
      : fail(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  }
  const auth = parseAuthorization(authHeader);
  const malformed = s3 ? 'AuthorizationHeaderMalformed' : 'IncompleteSignature';
  if (!auth) return fail(400, malformed, `The authorization header is malformed: ${authHeader.replace(/Signature=\w+/, 'Signature=...')}`);
  const { accessKeyId } = auth;
  if (auth.service !== service || auth.terminator !== 'aws4_request') {
    return fail(400, malformed, `credential scope names service '${auth.service}', expected '${service}'`, { accessKeyId });
  }
  const amzDate = one('x-amz-date');
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) return fail(403, 'AccessDenied', 'missing or malformed x-amz-date', { accessKeyId });
  if (amzDate.slice(0, 8) !== auth.date) return fail(400, malformed, `scope date ${auth.date} is not the date of x-amz-date ${amzDate}`, { accessKeyId });
  if (Math.abs(now - amzDateMs(amzDate)) > 15 * 60_000) {
    return fail(403, 'RequestTimeTooSkewed', `x-amz-date ${amzDate} is more than 15 minutes from the server's time`, { accessKeyId });
  }

  const record = lookup(accessKeyId);
  if (!record) {
    return s3 ? fail(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { accessKeyId })
      : fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.', { accessKeyId });
  }
  if (record.expiresAt != null && now >= record.expiresAt) {
    return fail(400, 'ExpiredToken', 'The provided token has expired.', { accessKeyId, afterExpiryMs: now - record.expiresAt });
  }
  const token = one('x-amz-security-token');
  if ((record.sessionToken ?? null) !== (token ?? null)) {
    const what = token ? 'does not match the access key' : 'is missing for temporary credentials';
    return s3 ? fail(400, 'InvalidToken', `The session token ${what}.`, { accessKeyId })
      : fail(403, 'InvalidClientTokenId', `The security token ${what}.`, { accessKeyId });
  }
  if (!auth.signedHeaders.includes('host')) return fail(403, 'SignatureDoesNotMatch', "'host' must be a signed header", { accessKeyId });
  if (s3) {
    const unsigned = [...headers.keys()].filter((h) => h.startsWith('x-amz-') && !auth.signedHeaders.includes(h));
    if (unsigned.length) return fail(403, 'AccessDenied', `There were headers present in the request which were not signed: ${unsigned.join(', ')}`, { accessKeyId });
  }

  let payloadHash = one('x-amz-content-sha256');
  if (s3 && !payloadHash) return fail(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', { accessKeyId });
  if (payloadHash?.startsWith('STREAMING-')) return fail(400, 'NotImplemented', `x-amz-content-sha256 ${payloadHash} is not supported by this test server`, { accessKeyId });
  if (payloadHash && payloadHash !== 'UNSIGNED-PAYLOAD') {
    if (!/^[0-9a-f]{64}$/.test(payloadHash)) return fail(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or 64 lower-case hex', { accessKeyId });
    if (payloadHash !== sha256Hex(request.body)) {
      return fail(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", { accessKeyId });
    }
  }
  payloadHash ??= sha256Hex(request.body);

  const canonicalHeaders = auth.signedHeaders.map((h) => {
    const values = (headers.get(h) ?? []).map((v) => v.trim().replace(/\s+/g, ' '));
    return `${h}:${values.join(',')}\n`;
  }).join('');
  const canonicalRequest = [request.method, canonicalUri(rawPath, service), canonicalQuery(rawQuery),
    canonicalHeaders, auth.signedHeaders.join(';'), payloadHash].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  if (signatureOf(record.secretAccessKey, amzDate, scope, canonicalRequest) !== auth.signature) {
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', { accessKeyId });
  }
  return { ok: true, accessKeyId, record };
}
