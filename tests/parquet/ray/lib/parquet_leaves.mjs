// Leaf columns of a Parquet schema, from the flat SchemaElement list that
// ../interop/lib/parquet_meta.mjs readParquetLayout returns (depth-first, with num_children).
export function parquetLeaves(schema) {
  const leaves = [];
  let i = 1;
  function walk(prefix) {
    const e = schema[i++];
    const path = prefix ? `${prefix}.${e.name}` : e.name;
    if (e.children) for (let c = 0; c < e.children; c++) walk(path);
    else leaves.push({ path, physical: e.type, logical: e.logical ?? null, converted: e.converted ?? null, repetition: e.repetition });
  }
  const rootChildren = schema[0]?.children ?? 0;
  for (let c = 0; c < rootChildren; c++) walk('');
  return leaves;
}
