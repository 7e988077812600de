// Load generation with autocannon (closed loop: N connections, each sends its next request when
// the previous answer is in). Per-request latencies come from autocannon's `response` event, so
// p50/p95/p99 are exact over all samples, not read off a histogram.
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { signedHeaders, slashCommandBody } from '../../src/dev';
import { percentile, round } from './stats';

export interface LoadCell {
  connections: number;
  /** Answered requests (timed-out ones count in the percentiles at the timeout, 20 s). */
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  durationS: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface Built {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const TIMEOUT_S = 20;

export async function runLoad(url: string, connections: number, amount: number, build: () => Built): Promise<LoadCell> {
  const samples: number[] = [];
  const started = performance.now();
  let lastAnswer = started;
  // autocannon's connections share the request objects given in `requests`, and each one's first
  // request is the buffer the last connection built: give every connection its own request object,
  // so no two requests carry the same activity id or trigger id.
  const request = (): autocannon.Request => ({
    method: 'POST',
    setupRequest: (req) => {
      const b = build();
      return { ...req, method: 'POST', path: b.path, headers: b.headers, body: b.body };
    },
  });
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        amount,
        pipelining: 1,
        timeout: TIMEOUT_S,
        requests: [request()],
        setupClient: (client) => client.setRequests([request()]),
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      samples.push(ms);
      lastAnswer = performance.now();
    });
  });
  // A request that timed out took at least the timeout: it counts in the percentiles at that value.
  const timeouts = result.timeouts;
  for (let i = 0; i < timeouts; i++) samples.push(TIMEOUT_S * 1000);
  // From the start to the last answer (autocannon itself reports completion on its 1 s ticks).
  return cellOf(connections, samples, { errors: result.errors, timeouts, non2xx: result.non2xx }, (lastAnswer - started) / 1000);
}

/** A cell's figures from every request's latency (timed-out ones included at the timeout). */
function cellOf(connections: number, samples: number[], counts: { errors: number; timeouts: number; non2xx: number }, durationS: number): LoadCell {
  return {
    connections,
    requests: samples.length - counts.timeouts,
    ...counts,
    durationS: round(durationS, 2),
    rps: round((samples.length - counts.timeouts) / durationS, 0),
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
    max: round(percentile(samples, 100)),
  };
}

/**
 * The same closed loop on connections opened beforehand: `connections` keep-alive sockets are
 * opened (each answers one GET /) before the first measured request, as a platform's ingress keeps
 * its connections to the app. What it leaves out is TCP connection setup, which autocannon's fresh
 * connections (runLoad) include: on a busy Node process a new connection waits for libuv to
 * accept it, one per event-loop turn (docs/benchmarks.md, "Where the tail comes from").
 */
export async function runLoadWarm(url: string, connections: number, amount: number, build: () => Built): Promise<LoadCell> {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; ms: number }>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request(
        { host: target.hostname, port: target.port, method, path, agent, timeout: TIMEOUT_S * 1000, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  try {
    await Promise.all(Array.from({ length: connections }, () => send('GET', '/', {})));
    const open = Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
    if (open !== connections) throw new Error(`warm load: ${open} connections open, not ${connections}`);
    const samples: number[] = [];
    let sent = 0;
    let errors = 0;
    let timeouts = 0;
    let non2xx = 0;
    const started = performance.now();
    let lastAnswer = started;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent < amount) {
          sent++;
          const b = build();
          try {
            const r = await send('POST', b.path, b.headers, b.body);
            samples.push(r.ms);
            if (r.status < 200 || r.status >= 300) non2xx++;
          } catch (e) {
            errors++;
            if ((e as Error).message === 'timeout') {
              timeouts++;
              samples.push(TIMEOUT_S * 1000);
            }
          }
          lastAnswer = performance.now();
        }
      }),
    );
    return cellOf(connections, samples, { errors, timeouts, non2xx }, (lastAnswer - started) / 1000);
  } finally {
    agent.destroy();
  }
}

let seq = 0;
const runTag = randomBytes(3).toString('hex');

/** A Teams message activity as the Agents Playground sends it, with a fresh activity id. */
export function teamsMessage(connectorUrl: string, text: string, conversationId = 'conv-bench'): () => Built {
  return () => ({
    path: '/api/messages',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'message',
      channelId: 'msteams',
      serviceUrl: connectorUrl,
      id: `bench-${runTag}-${++seq}`,
      timestamp: new Date().toISOString(),
      text,
      from: { id: '29:alice', name: 'Alice Requester', aadObjectId: 'aad-alice-0001' },
      recipient: { id: '28:cmk-chatops', name: 'cmk-chatops' },
      conversation: { id: conversationId, conversationType: 'channel', tenantId: 'tenant-1' },
    }),
  });
}

/** A signed `/cmk <text>` slash command; each request takes a fresh trigger id and response_url. */
export function slackSlash(secret: string, text: string, triggers: string[], responseUrls: string[]): () => Built {
  return () => {
    const trigger = triggers.pop();
    const responseUrl = responseUrls.pop();
    if (!trigger || !responseUrl) throw new Error('out of trigger ids or response URLs: mint more before the run');
    const body = slashCommandBody({ text, user_id: 'U0ALEX', user_name: 'alex', channel_id: 'C0CMKREQ', trigger_id: trigger, response_url: responseUrl });
    return { path: '/slack/events', headers: signedHeaders(secret, body, { contentType: 'application/x-www-form-urlencoded' }), body };
  };
}
