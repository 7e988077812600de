// Writes the Teams manifest icons (solid PNGs) without any image tooling: `tsx scripts/make-icons.ts`.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) row.set(pixel(x, y), 1 + x * 4);
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

// A key-hole: a filled circle above a narrow bar.
function keyhole(size: number, x: number, y: number): boolean {
  const cx = size / 2;
  const r = size * 0.16;
  const inCircle = (x - cx) ** 2 + (y - size * 0.4) ** 2 <= r * r;
  const inBar = Math.abs(x - cx) <= size * 0.06 && y >= size * 0.4 && y <= size * 0.72;
  return inCircle || inBar;
}

writeFileSync(
  'manifests/teams/color.png',
  png(192, (x, y) => (keyhole(192, x, y) ? [255, 255, 255, 255] : [31, 78, 121, 255])),
);
writeFileSync(
  'manifests/teams/outline.png',
  png(32, (x, y) => (keyhole(32, x, y) ? [255, 255, 255, 255] : [0, 0, 0, 0])),
);
