// The real bot over HTTP for the hostile-input properties: the shared test bot (simulator, PGlite,
// connector stand-in) with its log captured, so an internal fault is seen even when the channel
// answers politely, plus what "nothing changed" means: rows, approvals and ARM writes.
import type { Log } from '../../src/log';
import type { Policy } from '../../src/workflow/policy';
import { startBot, type TestBot } from '../helpers/bot';
import { STACK_TRACE } from './support';

export interface LogLine {
  level: string;
  msg: string;
  data?: Record<string, unknown>;
}

export interface Harness {
  bot: TestBot;
  url: string;
  /** Every log line the app wrote. */
  lines: LogLine[];
  /** Error-level lines since `mark()` (an unexpected failure, a failed job). */
  errorsSince(mark: number): LogLine[];
  mark(): number;
  counts(): Promise<Counts>;
  /** Wait until the work a request started after its answer (jobs, durable queue) is done. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface Counts {
  requests: number;
  approvals: number;
  armWrites: number;
}

export async function startHarness(policy: Policy, env: Record<string, string> = {}): Promise<Harness> {
  const lines: LogLine[] = [];
  const log: Log = (level, msg, data) => void lines.push({ level, msg, data });
  const bot = await startBot(policy, env, undefined, { log });
  const count = async (table: string) => Number((await bot.store.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n ?? 0);
  const app = bot.app as typeof bot.app & { queue?: { drain?: (timeoutMs?: number, horizonMs?: number) => Promise<void> } };
  return {
    bot,
    url: bot.app.url,
    lines,
    mark: () => lines.length,
    errorsSince: (mark) => lines.slice(mark).filter((l) => l.level === 'error'),
    counts: async () => ({ requests: await count('change_requests'), approvals: await count('approvals'), armWrites: bot.sim.writes().length }),
    async settle() {
      for (let i = 0; i < 2; i++) {
        await bot.app.jobs.drain();
        await app.queue?.drain?.(10_000, 500);
      }
    },
    close: () => bot.close(),
  };
}

/** A human-readable summary of error lines, for assertion messages. */
export function describeErrors(lines: LogLine[]): string {
  return lines.map((l) => `${l.msg} ${JSON.stringify(l.data ?? {}).slice(0, 600)}`).join('\n');
}

/** What a person must never see: an internal fault or its trace. */
export const FAULT_TEXT = /Something went wrong on my side/;

export function expectNoFaultText(text: string): void {
  expect(text).not.toMatch(FAULT_TEXT);
  expect(text).not.toMatch(STACK_TRACE);
}
