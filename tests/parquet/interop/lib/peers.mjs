// Loads the oracle packages from tests/peers/node_modules, whatever the current directory is.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const peersPackage = new URL('../../../peers/package.json', import.meta.url);
const peersModules = fileURLToPath(new URL('../../../peers/node_modules', import.meta.url));
const requirePeer = createRequire(peersPackage);

function load(name) {
  if (!existsSync(peersModules)) {
    throw new Error(`${peersModules} is missing: run scripts/setup.sh (or: cd tests/peers && npm install)`);
  }
  try {
    return requirePeer(name);
  } catch (err) {
    throw new Error(`cannot load npm package '${name}' from ${peersModules} (${err.message}); ` +
      'run scripts/setup.sh (or: cd tests/peers && npm install)');
  }
}

let cache = {};
const lazy = (key, name) => () => (cache[key] ??= load(name));

export const arrow = lazy('arrow', 'apache-arrow');
export const parquetWasm = lazy('pw', 'parquet-wasm/node');
export const duckdb = lazy('duckdb', '@duckdb/node-api');
