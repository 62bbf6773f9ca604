// Writes `<file>.br` and `<file>.gz` beside each text file of the build (scripts, styles, HTML,
// SVG, the manifests), at the highest levels, so the server sends them as they are to browsers
// that accept them (ServeDir's precompressed files, web/src/lib.rs) instead of compressing every
// answer itself. node:zlib does both, so no build plugin is needed. A copy that would not be
// smaller is not written. Vite empties dist before each build: no copy outlives its file.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/;

/** Every file under `dir`, except hidden ones (Vite's .vite/manifest.json is not served). */
function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (COMPRESSIBLE.test(entry.name)) yield path;
  }
}

let plainTotal = 0;
let brTotal = 0;
let count = 0;
for (const path of files(dist)) {
  const plain = readFileSync(path);
  const br = brotliCompressSync(plain, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  });
  const gz = gzipSync(plain, { level: 9 });
  if (br.length < plain.length) writeFileSync(`${path}.br`, br);
  if (gz.length < plain.length) writeFileSync(`${path}.gz`, gz);
  plainTotal += plain.length;
  brTotal += Math.min(br.length, plain.length);
  count += 1;
}
console.log(
  `Precompressed ${count} files: ${(plainTotal / 1024).toFixed(1)} KB, ${(brTotal / 1024).toFixed(1)} KB with brotli`,
);
