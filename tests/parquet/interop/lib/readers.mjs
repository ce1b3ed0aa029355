// Reads a Parquet file with one of the oracle libraries into canonical JSONL.
import { resolve } from 'node:path';
import { toJsonl, typesOf } from './canonical.mjs';
import { DuckDBOracle } from './duckdb_oracle.mjs';
import { readParquetWasm } from './pqwasm_oracle.mjs';

export const READERS = ['duckdb', 'parquet-wasm'];

// Keeps one DuckDB instance for all reads; call close() at the end.
export class Readers {
  async read(withLib, file) {
    let table;
    if (withLib === 'duckdb') {
      this.duck ??= await DuckDBOracle.open();
      table = await this.duck.read(resolve(file));
    } else if (withLib === 'parquet-wasm') {
      table = readParquetWasm(file);
    } else {
      throw new Error(`unknown reader '${withLib}' (expected one of: ${READERS.join(', ')})`);
    }
    return { jsonl: toJsonl(table), types: typesOf(table) };
  }

  close() {
    this.duck?.close();
    this.duck = undefined;
  }
}
