// Builds the file matrix: writes each file with its writer, reads it back with the same library
// into FILE.expected.jsonl (+ FILE.types.json), checks the read-back against the source rows and
// the file layout against what was asked for, and writes manifest.json.
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLUMNS, makeRows } from './data.mjs';
import { toJsonl, typesOf } from './canonical.mjs';
import { compareJsonl, summarize } from './compare.mjs';
import { readParquetLayout, summarizeLayout } from './parquet_meta.mjs';
import { DuckDBOracle } from './duckdb_oracle.mjs';
import { writeParquetWasm, readParquetWasm } from './pqwasm_oracle.mjs';

export const ROWS = 500;
export const SEED = 20240601;
const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw', 'brotli'];
const CODEC_IN_FILE = { uncompressed: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', lz4_raw: 'LZ4_RAW', brotli: 'BROTLI' };
const WRITERS = ['duckdb', 'parquet-wasm'];

// parquet-wasm per-column encodings (dictionary off). Only top-level columns can be addressed.
const ENCODING_VARIANTS = [
  { name: 'delta_binary_packed', encoding: 'DELTA_BINARY_PACKED', columns: ['id', 'i32', 'i8', 'i16', 'u32'] },
  { name: 'delta_length_byte_array', encoding: 'DELTA_LENGTH_BYTE_ARRAY', columns: ['s', 'bin'] },
  { name: 'delta_byte_array', encoding: 'DELTA_BYTE_ARRAY', columns: ['s', 'bin'] },
  { name: 'byte_stream_split', encoding: 'BYTE_STREAM_SPLIT', columns: ['f32', 'f64'] },
  // BYTE_STREAM_SPLIT for INT32/INT64 was added to the format in 2.11; not every reader has it.
  { name: 'byte_stream_split_int', encoding: 'BYTE_STREAM_SPLIT', columns: ['id', 'i32', 'u32'] },
];

export const SKIPPED = [
  { name: 'duckdb-zero-row-group', writer: 'duckdb',
    reason: 'DuckDB writes no row group at all for 0 rows and never flushes an empty chunk as a row group' },
  { name: 'parquet-wasm-zero-row-group', writer: 'parquet-wasm',
    reason: 'arrow-rs ArrowWriter skips empty record batches and never flushes an empty row group' },
  { name: 'duckdb-*-v2 as DATA_PAGE_V2', writer: 'duckdb',
    reason: 'DuckDB 1.5 has no data page v2 writer: PARQUET_VERSION V2 (the duckdb-*-v2 files) switches to ' +
      'v2 encodings (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT, RLE_DICTIONARY) but keeps DATA_PAGE (v1) headers' },
  { name: 'duckdb-enc-*', writer: 'duckdb',
    reason: 'DuckDB COPY has no per-column encoding option (its PARQUET_VERSION V2 files cover its delta/BSS encodings)' },
  { name: 'parquet-wasm-enc-* on list leaves', writer: 'parquet-wasm',
    reason: 'WriterPropertiesBuilder.setColumnEncoding takes a one-part column path, so list leaves (li.list.item) ' +
      'cannot be addressed; they keep the default encoding (v2 files without dictionary still give DELTA_* on list leaves)' },
];

const dictName = (d) => (d ? 'dict' : 'nodict');

export function matrix() {
  const files = [];
  for (const writer of WRITERS) {
    for (const compression of CODECS) {
      for (const dictionary of [true, false]) {
        for (const version of ['v1', 'v2']) {
          files.push({ name: `${writer}-${compression}-${dictName(dictionary)}-${version}`, writer, rows: ROWS,
            variant: { compression, dictionary, version } });
        }
      }
    }
    files.push({ name: `${writer}-rowgroups`, writer, rows: ROWS,
      variant: { compression: 'snappy', dictionary: true, version: 'v1', rowGroupRows: 80 } });
    files.push({ name: `${writer}-empty`, writer, rows: 0,
      variant: { compression: 'snappy', dictionary: true, version: 'v1' } });
  }
  // Many small pages per column chunk; dictionaries overflow and fall back to plain pages mid-chunk.
  for (const version of ['v1', 'v2']) {
    files.push({ name: `parquet-wasm-smallpages-${version}`, writer: 'parquet-wasm', rows: ROWS,
      variant: { compression: 'zstd', dictionary: true, version, pageBytes: 512, dictionaryPageBytes: 256, writeBatchRows: 32 } });
  }
  for (const e of ENCODING_VARIANTS) {
    for (const version of ['v1', 'v2']) {
      files.push({ name: `parquet-wasm-enc-${e.name}-${version}`, writer: 'parquet-wasm', rows: ROWS,
        variant: { compression: 'snappy', dictionary: false, version,
          encodings: Object.fromEntries(e.columns.map((c) => [c, e.encoding])) } });
    }
  }
  return files;
}

// Throws when the file does not have the layout the variant asked for.
function checkLayout(spec, summary) {
  const problems = [];
  const v = spec.variant;
  const cols = Object.entries(summary.columns);
  const dataPages = cols.flatMap(([, c]) => c.pages.filter((p) => !p.startsWith('DICTIONARY_PAGE')));
  if (spec.rows > 0) {
    const codec = CODEC_IN_FILE[v.compression];
    for (const [path, c] of cols) if (c.codecs.some((x) => x !== codec)) problems.push(`${path}: codec ${c.codecs} (wanted ${codec})`);
    const dictPages = cols.filter(([, c]) => c.pages.some((p) => p.startsWith('DICTIONARY_PAGE')));
    if (v.dictionary && dictPages.length === 0) problems.push('dictionary on but no dictionary page');
    if (!v.dictionary && dictPages.length) problems.push(`dictionary off but dictionary pages in ${dictPages.map(([p]) => p)}`);
    const pageType = spec.writer === 'parquet-wasm' && v.version === 'v2' ? 'DATA_PAGE_V2:' : 'DATA_PAGE:';
    if (dataPages.some((p) => !p.startsWith(pageType))) problems.push(`data pages other than ${pageType} present`);
    for (const [col, enc] of Object.entries(v.encodings ?? {})) {
      const pages = summary.columns[col]?.pages ?? [];
      if (!pages.length || pages.some((p) => !p.endsWith(`:${enc}`))) problems.push(`${col}: pages ${pages} (wanted ${enc})`);
    }
  }
  if (v.pageBytes) {
    // The dictionary must overflow mid-chunk: dictionary-encoded pages followed by fallback pages.
    const sp = summary.columns.s?.pages ?? [];
    const dataPagesOfS = sp.filter((p) => !p.startsWith('DICTIONARY_PAGE'));
    if (!dataPagesOfS.some((p) => p.endsWith('_DICTIONARY')) || dataPagesOfS.every((p) => p.endsWith('_DICTIONARY'))) {
      problems.push(`small pages asked for, but column s has no dictionary fallback: ${sp}`);
    }
  }
  if (v.rowGroupRows && summary.rowGroupRows.length < 5) problems.push(`only ${summary.rowGroupRows.length} row groups`);
  if (spec.rows === 0 && summary.rowGroupRows.reduce((a, b) => a + b, 0) !== 0) problems.push('empty file has rows');
  if (problems.length) throw new Error(`${spec.name}: writer did not produce the requested layout: ${problems.join('; ')}`);
}

function compactLayout(summary) {
  return {
    created_by: summary.createdBy,
    row_groups: summary.rowGroupRows,
    columns: Object.fromEntries(Object.entries(summary.columns).map(([path, c]) =>
      [path, `${c.physical} ${c.codecs.join('/')} ${c.pages.map((p) => `${p}x${c.pageCounts[p]}`).join(' ')}`])),
  };
}

export function packageVersions() {
  const pkg = (name) => JSON.parse(readFileSync(new URL(`../../../peers/node_modules/${name}/package.json`, import.meta.url))).version;
  return { '@duckdb/node-api': pkg('@duckdb/node-api'), 'parquet-wasm': pkg('parquet-wasm'), 'apache-arrow': pkg('apache-arrow') };
}

export async function generate(outDir, { log = () => {} } = {}) {
  mkdirSync(outDir, { recursive: true });
  const allRows = makeRows(ROWS, SEED);
  const sourceColumns = COLUMNS.map(({ name, type }) => ({ name, type }));
  const sourceTypes = typesOf({ columns: sourceColumns });
  const duck = await DuckDBOracle.open();
  const entries = [];
  try {
    for (const spec of matrix()) {
      const rows = spec.rows === ROWS ? allRows : allRows.slice(0, spec.rows);
      const file = join(outDir, `${spec.name}.parquet`);
      let table;
      if (spec.writer === 'duckdb') {
        await duck.write(file, rows, spec.variant);
        table = await duck.read(file);
      } else {
        writeParquetWasm(file, rows, spec.variant);
        table = readParquetWasm(file);
      }
      const types = typesOf(table);
      if (JSON.stringify(types) !== JSON.stringify(sourceTypes)) {
        throw new Error(`${spec.name}: ${spec.writer} reads back types ${JSON.stringify(types)}, wrote ${JSON.stringify(sourceTypes)}`);
      }
      const expected = toJsonl(table);
      const check = compareJsonl(toJsonl({ columns: sourceColumns, rows }), expected, { types });
      if (!check.ok) throw new Error(`${spec.name}: ${spec.writer} read-back differs from the rows written: ${summarize(check)}`);
      const summary = summarizeLayout(readParquetLayout(file));
      checkLayout(spec, summary);
      writeFileSync(join(outDir, `${spec.name}.expected.jsonl`), expected);
      writeFileSync(join(outDir, `${spec.name}.types.json`), JSON.stringify(types, null, 1) + '\n');
      entries.push({
        name: spec.name, file: `${spec.name}.parquet`, expected: `${spec.name}.expected.jsonl`,
        types: `${spec.name}.types.json`, writer: spec.writer, rows: rows.length, variant: spec.variant,
        layout: compactLayout(summary),
      });
      log(`wrote ${spec.name}.parquet (${rows.length} rows)`);
    }
    const manifest = {
      generator: 'tests/parquet/interop/gen.mjs', seed: SEED, packages: packageVersions(),
      duckdb_version: await duck.version(), columns: sourceColumns, files: entries, skipped: SKIPPED,
    };
    writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    return manifest;
  } finally {
    duck.close();
  }
}
