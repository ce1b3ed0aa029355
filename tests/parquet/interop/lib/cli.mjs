// Tiny argument parser: --name value / --flag, plus positionals.
export function parseArgs(argv, spec) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { out._.push(a); continue; }
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
    const kind = spec[key];
    if (!kind) die(`unknown option --${key}`);
    if (kind === 'boolean') { out[key] = true; continue; }
    const value = inline ?? argv[++i];
    if (value === undefined) die(`option --${key} needs a value`);
    out[key] = value;
  }
  return out;
}

export function die(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
