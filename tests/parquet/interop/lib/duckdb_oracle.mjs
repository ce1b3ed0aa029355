// DuckDB as writer (COPY ... TO ... (FORMAT PARQUET)) and reader (read_parquet).
import { duckdb } from './peers.mjs';
import { COLUMNS, listItemType } from './data.mjs';

const SQL_TYPES = {
  int8: 'TINYINT', int16: 'SMALLINT', int32: 'INTEGER', int64: 'BIGINT', uint32: 'UINTEGER',
  float32: 'FLOAT', float64: 'DOUBLE', bool: 'BOOLEAN', utf8: 'VARCHAR', binary: 'BLOB',
};

// DuckDB type id (DuckDBTypeId) -> canonical type name.
const FROM_TYPE_ID = {
  BOOLEAN: 'bool', TINYINT: 'int8', SMALLINT: 'int16', INTEGER: 'int32', BIGINT: 'int64',
  UTINYINT: 'uint8', USMALLINT: 'uint16', UINTEGER: 'uint32', UBIGINT: 'uint64',
  FLOAT: 'float32', DOUBLE: 'float64', VARCHAR: 'utf8', BLOB: 'binary',
};

const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

function sqlType(type) {
  const item = listItemType(type);
  return item ? `${sqlType(item)}[]` : SQL_TYPES[type];
}

function floatText(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return Object.is(v, -0) ? '-0.0' : String(v);
}

function sqlLiteral(type, v) {
  if (v === null) return 'NULL';
  const item = listItemType(type);
  if (item) return `CAST([${v.map((x) => sqlLiteral(item, x)).join(', ')}] AS ${sqlType(type)})`;
  switch (type) {
    case 'float32': case 'float64': return `CAST('${floatText(v)}' AS ${SQL_TYPES[type]})`;
    case 'bool': return v ? 'TRUE' : 'FALSE';
    case 'utf8': return quote(v);
    case 'binary': return `unhex('${Buffer.from(v).toString('hex')}')`;
    default: return `CAST('${v.toString()}' AS ${SQL_TYPES[type]})`;
  }
}

function canonicalType(t) {
  const id = duckdb().DuckDBTypeId[t.typeId];
  if (id === 'LIST') return `list<${canonicalType(t.valueType)}>`;
  const name = FROM_TYPE_ID[id];
  if (!name) throw new Error(`DuckDB type ${t.toString()} has no canonical JSONL form`);
  return name;
}

export class DuckDBOracle {
  static async open() {
    const { DuckDBInstance } = duckdb();
    // One thread: deterministic row-group boundaries and row order.
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const o = new DuckDBOracle();
    o.instance = instance;
    o.conn = await instance.connect();
    o.staged = 0;
    return o;
  }

  async version() {
    return (await this.conn.runAndReadAll('SELECT version()')).getRowsJS()[0][0];
  }

  // Loads rows into the staging table `stage` (with a row number _rn), once per row set.
  async stage(rows) {
    if (this.stagedRows === rows) return;
    const cols = COLUMNS.map((c) => `${c.name} ${sqlType(c.type)}${c.nullable ? '' : ' NOT NULL'}`);
    await this.conn.run(`CREATE OR REPLACE TABLE stage (_rn INTEGER, ${cols.join(', ')})`);
    for (let start = 0; start < rows.length; start += 200) {
      const values = rows.slice(start, start + 200).map((row, k) =>
        `(${start + k}, ${row.map((v, j) => sqlLiteral(COLUMNS[j].type, v)).join(', ')})`);
      await this.conn.run(`INSERT INTO stage VALUES ${values.join(',\n')}`);
    }
    this.stagedRows = rows;
  }

  // variant: { compression, dictionary, version: 'v1'|'v2', rowGroupRows? }
  async write(file, rows, variant) {
    await this.stage(rows);
    const names = COLUMNS.map((c) => c.name).join(', ');
    const slice = (lo, hi) => `(SELECT ${names} FROM stage WHERE _rn >= ${lo} AND _rn < ${hi} ORDER BY _rn)`;
    let query = `SELECT ${names} FROM stage ORDER BY _rn`;
    const options = ['FORMAT PARQUET', `COMPRESSION ${quote(variant.compression)}`,
      `PARQUET_VERSION ${variant.version.toUpperCase()}`];
    if (!variant.dictionary) options.push('DICTIONARY_SIZE_LIMIT 0');
    if (variant.rowGroupRows) {
      // DuckDB cuts row groups only at chunk boundaries: each UNION ALL branch is its own chunk.
      const parts = [];
      for (let lo = 0; lo < rows.length; lo += variant.rowGroupRows) parts.push(slice(lo, lo + variant.rowGroupRows));
      query = parts.join(' UNION ALL ');
      options.push(`ROW_GROUP_SIZE ${variant.rowGroupRows}`);
    }
    await this.conn.run(`COPY (${query}) TO ${quote(file)} (${options.join(', ')})`);
  }

  // Returns { columns: [{ name, type }], rows } as DuckDB reads the file.
  async read(file) {
    const reader = await this.conn.runAndReadAll(`SELECT * FROM read_parquet(${quote(file)})`);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    return { columns: names.map((name, k) => ({ name, type: canonicalType(types[k]) })), rows: reader.getRowsJS() };
  }

  async query(sql) {
    return (await this.conn.runAndReadAll(sql)).getRowObjectsJS();
  }

  close() {
    this.conn.closeSync?.();
    this.instance.closeSync?.();
  }
}
