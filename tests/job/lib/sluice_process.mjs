// Running the sluice CLI from the job tests: job files, child processes with a time limit
// (a hang fails the case instead of stalling ctest) and ones the crash test kills.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/// A job file's text from { section: { key: value } }. JSON scalars and arrays are YAML flow
/// values, so strings are written double-quoted (paths with spaces or ':' stay intact).
export function jobYaml(job) {
  let text = '';
  for (const [section, entries] of Object.entries(job)) {
    if (typeof entries !== 'object') {  // a section given as one value (preprocess: none)
      text += `${section}: ${JSON.stringify(entries)}\n`;
      continue;
    }
    text += `${section}:\n`;
    for (const [key, value] of Object.entries(entries)) text += `  ${key}: ${JSON.stringify(value)}\n`;
  }
  return text;
}

export function writeJob(path, job) {
  writeFileSync(path, jobYaml(job));
  return path;
}

export function readSummary(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/// Starts `sluice ARGS`; returns { child, done } where done resolves to
/// { code, signal, stdout, stderr, ms, timedOut } (never rejects).
export function startSluice(bin, args, { env, timeoutMs = 180_000 } = {}) {
  const started = Date.now();
  const child = spawn(bin, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  const err = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise((resolve) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout: '', stderr: `cannot start ${bin}: ${e.message}`, ms: 0, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code, signal, timedOut, ms: Date.now() - started,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
  return { child, done };
}

export function runSluice(bin, args, opts) {
  return startSluice(bin, args, opts).done;
}

const oneLine = (s, max = 1200) => {
  const t = String(s).trim().replace(/\s*\n\s*/g, ' | ');
  return t.length > max ? `...${t.slice(-max)}` : t;
};

/// "sluice run job.yaml ...: exit 1 (stderr: ...)" for failure messages.
export function describeRun(args, r) {
  const how = r.timedOut ? 'timed out (killed)' : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return `sluice ${args.join(' ')}: ${how}; stderr: ${oneLine(r.stderr)}`;
}

/// Runs sluice and throws unless it exits 0; returns the result.
export async function runOk(bin, args, opts) {
  const r = await runSluice(bin, args, opts);
  if (r.code !== 0) throw new Error(describeRun(args, r));
  return r;
}
