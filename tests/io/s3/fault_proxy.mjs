/*
 * fault_proxy.mjs — fault-injecting HTTP/1.1 reverse proxy in front of an S3 server (tests).
 *
 * Usage:
 *   node tests/io/s3/fault_proxy.mjs --target http://127.0.0.1:PORT
 *        [--rates 503=0.1,slowdown=0.05,reset=0.05,stall=0.02,truncate=0.05]
 *        [--stall-ms 5000] [--latency-ms 0] [--seed N] [--ignore-stdin]
 *
 * Listens on 127.0.0.1 on a free port, prints one line {"port":N} on stdout, and runs until
 * stdin reaches EOF or SIGTERM/SIGINT (exit 0). Rates default to 0 (a clean proxy).
 *
 * Each proxied request draws one fault or none from a seeded PRNG (mulberry32; the same
 * seed and the same request order give the same faults), for every method alike:
 *   503       answer 503 + S3 XML error Code ServiceUnavailable; nothing is forwarded.
 *   slowdown  answer 503 + Code SlowDown; nothing is forwarded.
 *   reset     destroy the client socket (TCP RST) as soon as the request head arrives;
 *             nothing is forwarded, a request body is not read.
 *   stall     forward; hold the upstream response --stall-ms before sending any byte of it
 *             (the upstream DID apply the request; the client should time out).
 *   truncate  forward; send the upstream status + headers (full Content-Length) and only
 *             the first half of the body, then close the socket. If the response has no
 *             body (Content-Length 0, 204), nothing at all is sent: the upstream applied the
 *             request but the client sees the connection close. Never drawn for HEAD.
 * --latency-ms N holds every unfaulted response N ms before its first byte, like an object
 * store's time to first byte (for benchmarks on loopback).
 * Everything else is forwarded verbatim: method, path + query (raw bytes), headers (incl.
 * Host and Authorization) and streamed bodies; hop-by-hop headers (Connection, Keep-Alive,
 * Expect, Transfer-Encoding) are handled per hop. Client connections are kept alive.
 *
 * Control endpoints (never faulted, not counted):
 *   GET  /__proxy/stats              -> {"requests":{"GET":n,..},"faults":{"503":n,..},
 *                                        "faults_by_method":{"GET":{"503":n}},"rates":{..},
 *                                        "upstream_errors":n}
 *   POST /__proxy/rates?503=0&reset=0.2  sets the named rates (others kept), returns them.
 * Upstream connection errors give 502 (XML Code BadGateway) and count as upstream_errors.
 */
import http from 'node:http';
import { makeRng } from '../../support/rng.mjs';

const KINDS = ['503', 'slowdown', 'reset', 'stall', 'truncate'];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'expect', 'transfer-encoding',
  'proxy-connection', 'upgrade', 'te', 'trailer']);

function usage(msg) {
  process.stderr.write(`fault_proxy: ${msg}\nusage: node fault_proxy.mjs --target ` +
    'http://127.0.0.1:PORT [--rates 503=0.1,...] [--stall-ms MS] [--seed N] [--ignore-stdin]\n');
  process.exit(2);
}

/// Applies "kind=rate" pairs (from --rates or a query string) onto `rates`; throws on junk.
function applyRates(rates, pairs) {
  const next = { ...rates };
  for (const [kind, value] of pairs) {
    const r = Number(value);
    if (!KINDS.includes(kind)) throw new Error(`unknown fault kind '${kind}'`);
    if (value === '' || !(r >= 0 && r <= 1)) throw new Error(`bad rate '${kind}=${value}'`);
    next[kind] = r;
  }
  const sum = KINDS.reduce((s, k) => s + next[k], 0);
  if (sum > 1 + 1e-9) throw new Error(`rates sum to ${sum} > 1`);
  return next;
}

function parseArgs(argv) {
  const o = { target: null, rates: Object.fromEntries(KINDS.map((k) => [k, 0])),
    stallMs: 5000, latencyMs: 0, seed: 1, ignoreStdin: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--target') o.target = new URL(val());
    else if (a === '--rates') {
      const pairs = val().split(',').filter(Boolean).map((p) => p.split('='));
      try { o.rates = applyRates(o.rates, pairs); } catch (e) { usage(e.message); }
    } else if (a === '--stall-ms') o.stallMs = Number(val());
    else if (a === '--latency-ms') o.latencyMs = Number(val());
    else if (a === '--seed') o.seed = Number(val()) >>> 0;
    else if (a === '--ignore-stdin') o.ignoreStdin = true;
    else usage(`unknown argument ${a}`);
  }
  if (!o.target || o.target.protocol !== 'http:') usage('--target http://HOST:PORT is required');
  if (!(o.stallMs >= 0)) usage('--stall-ms must be >= 0');
  if (!(o.latencyMs >= 0)) usage('--latency-ms must be >= 0');
  return o;
}


const opts = parseArgs(process.argv.slice(2));
const rng = makeRng(opts.seed);
const stats = { requests: {}, faults: Object.fromEntries(KINDS.map((k) => [k, 0])),
  faults_by_method: {}, upstream_errors: 0 };
