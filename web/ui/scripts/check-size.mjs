// Prints the gzipped size of what the build produced: the first load (the entry chunk and every
// chunk it imports statically, with their CSS) and each chunk loaded later on demand. Fails when
// the first load's JavaScript passes the budget, so a heavy dependency cannot slip into it
// unnoticed (lazy chunks, such as the chart's, are listed but not counted).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 150 * 1024;
const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('.vite/manifest.json', dist), 'utf8'));

const gzipped = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1).padStart(7)} KB`;

// Chunks the entry needs before the app can start: it and its static imports, transitively.
const firstLoad = new Set();
const visit = (key) => {
  if (firstLoad.has(key)) return;
  firstLoad.add(key);
  for (const imported of manifest[key].imports ?? []) visit(imported);
};
for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
// The service worker's helper is imported dynamically, but at every start.
for (const key of Object.keys(manifest)) if (key.includes('workbox-window')) visit(key);

function report(title, keys) {
  let js = 0;
  let css = 0;
  console.log(title);
  for (const key of [...keys].sort((a, b) => manifest[a].file.localeCompare(manifest[b].file))) {
    const chunk = manifest[key];
    if (!chunk.file.endsWith('.js')) continue;
    const size = gzipped(chunk.file);
    js += size;
    console.log(`  ${kb(size)}  ${chunk.file}`);
    for (const file of chunk.css ?? []) {
      const cssSize = gzipped(file);
      css += cssSize;
      console.log(`  ${kb(cssSize)}  ${file}`);
    }
  }
  return { js, css };
}

const first = report('First load:', firstLoad);
const lazyKeys = Object.keys(manifest).filter((key) => !firstLoad.has(key));
const lazy = report('Loaded on demand:', lazyKeys);
console.log(
  `First load, gzipped: ${(first.js / 1024).toFixed(1)} KB of JavaScript (budget ${BUDGET_BYTES / 1024} KB) ` +
    `and ${(first.css / 1024).toFixed(1)} KB of CSS; on demand: ${(lazy.js / 1024).toFixed(1)} KB of JavaScript ` +
    `and ${(lazy.css / 1024).toFixed(1)} KB of CSS`,
);
if (first.js > BUDGET_BYTES) {
  console.error('The first load is over budget.');
  process.exit(1);
}
