// The database statements on a Slack form's path, on embedded PGlite, timed one by one in a child
// process on the production runtime with production's flags (start:prod), and the form's session
// stored the way it was before migration 006 (jsonb) beside the way it is now (text, uncompressed).
// `npm run bench -- sessions`
import { productionFlags, productionNode } from './lib/build';
import { spawnNode } from './lib/proc';

export interface SessionRow {
  statement: string;
  sessionBytes: number | null;
  statements: number;
  cpuMsPerStatement: number;
  wallMsPerStatement: number;
}

export async function benchSessions(): Promise<SessionRow[]> {
  // The store's source through tsx (no build needed): the statements are PGlite's work, not ours.
  const child = spawnNode('bench/servers/session-writes.ts', {}, { node: productionNode(), nodeArgs: productionFlags() });
  const m = await child.waitFor(/BENCH_SESSIONS (\[.*\])\n/, 120_000);
  return JSON.parse(m[1]!) as SessionRow[];
}
