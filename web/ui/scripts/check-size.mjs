// Prints the gzipped size of the JavaScript the build produced and fails the build when it
// passes the budget, so a heavy dependency cannot slip into the first load unnoticed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 150 * 1024;
const assets = new URL('../dist/assets/', import.meta.url).pathname;

const files = readdirSync(assets).filter((name) => name.endsWith('.js'));
let total = 0;
for (const name of files.sort()) {
  const size = gzipSync(readFileSync(join(assets, name)), { level: 9 }).length;
  total += size;
  console.log(`  ${(size / 1024).toFixed(1).padStart(7)} KB  ${name}`);
}
const summary = `JavaScript, gzipped: ${(total / 1024).toFixed(1)} KB in ${files.length} files (budget ${BUDGET_BYTES / 1024} KB)`;
if (total > BUDGET_BYTES) {
  console.error(`${summary}: over budget`);
  process.exit(1);
}
console.log(summary);
