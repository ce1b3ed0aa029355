#!/usr/bin/env node
// Every integer width and signedness exact through `sluice parquet cat` and `copy`, against
// DuckDB (which writes the file and reads sluice's copy), and `sluice parquet` on s3:// URIs
// against s3rver (cat, inspect, copy to S3, a missing key and a missing bucket).
//
//   int_types_and_s3.mjs --sluice BIN --work DIR     (prints "N passed, M failed")
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDB, sqlString } from '../job/lib/predictions.mjs';
import { getObject, putObject, startS3rver } from '../job/lib/s3_peer.mjs';
import { makeChecks } from '../support/checks.mjs';

const arg = (name) => process.argv[process.argv.indexOf(`--${name}`) + 1];
const sluice = arg('sluice');
const work = arg('work');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const { check, finish } = makeChecks();

const COLUMNS = [
  ['i8', 'TINYINT', ['0', '127', '-128', '-1']],
  ['i16', 'SMALLINT', ['0', '32767', '-32768', '-1']],
  ['i32', 'INTEGER', ['0', '2147483647', '-2147483648', '-1']],
  ['i64', 'BIGINT', ['0', '9223372036854775807', '-9223372036854775808', '-1']],
  ['u8', 'UTINYINT', ['0', '255', '128', '1']],
  ['u16', 'USMALLINT', ['0', '65535', '32768', '1']],
  ['u32', 'UINTEGER', ['0', '4294967295', '2147483648', '1']],
  ['u64', 'UBIGINT', ['0', '18446744073709551615', '9223372036854775808', '9223372036854775809']],
];
const ROWS = 5;  // the four values of each column, then a row of nulls

const db = await DuckDB.open();
const src = join(work, 'ints.parquet');
const selects = [];
for (let r = 0; r < ROWS; r++) {
  const cols = COLUMNS.map(([name, type, values]) => `${r < values.length ? `(${values[r]})::${type}` : `NULL::${type}`} AS ${name}`);
  selects.push(`SELECT ${r} AS row, ${cols.join(', ')}`);
}
await db.run(`COPY (${selects.join(' UNION ALL ')} ORDER BY row) TO ${sqlString(src)} (FORMAT PARQUET)`);

const types = async (file) => Object.fromEntries((await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`))
  .map((r) => [r.column_name, r.column_type]));
const duckText = async (file) => (await db.all(`SELECT ${COLUMNS.map(([n]) => `${n}::VARCHAR AS ${n}`).join(', ')} ` +
  `FROM read_parquet(${sqlString(file)}) ORDER BY row`));

/// `sluice parquet cat` rows with integers kept as exact text (JSON.parse would round them).
function catExact(target, env) {
  const out = execFileSync(sluice, ['parquet', 'cat', target], { encoding: 'utf8', env });
  return out.trim().split('\n').map((line) => JSON.parse(line.replace(/(:\s*)(-?\d+)(?=[,}])/g, '$1"$2"')));
}

const want = await duckText(src);
const got = catExact(src);
for (const [name, type] of COLUMNS) {
  const a = got.map((r) => r[name]);
  const b = want.map((r) => r[name]);
  check(`cat ${name} (${type}) equals DuckDB`, JSON.stringify(a) === JSON.stringify(b), () => `sluice ${JSON.stringify(a)}, DuckDB ${JSON.stringify(b)}`);
}
const inspect = execFileSync(sluice, ['parquet', 'inspect', src], { encoding: 'utf8' });
for (const [name, sluiceType] of [['i8', 'int8'], ['i16', 'int16'], ['u8', 'uint8'], ['u16', 'uint16'], ['u32', 'uint32'], ['u64', 'uint64']]) {
  check(`inspect shows ${name} as ${sluiceType}`, inspect.includes(`  ${name}: ${sluiceType}`), () => inspect);
}

const copy = join(work, 'ints_copy.parquet');
execFileSync(sluice, ['parquet', 'copy', src, copy]);
const before = await types(src);
const after = await types(copy);
check('DuckDB reads the copy with identical column types', JSON.stringify(before) === JSON.stringify(after),
  () => `original ${JSON.stringify(before)}, copy ${JSON.stringify(after)}`);
const copied = await duckText(copy);
check('DuckDB reads the copy with identical values', JSON.stringify(copied) === JSON.stringify(want),
  () => `copy ${JSON.stringify(copied)}, original ${JSON.stringify(want)}`);
// Statistics of unsigned columns sort unsigned: DuckDB filters by them.
const big = await db.all(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(copy)}) WHERE u64 >= 9223372036854775808::UBIGINT`);
check('DuckDB filters the copy by u64 >= 2^63 (unsigned order): 3 rows', big[0].n === 3, () => `DuckDB counts ${big[0].n}`);

// sluice parquet on s3:// URIs.
const server = await startS3rver(join(work, 's3'), ['data']);
try {
  await putObject(server.endpoint, 'data', 'nested/ints.parquet', readFileSync(src));
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
    AWS_ENDPOINT_URL_S3: server.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'), SLUICE_S3_MAX_ATTEMPTS: '2',
  };
  const viaS3 = catExact('s3://data/nested/ints.parquet', env);
  check('cat s3:// equals cat of the local file', JSON.stringify(viaS3) === JSON.stringify(got), () => JSON.stringify(viaS3));
  const inspectS3 = execFileSync(sluice, ['parquet', 'inspect', 's3://data/nested/ints.parquet'], { encoding: 'utf8', env });
  check('inspect s3://', inspectS3.includes('rows: 5') && inspectS3.includes('u64: uint64'), () => inspectS3);
  execFileSync(sluice, ['parquet', 'copy', 's3://data/nested/ints.parquet', 's3://data/out/copy.parquet'], { env });
  const copyLocal = join(work, 'from_s3_copy.parquet');
  writeFileSync(copyLocal, await getObject(server.endpoint, 'data', 'out/copy.parquet'));
  check('copy s3:// -> s3:// reads back in DuckDB identically', JSON.stringify(await duckText(copyLocal)) === JSON.stringify(want),
    () => 'values differ');
  const missingKey = spawnSync(sluice, ['parquet', 'cat', 's3://data/nested/missing.parquet'], { encoding: 'utf8', env });
  check('a missing key fails naming the URI', missingKey.status !== 0 && missingKey.stderr.includes('s3://data/nested/missing.parquet') &&
    /NotFound|NoSuchKey|404/.test(missingKey.stderr), () => `exit ${missingKey.status}: ${missingKey.stderr}`);
  const missingBucket = spawnSync(sluice, ['parquet', 'inspect', 's3://nobucket/ints.parquet'], { encoding: 'utf8', env });
  check('a missing bucket fails naming it', missingBucket.status !== 0 && missingBucket.stderr.includes('nobucket') &&
    /NoSuchBucket|bucket/.test(missingBucket.stderr), () => `exit ${missingBucket.status}: ${missingBucket.stderr}`);
} finally {
  await server.stop();
}

db.close();
finish();
