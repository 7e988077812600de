// The dependencies of the bot under test, in processes of their own: BENCH_PARTS=azure is the local
// Azure simulator (HTTPS); BENCH_PARTS=chat the Bot Framework connector stand-in (Teams replies) and
// the Slack Web API stand-in. Each has a small control endpoint for the benchmark driver and prints
// one line `BENCH_DEPS {json}` when ready. With BENCH_BUDGET=1 the azure process also runs ARM's
// throttling in front of the simulator (bench/servers/arm-budget.ts) and names it budgetEndpoint.
//   node --import tsx bench/servers/deps.ts   (env: BENCH_PARTS, BENCH_TLS_DIR, BENCH_SIM_LATENCY, BENCH_BUDGET)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FORM_CALLBACK } from '../../src/chat/slack/form-modal';
import { startSlackStandIn } from '../../src/dev';
import { startSimulator } from '../../src/simulator';
import { startConnector } from '../../test/helpers/connector';
import { startBudgetFront } from './arm-budget';

export const BENCH_SLACK_USERS = { U0ALEX: { name: 'alex' }, U0RILEY: { name: 'riley' }, U0SAM: { name: 'sam' } };

export interface DepsInfo {
  /** Control endpoint of the simulator's process (latency, journal). */
  control: string;
  /** Control endpoint of the chat stand-ins' process (trigger ids). */
  chatControl: string;
  armEndpoint: string;
  /** ARM's throttling in front of the simulator (BENCH_BUDGET=1), same certificate. */
  budgetEndpoint?: string;
  caPath: string;
  connectorUrl: string;
  slackApiUrl: string;
  slackBotToken: string;
}

/** A modal a views.open opened: a form's loading modal (filled in later by views.update), a whole form, or something else (a notice). */
function modalKind(view: unknown): 'loading' | 'form' | 'other' {
  const v = (view ?? {}) as { callback_id?: unknown; blocks?: unknown };
  const inputs = Array.isArray(v.blocks) && (v.blocks as Array<{ type?: unknown }>).some((b) => b?.type === 'input');
  return inputs ? 'form' : v.callback_id === FORM_CALLBACK ? 'loading' : 'other';
}

export interface DepsStats {
  armRequests: number;
  armWrites: number;
  /** Web API calls plus posts to response_url. */
  slackCalls: number;
  slackErrors: Record<string, number>;
  slackByMethod: Record<string, number>;
  /** Successful views.open calls by what they opened: loading modals wait for their views.update; a whole form is filled in already. */
  slackOpened: { loading: number; form: number; other: number };
  /** Posts to response_url. */
  slackResponses: number;
  connectorActivities: number;
  /** Requests the throttling front answered 429 (BENCH_BUDGET=1). */
  budgetThrottled?: { reads: number; writes: number };
}

export interface JournalEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  at: number;
}

async function main() {
  const parts = process.env.BENCH_PARTS ?? 'azure';
  const tlsDir = process.env.BENCH_TLS_DIR;
  if (parts === 'azure' && !tlsDir) throw new Error('BENCH_TLS_DIR is required');
  const sim = parts === 'azure' ? await startSimulator({ tlsDir, latencyMs: Number(process.env.BENCH_SIM_LATENCY ?? 0) }) : undefined;
  const budget = sim && process.env.BENCH_BUDGET === '1' ? await startBudgetFront(sim.endpoint, sim.ca, tlsDir!) : undefined;
  const connector = parts === 'chat' ? await startConnector() : undefined;
  // Trigger ids are minted ahead of a load run, so they live longer than Slack's 3 s here.
  const slack = parts === 'chat' ? await startSlackStandIn({ users: BENCH_SLACK_USERS, triggerTtlMs: 30 * 60_000 }) : undefined;

  const body = (req: IncomingMessage) =>
    new Promise<Record<string, unknown>>((resolve) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => resolve(raw ? (JSON.parse(raw) as Record<string, unknown>) : {}));
    });
  const send = (res: ServerResponse, v: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(v));
  };
  const stats = (): DepsStats => {
    const slackErrors: Record<string, number> = {};
    const slackByMethod: Record<string, number> = {};
    const slackOpened = { loading: 0, form: 0, other: 0 };
    for (const c of slack?.calls ?? []) {
      slackByMethod[c.method] = (slackByMethod[c.method] ?? 0) + 1;
      if (c.error) slackErrors[`${c.method}:${c.error}`] = (slackErrors[`${c.method}:${c.error}`] ?? 0) + 1;
      else if (c.method === 'views.open') slackOpened[modalKind(c.args.view)]++;
    }
    return {
      armRequests: sim?.requests.length ?? 0,
      armWrites: sim?.writes().length ?? 0,
      slackCalls: (slack?.calls.length ?? 0) + (slack?.responses.length ?? 0),
      slackErrors,
      slackByMethod,
      slackOpened,
      slackResponses: slack?.responses.length ?? 0,
      connectorActivities: connector?.log.length ?? 0,
      ...(budget ? { budgetThrottled: budget.stats().throttled } : {}),
    };
  };

  const control = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const b = req.method === 'POST' ? await body(req) : {};
      switch (url.pathname) {
        case '/stats':
          return send(res, stats());
        case '/triggers': {
          const n = Number(b.n ?? 1);
          const user = String(b.user ?? 'U0ALEX');
          return send(res, { ids: Array.from({ length: n }, () => slack!.triggerId({ user })) });
        }
        case '/responseUrls': {
          const n = Number(b.n ?? 1);
          return send(res, { urls: Array.from({ length: n }, () => slack!.responseUrl({ channel: 'C0CMKREQ', user: String(b.user ?? 'U0ALEX') })) });
        }
        case '/latency':
          sim!.setLatency(Number(b.ms ?? 0));
          return send(res, { ok: true });
        case '/journal': {
          const from = Number(url.searchParams.get('from') ?? 0);
          const out: JournalEntry[] = (sim?.requests ?? []).slice(from).map((r) => ({ method: r.method, path: r.path, query: r.query, status: r.status, at: r.at }));
          return send(res, { total: sim?.requests.length ?? 0, entries: out });
        }
        case '/clear':
          // Between measurements only: forgets journals (memory), not the simulated tenant.
          if (sim) sim.requests.length = 0;
          budget?.reset();
          if (connector) {
            connector.log.length = 0;
            connector.messages.clear();
          }
          slack?.reset();
          return send(res, { ok: true });
        default:
          res.writeHead(404).end();
      }
    })().catch((e: unknown) => {
      res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', () => r()));
  const info: Partial<DepsInfo> = {
    [parts === 'azure' ? 'control' : 'chatControl']: `http://127.0.0.1:${(control.address() as { port: number }).port}`,
    ...(sim ? { armEndpoint: sim.endpoint, caPath: sim.caPath! } : {}),
    ...(budget ? { budgetEndpoint: budget.endpoint } : {}),
    ...(connector ? { connectorUrl: connector.url } : {}),
    ...(slack ? { slackApiUrl: slack.url, slackBotToken: slack.botToken } : {}),
  };
  process.stdout.write(`BENCH_DEPS ${JSON.stringify(info)}\n`);
  const stop = () => {
    control.close();
    void Promise.all([budget?.close(), sim?.close(), connector?.close(), slack?.close()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
