#!/usr/bin/env node
// inspect.mjs FILE...: prints a Parquet file's schema (physical, repetition, converted and logical
// types) and, per row group and column chunk, the codec and every page as PAGE_TYPE:ENCODING.
// Reads the footer and page headers itself (no oracle library involved).
import { readParquetLayout } from './lib/parquet_meta.mjs';
import { die } from './lib/cli.mjs';

const files = process.argv.slice(2);
if (!files.length) die('usage: inspect.mjs FILE...');
for (const file of files) {
  let layout;
  try { layout = readParquetLayout(file); } catch (err) { die(`inspect: ${err.message}`, 1); }
  console.log(`${file}: format version ${layout.version}, ${layout.numRows} rows, ${layout.rowGroups.length} row groups, created by ${layout.createdBy}`);
  console.log('schema:');
  for (const s of layout.schema) {
    const parts = [s.type ?? 'group', s.repetition, s.converted && `converted=${s.converted}`, s.logical && `logical=${s.logical}`,
      s.children !== undefined && `children=${s.children}`].filter(Boolean);
    console.log(`  ${s.name}: ${parts.join(' ')}`);
  }
  layout.rowGroups.forEach((rg, i) => {
    console.log(`row group ${i}: ${rg.numRows} rows`);
    for (const c of rg.columns) {
      const runs = [];
      for (const p of c.pages) {
        const last = runs[runs.length - 1];
        if (last && last.page === p) last.n++; else runs.push({ page: p, n: 1 });
      }
      console.log(`  ${c.path} ${c.type} ${c.codec}: ${runs.map((r) => (r.n > 1 ? `${r.page} x${r.n}` : r.page)).join(', ')}`);
    }
  });
}
