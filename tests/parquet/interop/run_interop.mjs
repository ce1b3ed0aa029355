#!/usr/bin/env node
// run_interop.mjs --sluice BIN --work DIR [--filter SUBSTRING] [--timeout SECONDS]
// run_interop.mjs --self-check --work DIR [--filter SUBSTRING]
//
// ctest entry point. Generates the file matrix into DIR/files (reused while up to date), then per
// file: "read NAME" (sluice parquet cat vs expected), "write NAME via LIB" (sluice parquet copy,
// output read back by duckdb and parquet-wasm) and "write NAME --compression C via LIB" plus
// "... codec" (the output really uses codec C). --self-check instead reads every file with the
// library that did NOT write it, to validate the harness without a sluice binary.
// Prints "ok NAME" / "FAIL NAME: reason" / "skip NAME: reason" per case, then "N passed, M failed".
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, readdirSync, accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, packageVersions } from './lib/generate.mjs';
import { compareJsonl, summarize } from './lib/compare.mjs';
import { Readers, READERS } from './lib/readers.mjs';
import { readParquetLayout } from './lib/parquet_meta.mjs';
import { parseArgs, die } from './lib/cli.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const COPY_CODECS = ['none', 'snappy', 'gzip', 'zstd'];
const CODEC_IN_FILE = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD' };

// Cross-reads that fail for reasons outside sluice, reported as "skip" by --self-check when the
// read fails with the given error (a read that starts to work again is reported as ok).
const KNOWN_CROSS_READ_FAILURES = [
  {
    applies: (entry, reader) => entry.writer === 'duckdb' && entry.variant.version === 'v2' && entry.rows > 0 && reader === 'parquet-wasm',
    error: /Invalid delta bit width 33|first value too large|min_delta/,
    reason: 'arrow-rs rejects DuckDB PARQUET_VERSION V2 DELTA_BINARY_PACKED INT32 pages (DuckDB computes int32/uint32 ' +
      'deltas in 64 bits: miniblock bit width 33 for i32, first value > INT32_MAX for u32)',
  },
  {
    applies: (entry, reader) => /byte_stream_split_int/.test(entry.name) && reader === 'duckdb',
    error: /BYTE_STREAM_SPLIT encoding is only supported for FLOAT or DOUBLE/,
    reason: 'DuckDB 1.5 reads BYTE_STREAM_SPLIT only for FLOAT/DOUBLE, not for INT32/INT64 (added in format 2.11)',
  },
];

function usage() {
  die('usage: run_interop.mjs (--sluice BIN | --self-check) --work DIR [--filter SUBSTRING] [--timeout SECONDS]');
}

const oneLine = (s, max = 800) => {
  const t = String(s).trim().replace(/\s*\n\s*/g, ' | ');
  return t.length > max ? `${t.slice(0, max)}...` : t;
};

// --- generated files --------------------------------------------------------------------------

function newestSourceMtime() {
  const sources = [join(HERE, 'gen.mjs'), resolve(HERE, '../../peers/package.json'),
    ...readdirSync(join(HERE, 'lib')).map((f) => join(HERE, 'lib', f))];
  return Math.max(...sources.map((f) => statSync(f).mtimeMs));
}

async function ensureFiles(dir) {
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath) && statSync(manifestPath).mtimeMs > newestSourceMtime()) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (JSON.stringify(manifest.packages) === JSON.stringify(packageVersions())) return manifest;
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`# generating interop files into ${dir}`);
  return generate(dir);
}

// --- sluice subprocess ------------------------------------------------------------------------

function runSluice(bin, args, timeoutSec) {
  const r = spawnSync(bin, args, { timeout: timeoutSec * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 30 });
  const cmd = `sluice ${args.join(' ')}`;
  const stderr = r.stderr ? r.stderr.toString('utf8') : '';
  if (r.error?.code === 'ETIMEDOUT') return { error: `${cmd}: timed out after ${timeoutSec} s` };
  if (r.error) return { error: `${cmd}: ${r.error.message}` };
  if (r.signal) return { error: `${cmd}: killed by ${r.signal}; stderr: ${stderr.slice(-1500)}` };
  if (r.status !== 0) return { error: `${cmd}: exit ${r.status}; stderr: ${stderr.slice(-1500)}` };
  let stdout;
  try {
    stdout = new TextDecoder('utf-8', { fatal: true }).decode(r.stdout);
  } catch {
    return { error: `${cmd}: stdout is not valid UTF-8` };
  }
  return { stdout, stderr };
}

// --- cases ------------------------------------------------------------------------------------

function compareTo(entry, filesDir, actualJsonl) {
  const expected = readFileSync(join(filesDir, entry.expected), 'utf8');
  const types = JSON.parse(readFileSync(join(filesDir, entry.types), 'utf8'));
  const result = compareJsonl(expected, actualJsonl, { types, maxDiffs: 3 });
  return result.ok ? null : summarize(result);
}

