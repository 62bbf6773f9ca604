// `npm run e2e`: runs the end-to-end tests one file at a time with node's test runner, prints its
// usual report and a closing "N passed, M failed" line, and exits non-zero on any failure.
import { readdirSync } from 'node:fs';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.test.mjs'))
  .map((name) => dir + name);

let passed = 0;
let failed = 0;
// On Ctrl-C or a CI's SIGTERM, stay alive while the test files stop their servers and drop
// their databases, instead of leaving them behind.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => interrupt.abort());
const stream = run({ files, concurrency: 1, signal: interrupt.signal });
stream.on('test:pass', (event) => {
  if (event.details?.type !== 'suite') passed += 1;
});
stream.on('test:fail', (event) => {
  if (event.details?.type !== 'suite') failed += 1;
});
const report = stream.compose(spec);
report.pipe(process.stdout, { end: false });
// After the report, so that this is the last line.
report.on('end', () => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});
