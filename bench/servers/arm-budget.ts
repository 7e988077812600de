// ARM's throttling in front of the simulator (which only counts down the legacy hourly budgets and
// never throttles on its own): a token bucket per subscription and kind — reads 250, refilled 25
// per second; writes 200, refilled 10 per second — that answers 429 SubscriptionRequestsThrottled
// with Retry-After when empty, and otherwise forwards the request and reports what is left in
// x-ms-ratelimit-remaining-subscription-reads|writes, as ARM does. HTTPS with the simulator's own
// certificate, so the bot trusts it through the same ARM_CA_FILE.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ARM_BUDGET = { reads: { burst: 250, perSecond: 25 }, writes: { burst: 200, perSecond: 10 } } as const;

export interface BudgetFront {
  endpoint: string;
  stats(): { forwarded: number; throttled: { reads: number; writes: number } };
  reset(): void;
  close(): Promise<void>;
}

export async function startBudgetFront(simEndpoint: string, ca: string, tlsDir: string): Promise<BudgetFront> {
  const upstream = new URL(simEndpoint);
  const agent = new https.Agent({ keepAlive: true, ca });
  const buckets = new Map<string, { tokens: number; at: number }>();
  let forwarded = 0;
  const throttled = { reads: 0, writes: 0 };
  let endpoint = '';
  const take = (key: string, kind: 'reads' | 'writes'): { ok: boolean; left: number; retryAfter: number } => {
    const { burst, perSecond } = ARM_BUDGET[kind];
    const now = Date.now();
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    buckets.set(key, b);
    if (b.tokens < 1) return { ok: false, left: 0, retryAfter: Math.max(1, Math.ceil((1 - b.tokens) / perSecond)) };
    b.tokens -= 1;
    return { ok: true, left: Math.floor(b.tokens), retryAfter: 0 };
  };
  const server = https.createServer({ key: readFileSync(join(tlsDir, 'server-key.pem')), cert: readFileSync(join(tlsDir, 'server.pem')) }, (req, res) => {
    const url = req.url ?? '/';
    const sub = /^\/+subscriptions\/([^/?]+)/i.exec(url)?.[1]?.toLowerCase() ?? '(tenant)';
    const kind = req.method === 'GET' || req.method === 'HEAD' ? 'reads' : 'writes';
    const t = take(`${sub}:${kind}`, kind);
    if (!t.ok) {
      throttled[kind]++;
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(t.retryAfter), [`x-ms-ratelimit-remaining-subscription-${kind}`]: '0' });
      res.end(
        JSON.stringify({
          error: {
            code: 'SubscriptionRequestsThrottled',
            message: `Number of '${kind === 'reads' ? 'read' : 'write'}' requests for subscription '${sub}' exceeded the limit. Please try again after '${t.retryAfter}' seconds.`,
          },
        }),
      );
      return;
    }
    forwarded++;
    const up = https.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: { ...req.headers, host: upstream.host }, agent }, (ur) => {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(ur.headers)) if (v !== undefined) headers[k] = typeof v === 'string' ? v.split(simEndpoint).join(endpoint) : v;
      headers[`x-ms-ratelimit-remaining-subscription-${kind}`] = String(t.left);
      res.writeHead(ur.statusCode ?? 502, headers);
      ur.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    endpoint,
    stats: () => ({ forwarded, throttled: { ...throttled } }),
    reset() {
      buckets.clear();
      forwarded = 0;
      throttled.reads = 0;
      throttled.writes = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