function readWith(readers, reader, file, entry, filesDir) {
  return async () => {
    let got;
    try {
      got = await readers.read(reader, file);
    } catch (err) {
      return `${reader} cannot read ${file}: ${err.message}`;
    }
    return compareTo(entry, filesDir, got.jsonl);
  };
}

function selfCheckCases(entry, filesDir, readers) {
  const file = join(filesDir, entry.file);
  return READERS.filter((r) => r !== entry.writer).map((reader) => {
    const known = KNOWN_CROSS_READ_FAILURES.find((k) => k.applies(entry, reader));
    const check = readWith(readers, reader, file, entry, filesDir);
    return {
      name: `self-check ${entry.name} via ${reader}`,
      run: async () => {
        const reason = await check();
        if (reason && known && known.error.test(reason)) return { skip: known.reason };
        return reason;
      },
    };
  });
}

function sluiceCases(entry, index, ctx) {
  const { filesDir, outDir, bin, timeout, readers } = ctx;
  const file = join(filesDir, entry.file);
  const cases = [{
    name: `read ${entry.name}`,
    run: async () => {
      const r = runSluice(bin, ['parquet', 'cat', file], timeout);
      return r.error ?? compareTo(entry, filesDir, r.stdout);
    },
  }];
  const codec = COPY_CODECS[index % COPY_CODECS.length];
  const copies = [
    { label: '', out: join(outDir, `${entry.name}.parquet`), args: [] },
    { label: ` --compression ${codec}`, out: join(outDir, `${entry.name}.${codec}.parquet`), args: ['--compression', codec], codec },
  ];
  for (const copy of copies) {
    // The copy runs once, for the first case that needs it; later cases refer to that one.
    let copyResult;
    const ensureCopy = (caseName) => {
      if (copyResult) return copyResult.error && `copy failed, see "${copyResult.by}"`;
      copyResult = { by: caseName, error: runSluice(bin, ['parquet', 'copy', file, copy.out, ...copy.args], timeout).error };
      return copyResult.error;
    };
    for (const reader of READERS) {
      const check = readWith(readers, reader, copy.out, entry, filesDir);
      const name = `write ${entry.name}${copy.label} via ${reader}`;
      cases.push({ name, run: async () => ensureCopy(name) ?? check() });
    }
    if (copy.codec && entry.rows > 0) {
      const name = `write ${entry.name}${copy.label} codec`;
      cases.push({
        name,
        run: async () => {
          const err = ensureCopy(name);
          if (err) return err;
          const want = CODEC_IN_FILE[copy.codec];
          const codecs = new Set(readParquetLayout(copy.out).rowGroups.flatMap((rg) => rg.columns.map((c) => c.codec)));
          if (codecs.size === 0) return 'output has no column chunks';
          return [...codecs].every((c) => c === want) ? null : `expected every column chunk to use ${want}, found ${[...codecs].join(', ')}`;
        },
      });
    }
  }
  return cases;
}

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    sluice: 'string', work: 'string', filter: 'string', timeout: 'string', 'self-check': 'boolean',
  });
  if (!args.work || (!args.sluice && !args['self-check']) || args._.length) usage();
  const timeout = Number(args.timeout ?? 60);
  const work = resolve(args.work);
  const bin = args.sluice ? resolve(args.sluice) : null;
  if (bin && !args['self-check']) {
    try { accessSync(bin, constants.X_OK); } catch { die(`run_interop: sluice binary ${bin} does not exist or is not executable`); }
  }
  const filesDir = join(work, 'files');
  const outDir = join(work, 'out');
  const manifest = await ensureFiles(filesDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const readers = new Readers();
  const ctx = { filesDir, outDir, bin, timeout, readers };
  const all = manifest.files.flatMap((entry, i) =>
    (args['self-check'] ? selfCheckCases(entry, filesDir, readers) : sluiceCases(entry, i, ctx)));
  const cases = all.filter((c) => !args.filter || c.name.includes(args.filter));
  if (cases.length === 0) die(`run_interop: no case matches --filter ${JSON.stringify(args.filter)}`, 1);

  let passed = 0, failed = 0, skipped = 0;
  try {
    for (const c of cases) {
      let outcome;
      try {
        outcome = await c.run();
      } catch (err) {
        outcome = `harness error: ${err.stack ?? err}`;
      }
      if (outcome && outcome.skip) {
        skipped++;
        console.log(`skip ${c.name}: ${outcome.skip}`);
      } else if (outcome) {
        failed++;
        console.log(`FAIL ${c.name}: ${oneLine(outcome)}`);
      } else {
        passed++;
        console.log(`ok ${c.name}`);
      }
    }
  } finally {
    readers.close();
  }
  if (skipped) console.log(`# ${skipped} skipped (known oracle incompatibilities, see README.md)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((err) => die(`run_interop: ${err.stack ?? err}`, 1));