const upstreamAgent = new http.Agent({ keepAlive: true });
let requestSeq = 0;

/// One draw per request; truncate drawn for HEAD means no fault (HEAD has no body).
function drawFault(method) {
  const r = rng();
  let acc = 0;
  for (const k of KINDS) {
    acc += opts.rates[k];
    if (r < acc) return k === 'truncate' && method === 'HEAD' ? null : k;
  }
  return null;
}

function sendXmlError(res, status, code, message) {
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code +
    '</Code><Message>' + message + '</Message><RequestId>fault-proxy-' + requestSeq +
    '</RequestId></Error>';
  res.writeHead(status, { 'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body), 'x-amz-request-id': `fault-proxy-${requestSeq}` });
  res.end(body);
}

/// Raw header pairs minus hop-by-hop ones, as a flat [name, value, ...] array.
function endToEnd(rawHeaders) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

/// Forwards req upstream; calls onResponse(upRes) or answers 502 itself.
function forward(req, res, onResponse) {
  const headers = endToEnd(req.rawHeaders);
  if (req.headers['transfer-encoding']) headers.push('Transfer-Encoding', 'chunked');
  const upReq = http.request({ host: opts.target.hostname, port: opts.target.port,
    method: req.method, path: req.url, headers, agent: upstreamAgent }, onResponse);
  upReq.on('error', () => {
    stats.upstream_errors++;
    if (!res.headersSent && !res.destroyed) sendXmlError(res, 502, 'BadGateway', 'upstream error');
    else res.destroy();
  });
  res.on('close', () => { if (!res.writableFinished) upReq.destroy(); });
  req.pipe(upReq);
}

function relay(res, upRes) {
  res.writeHead(upRes.statusCode, upRes.statusMessage, endToEnd(upRes.rawHeaders));
  upRes.pipe(res);
  res.on('close', () => upRes.destroy());
}

/// Sends status + headers and the first half of the body, then closes the socket.
function truncate(res, upRes) {
  const socket = res.socket;
  let done = false;
  const hangUp = () => {
    if (done) return;
    done = true;
    upRes.destroy();
    socket.end();  // flushes what was written, then FIN
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  const length = Number(upRes.headers['content-length']);
  if (upRes.statusCode === 204 || upRes.statusCode === 304 || length === 0) return hangUp();
  res.writeHead(upRes.statusCode, upRes.statusMessage, endToEnd(upRes.rawHeaders));
  let budget = Number.isFinite(length) ? Math.floor(length / 2) : -1;
  upRes.on('data', (chunk) => {
    if (done) return;
    if (budget < 0) budget = Math.floor(chunk.length / 2);  // chunked: half the first chunk
    const part = chunk.subarray(0, budget);
    budget -= part.length;
    if (part.length) res.write(part);
    if (budget === 0) { res.flushHeaders(); hangUp(); }
  });
  upRes.on('end', () => { res.flushHeaders(); hangUp(); });
}

function handleControl(req, res, url) {
  const reply = (status, obj) => {
    const body = JSON.stringify(obj) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  req.resume();
  if (req.method === 'GET' && url.pathname === '/__proxy/stats') return reply(200, { ...stats, rates: opts.rates });
  if (req.method === 'POST' && url.pathname === '/__proxy/rates') {
    try {
      opts.rates = applyRates(opts.rates, [...url.searchParams]);
      return reply(200, opts.rates);
    } catch (e) {
      return reply(400, { error: e.message });
    }
  }
  return reply(404, { error: `no control endpoint ${req.method} ${url.pathname}` });
}

function handle(req, res) {
  const url = new URL(req.url, 'http://proxy');
  if (url.pathname.startsWith('/__proxy/')) return handleControl(req, res, url);
  requestSeq++;
  stats.requests[req.method] = (stats.requests[req.method] || 0) + 1;
  const fault = drawFault(req.method);
  if (fault) {
    stats.faults[fault]++;
    const byMethod = (stats.faults_by_method[req.method] ||= {});
    byMethod[fault] = (byMethod[fault] || 0) + 1;
  }
  switch (fault) {
    case '503':
      req.resume();  // drain the body so the connection stays usable
      return sendXmlError(res, 503, 'ServiceUnavailable', 'Service is unable to handle request.');
    case 'slowdown':
      req.resume();
      return sendXmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
    case 'reset':
      return req.socket.resetAndDestroy();
    case 'stall':
      return forward(req, res, (upRes) => {
        const timer = setTimeout(() => relay(res, upRes), opts.stallMs);
        res.on('close', () => { clearTimeout(timer); upRes.destroy(); });
      });
    case 'truncate':
      return forward(req, res, (upRes) => truncate(res, upRes));
    default:
      if (opts.latencyMs > 0) {  // an object store's first-byte latency (benchmarks)
        return forward(req, res, (upRes) => {
          const timer = setTimeout(() => relay(res, upRes), opts.latencyMs);
          res.on('close', () => clearTimeout(timer));
        });
      }
      return forward(req, res, (upRes) => relay(res, upRes));
  }
}

const server = http.createServer(handle);
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
const shutdown = () => process.exit(0);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, shutdown);
if (!opts.ignoreStdin) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}
