// Where a server's CPU went: a V8 .cpuprofile (node --cpu-prof) summarised by self time per
// package (node_modules/<name>, our src/<folder>, node internals, GC) and per function.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function bucketOf(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? '(gc)' : fn === '(idle)' ? '(idle)' : fn === '(program)' ? '(program)' : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/(src|dist|bench|test)\/([^/]+)/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url.split('/')[0]!;
  return url;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  byPackage: Array<{ package: string; selfMs: number; share: string }>;
  topFunctions: Array<{ fn: string; where: string; selfMs: number; share: string }>;
}

function summarizeProfile(file: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const busy = [...self.entries()].filter(([id]) => byId.get(id)!.callFrame.functionName !== '(idle)');
  const total = busy.reduce((a, [, ms]) => a + ms, 0);
  const pkg = new Map<string, number>();
  const fns = new Map<string, { where: string; ms: number }>();
  for (const [id, ms] of busy) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const b = bucketOf(url, functionName);
    pkg.set(b, (pkg.get(b) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'} ${url}:${lineNumber}`;
    const f = fns.get(key) ?? { where: `${url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}`, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
  }
  const share = (ms: number) => `${Math.round((ms / total) * 1000) / 10} %`;
  return {
    file,
    totalMs: Math.round(total),
    byPackage: [...pkg.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ package: k, selfMs: Math.round(ms), share: share(ms) })),
    topFunctions: [...fns.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([k, f]) => ({ fn: k.split(' ')[0]!, where: f.where, selfMs: Math.round(f.ms), share: share(f.ms) })),
  };
}

export function summarizeProfiles(dir: string): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  return files.map((f) => summarizeProfile(join(dir, f)));
}
