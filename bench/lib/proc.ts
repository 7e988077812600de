// Child processes for the benchmarks: the bot itself (`node dist/main.js`, as production runs it),
// the bare framework bots and the dependency process (simulator, chat stand-ins, through tsx), so
// the load generator never shares an event loop with a server it measures.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `re` in the output (already written or to come). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; only this child's pid. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
// A benchmark that fails half-way must not leave servers behind: kill what is still running.
process.on('exit', () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/**
 * Starts `node [nodeArgs] [--require preload…] <script>` from the repository root with exactly
 * `env` (plus PATH/HOME); a `.ts` script runs through tsx (`--import tsx`). `node`: another Node.js
 * binary than this process's (the measured servers run on production's, bench/lib/build.ts).
 */
export function spawnNode(script: string, env: Record<string, string>, opts: { nodeArgs?: string[]; preload?: string[]; node?: string } = {}): Child {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const args = [...(opts.nodeArgs ?? []), ...loader, ...(opts.preload ?? []).flatMap((p) => ['--require', p]), script];
  const proc = spawn(opts.node ?? process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let out = '';
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  const on = (d: Buffer) => {
    out += d.toString();
    if (out.length > 1_000_000) out = out.slice(-500_000);
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  proc.stdout!.on('data', on);
  proc.stderr!.on('data', on);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    waitFor(re, timeoutMs = 60_000) {
      const m = re.exec(out);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${script}: no ${re} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`)), timeoutMs);
        void exited.then((code) => {
          clearTimeout(t);
          reject(new Error(`${script} exited (${code}) before ${re}; output:\n${out.slice(-4000)}`));
        });
        waiters.push({
          re,
          resolve: (mm) => {
            clearTimeout(t);
            resolve(mm);
          },
        });
      });
    },
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Resident set size of a process in MB (10^6 bytes; Linux /proc reports KiB), or NaN when it is gone. */
export function rssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (Number(m[1]) * 1024) / 1e6 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system, all threads) a process has used so far, in ms (Linux /proc; 100 ticks/s). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

export type RssSampler = ReturnType<typeof sampleRss>;

/** Samples a process's RSS every `everyMs` until stopped; reports the peak and the last value. */
export function sampleRss(pid: number, everyMs = 50) {
  let peak = 0;
  let last = NaN;
  const tick = () => {
    const v = rssMB(pid);
    if (Number.isFinite(v)) {
      last = v;
      peak = Math.max(peak, v);
    }
  };
  tick();
  const t = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(t);
      tick();
      return { peakMB: Math.round(peak), lastMB: Math.round(last) };
    },
    get peakMB() {
      return Math.round(peak);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON over loopback HTTP (the control endpoints of bench/servers/deps.ts). */
export async function getJson<T>(url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, body === undefined ? undefined : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
