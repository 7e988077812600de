// Preloaded into a measured server (compiled by bench/lib/build.ts; `node --require …/memprobe.js …`) when
// BENCH_MEMPROBE_FILE is set: every 250 ms it writes process.memoryUsage() now and at its peak,
// and how many TLS connections the process has opened, to that file — so a table can say whether
// RSS is V8 heap or ArrayBuffers (PGlite's WebAssembly memory), and whether ARM connections are
// reused. Not part of the bot.
import { renameSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';

const file = process.env.BENCH_MEMPROBE_FILE;
if (file) {
  const peak: Record<string, number> = {};
  let tlsConnects = 0;
  const connect = tls.connect;
  (tls as { connect: typeof tls.connect }).connect = function (this: unknown, ...args: unknown[]) {
    tlsConnects++;
    return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  } as typeof tls.connect;
  const tick = () => {
    const now = process.memoryUsage() as unknown as Record<string, number>;
    for (const [k, v] of Object.entries(now)) peak[k] = Math.max(peak[k] ?? 0, v);
    // Written aside and renamed, so a reader never sees half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify({ now, peak, tlsConnects }));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(tick, 250).unref();
  tick();
}
