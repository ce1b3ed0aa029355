// The plain "ok NAME" / "FAIL NAME: why" lines of the node test scripts, counted for their
// closing "N passed, M failed" line.
export function makeChecks() {
  const counts = { passed: 0, failed: 0 };
  /// `detail` may be a function, called only on failure.
  function check(name, ok, detail) {
    if (ok) {
      counts.passed += 1;
      console.log(`ok ${name}`);
    } else {
      counts.failed += 1;
      console.log(`FAIL ${name}: ${typeof detail === 'function' ? detail() : detail}`);
    }
  }
  /// Prints the closing line and exits 1 when a check failed.
  function finish() {
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    process.exit(counts.failed ? 1 : 0);
  }
  return { check, finish };
}
