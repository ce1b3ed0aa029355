#!/usr/bin/env node
// run_credentials_tests.mjs --sluice BIN [--only NAME[,NAME]] [--oracle-only] [--work DIR] [--photos DIR] [--verbose]
//
// ctest entry point for sluice's AWS default credential chain. Cases:
//   servers_self_check      the test servers refuse what AWS refuses (server_checks.mjs)
//   <chain_cases.mjs names> `sluice s3 credentials --json` resolves what the AWS JS SDK's
//                           default chain resolves in each environment, and fails clearly on
//                           bad input
//   expiry_refresh          a ~15 s job on 4 s container credentials through the verifying S3
//                           proxy: no request arrives with expired credentials (expiry_case.mjs)
//   job_imds, job_web_identity, job_assume_role
//                           the same job on 4 s credentials from IMDS, web identity, a profile's role
//   run_fails_fast          `sluice run` on s3:// with no credentials: exit 2 before any work,
//                           naming every source tried (fail_fast_case.mjs)
//   expiry_static_control   (only with --only) the same job on static keys: checks the proxy
//                           against sluice's signer without any refresh
// --oracle-only runs servers_self_check and the chain cases with the SDK alone (checking that
// the SDK resolves every case to the expected provider through the servers); --sluice is then
// not needed. --verbose prints the SDK's line and what the servers saw for each chain case.
// Prints "ok NAME" / "FAIL NAME: why" per case, then "N passed, M failed"; exits 1 if any failed.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CASES, runChainCases, runProcess } from './chain_cases.mjs';
import { checkServers } from './server_checks.mjs';
import { expiryCase } from './expiry_case.mjs';
import { failFastCase } from './fail_fast_case.mjs';

function usage(msg) {
  process.stderr.write(`run_credentials_tests: ${msg}\nusage: node run_credentials_tests.mjs --sluice BIN [--only NAME[,NAME]] ` +
    '[--oracle-only] [--work DIR] [--photos DIR] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { only: null, oracleOnly: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--sluice') o.sluice = resolve(value());
    else if (a === '--only') o.only = value().split(',');
    else if (a === '--oracle-only') o.oracleOnly = true;
    else if (a === '--work') o.work = resolve(value());
    else if (a === '--photos') o.photos = resolve(value());
    else if (a === '--verbose') o.verbose = true;
    else usage(`unknown argument ${a}`);
  }
  if (!o.sluice && !o.oracleOnly) usage('--sluice is required (or --oracle-only)');
  const known = ['servers_self_check', 'expiry_refresh', 'job_imds', 'job_web_identity', 'job_assume_role', 'expiry_static_control',
    'run_fails_fast', ...CASES.map((c) => c.name)];
  const unknown = (o.only ?? []).filter((n) => !known.includes(n));
  if (unknown.length) usage(`unknown case(s) ${unknown.join(', ')}; cases: ${known.join(', ')}`);
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const wanted = (name, byDefault = true) => (o.only ? o.only.includes(name) : byDefault);
  if (o.work) mkdirSync(o.work, { recursive: true });
  const work = mkdtempSync(join(o.work ?? tmpdir(), 'credentials-'));
  let passed = 0, failed = 0;
  const single = async (name, fn) => {
    try {
      const note = await fn();
      console.log(`ok ${name}${note ? ` (${note})` : ''}`);
      passed++;
    } catch (e) {
      console.log(`FAIL ${name}: ${e.message}`);
      failed++;
    }
  };

  if (wanted('servers_self_check')) await single('servers_self_check', checkServers);
  const chainNames = CASES.map((c) => c.name).filter((n) => wanted(n));
  if (chainNames.length) {
    const sluiceCommand = (env) => runProcess([o.sluice, 's3', 'credentials', '--json'], env, 20_000);
    const r = await runChainCases({ sluiceCommand, oracleOnly: o.oracleOnly, only: chainNames, work, verbose: o.verbose });
    passed += r.passed;
    failed += r.failed;
  }
  if (!o.oracleOnly) {
    const common = { sluice: o.sluice, work, ...(o.photos ? { photos: o.photos } : {}), log: o.verbose ? console.log : () => {} };
    if (wanted('expiry_refresh')) await single('expiry_refresh', () => expiryCase({ ...common, source: 'container' }));
    for (const source of ['imds', 'web-identity', 'assume-role']) {  // a job from each other temporary source
      const name = `job_${source.replace('-', '_')}`;
      if (wanted(name)) await single(name, () => expiryCase({ ...common, source }));
    }
    if (wanted('run_fails_fast')) await single('run_fails_fast', () => failFastCase(common));
    if (wanted('expiry_static_control', false)) await single('expiry_static_control', () => expiryCase({ ...common, source: 'static' }));
  }

  console.log(`${passed} passed, ${failed} failed`);
  if (failed === 0) rmSync(work, { recursive: true, force: true });
  else console.log(`case files kept in ${work}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(`run_credentials_tests: ${e.stack || e}`);
  process.exit(1);
});
