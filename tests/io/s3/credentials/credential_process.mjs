#!/usr/bin/env node
/*
 * credential_process.mjs — a credential_process program for the tests (profile key
 * `credential_process = node .../credential_process.mjs MODE [FILE]`).
 *
 *   print FILE   writes FILE (the documented JSON: {"Version": 1, "AccessKeyId": ...,
 *                "SecretAccessKey": ..., "SessionToken": ..., "Expiration": ISO 8601}) on
 *                stdout, exit 0
 *   fail         writes a message on stderr, nothing on stdout, exit 3
 *   garbage      writes text that is not JSON on stdout, exit 0
 */
import { readFileSync } from 'node:fs';

const [mode, file] = process.argv.slice(2);
if (mode === 'print' && file) {
  process.stdout.write(readFileSync(file, 'utf8'));
} else if (mode === 'fail') {
  process.stderr.write('credential_process.mjs: no credentials for you (test failure mode)\n');
  process.exit(3);
} else if (mode === 'garbage') {
  process.stdout.write('Version: one; AccessKeyId = {nope\n');
} else {
  process.stderr.write('usage: credential_process.mjs print FILE | fail | garbage\n');
  process.exit(2);
}
