// Draws the app icon (a lightning bolt on a rounded square) as SVG and as the PNG sizes that
// browsers need to offer installation. Uses only Node's zlib, so it runs without any download.
// Run with `npm run icons`; the output in public/icons/ is committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const outDir = new URL('../public/icons/', import.meta.url);
const BACKGROUND = [0x0b, 0x6e, 0x4f];
const FOREGROUND = [0xff, 0xd2, 0x3f];
const CORNER_RADIUS = 112;
// The bolt in a 512 × 512 design space.
const BOLT = [
  [296, 56],
  [128, 292],
  [240, 292],
  [208, 456],
  [384, 212],
  [272, 212],
  [320, 56],
];

function insidePolygon(points, x, y) {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function insideRoundedSquare(x, y, radius) {
  const cx = Math.min(Math.max(x, radius), 512 - radius);
  const cy = Math.min(Math.max(y, radius), 512 - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

/** `fullBleed` fills the whole square and shrinks the bolt into the maskable safe zone. */
function render(size, fullBleed) {
  const boltScale = fullBleed ? 0.72 : 1;
  const bolt = BOLT.map(([x, y]) => [256 + (x - 256) * boltScale, 256 + (y - 256) * boltScale]);
  const samples = 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let covered = 0;
      let lit = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = ((px + (sx + 0.5) / samples) * 512) / size;
          const y = ((py + (sy + 0.5) / samples) * 512) / size;
          if (!fullBleed && !insideRoundedSquare(x, y, CORNER_RADIUS)) continue;
          covered++;
          if (insidePolygon(bolt, x, y)) lit++;
        }
      }
      const offset = (py * size + px) * 4;
      const mix = covered ? lit / covered : 0;
      for (let c = 0; c < 3; c++) {
        pixels[offset + c] = Math.round(BACKGROUND[c] * (1 - mix) + FOREGROUND[c] * mix);
      }
      pixels[offset + 3] = Math.round((covered / samples ** 2) * 255);
    }
  }
  return encodePng(size, pixels);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0; // no filter
    rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function hex([r, g, b]) {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" rx="${CORNER_RADIUS}" fill="${hex(BACKGROUND)}"/>
  <path d="M${BOLT.map(([x, y]) => `${x} ${y}`).join('L')}Z" fill="${hex(FOREGROUND)}"/>
</svg>
`;

mkdirSync(outDir, { recursive: true });
writeFileSync(new URL('icon.svg', outDir), svg);
writeFileSync(new URL('icon-192.png', outDir), render(192, false));
writeFileSync(new URL('icon-512.png', outDir), render(512, false));
writeFileSync(new URL('icon-maskable-512.png', outDir), render(512, true));
// iOS draws its own rounded corners and ignores transparency, so its icon is full-bleed.
writeFileSync(new URL('apple-touch-icon.png', outDir), render(180, true));
console.log('icons written to public/icons/');
