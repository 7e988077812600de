// The database statements on a Slack form's path, on embedded PGlite, timed one by one in a child
// process on the production runtime with production's flags (start:prod), and the form's session
// stored the way it was before migration 006 (jsonb) beside the way it is now (text, uncompressed).
// `npm run bench -- sessions`
import { benchBuild } from './lib/build';
import { spawnNode } from './lib/proc';

export interface SessionRow {
  statement: string;
  sessionBytes: number | null;
  statements: number;
  cpuMsPerStatement: number;
  wallMsPerStatement: number;
}

export async function benchSessions(): Promise<SessionRow[]> {
  const build = benchBuild();
  const child = spawnNode('bench/servers/session-writes.ts', {}, { node: build.node, nodeArgs: build.botNodeArgs });
  const m = await child.waitFor(/BENCH_SESSIONS (\[.*\])\n/, 120_000);
  return JSON.parse(m[1]!) as SessionRow[];
}
