#!/usr/bin/env node
/*
 * sdk_chain.mjs — the oracle: resolves credentials with the AWS JavaScript SDK's own default
 * chain (fromNodeProviderChain of @aws-sdk/credential-providers, pinned in tests/peers) in the
 * current environment (AWS_* variables, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, HOME)
 * and prints one JSON line:
 *
 *   {"provider":P,"access_key_id":"...","secret_sha256":"<hex>","session_token_sha256":"<hex>"|null,
 *    "expiration":"2026-11-25T12:00:00Z"|null}                                   exit 0
 *   {"error":"message"}                                                            exit 1
 *
 * P is environment, profile, process, assume-role, web-identity, container or imds. It comes
 * from the $source feature ids the SDK puts on the credentials (an STS assume-role on top of
 * any source is assume-role, and so on); the SDK's default chain tags neither IMDS nor the
 * container-metadata fallback, so for untagged credentials P is the chain link that answered,
 * read from the SDK's own debug log (remoteProvider::fromInstanceMetadata -> imds,
 * remoteProvider::fromHttp/fromContainerMetadata -> container). The secret and token are only
 * ever printed as sha256; expiration is ISO 8601 UTC to the second. SDK warnings go to stderr.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../../../peers/package.json'));
const { fromNodeProviderChain } = require('@aws-sdk/credential-providers');

const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

// Most derived first: an AssumeRole whose source came from the environment is assume-role.
const FEATURES = [
  ['CREDENTIALS_STS_ASSUME_ROLE', 'assume-role'],
  ['CREDENTIALS_STS_ASSUME_ROLE_WEB_ID', 'web-identity'],
  ['CREDENTIALS_PROCESS', 'process'],
  ['CREDENTIALS_HTTP', 'container'],
  ['CREDENTIALS_IMDS', 'imds'],
  ['CREDENTIALS_PROFILE', 'profile'],
  ['CREDENTIALS_ENV_VARS', 'environment'],
];

function providerOf(creds, debug) {
  const source = creds.$source ?? {};
  for (const [feature, provider] of FEATURES) if (feature in source) return provider;
  const remote = debug.filter((l) => l.includes('remoteProvider::')).pop() ?? '';
  if (remote.includes('fromInstanceMetadata')) return 'imds';
  if (remote.includes('fromContainerMetadata')) return 'container';
  return `unknown(${Object.keys(source).join(',') || 'no $source'})`;
}

async function main() {
  const debug = [];
  const logger = {
    trace() {}, info() {},
    debug: (...a) => debug.push(a.map(String).join(' ')),
    warn: (...a) => process.stderr.write(`sdk_chain: SDK warning: ${a.map(String).join(' ')}\n`),
    error: (...a) => process.stderr.write(`sdk_chain: SDK error: ${a.map(String).join(' ')}\n`),
  };
  try {
    const c = await fromNodeProviderChain({ logger })();
    const line = {
      provider: providerOf(c, debug),
      access_key_id: c.accessKeyId,
      secret_sha256: sha256(c.secretAccessKey),
      session_token_sha256: c.sessionToken ? sha256(c.sessionToken) : null,
      expiration: c.expiration ? c.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z') : null,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: String(e?.message ?? e) })}\n`);
    process.exitCode = 1;
  }
}

main();
