// Who may talk to /api/messages: with a Microsoft app id configured, only requests carrying a
// valid Bot Framework JWT; without one (local use), only loopback callers.
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { isLoopback } from '../../src/chat/teams/channel';
import { startSimulator, type Simulator } from '../../src/simulator';
import { Store } from '../../src/store/store';
import { parsePolicy } from '../../src/workflow/policy';
import { startConnector, type FakeConnector } from '../helpers/connector';
import { testPglite } from '../helpers/pglite';
import { ALICE, message, post } from '../helpers/teams';

const POLICY = parsePolicy('version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n', 'inline');

let sim: Simulator;
let store: Store;
let connector: FakeConnector;
let app: App;

beforeAll(async () => {
  // Whatever a library prints about a refused request is not asserted here; the 401 is.
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  [sim, store, connector] = await Promise.all([startSimulator(), Store.open({ kind: 'pglite', ...testPglite() }), startConnector()]);
  app = await createApp({
    config: loadConfig({ PORT: '0', LOG_LEVEL: 'silent', MicrosoftAppId: '00000000-0000-0000-0000-00000000b07a', MicrosoftAppPassword: 'not-a-real-secret', MicrosoftAppType: 'MultiTenant' }),
    simulator: sim,
    store,
    policy: POLICY,
  });
});

afterAll(async () => {
  await app?.close();
  await Promise.all([sim?.close(), store?.close(), connector?.close()]);
});

describe('Teams endpoint authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a token that is not a JWT', { authorization: 'Bearer not-a-jwt' }],
    ['a non-bearer scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
  ])('with an app id configured, %s gets 401 and changes nothing', async (_name, headers) => {
    const res = await post(app.url, message(connector.url, ALICE, 'new fluid-relay'), headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(connector.log).toHaveLength(0);
    expect(sim.requests).toHaveLength(0);
    expect(await store.listRequests()).toHaveLength(0);
  });

  it('health stays open', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('is ready while the database and ARM answer, and says which one is not', async () => {
    const ok = await fetch(`${app.url}/readyz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ready', database: 'ok', arm: 'ok' });
    sim.injectFault({ pathIncludes: '/subscriptions', status: 0, times: Infinity }); // connections dropped, retries too
    try {
      const down = await fetch(`${app.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'not ready', database: 'ok', arm: expect.stringMatching(/^unavailable/) });
    } finally {
      sim.reset();
    }
  });

  it('exposes Prometheus metrics: requests by route, ARM calls and latency, running jobs', async () => {
    await fetch(`${app.url}/healthz`);
    await fetch(`${app.url}/readyz`);
    const res = await fetch(`${app.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^cmk_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+$/m);
    expect(text).toMatch(/^cmk_http_requests_total\{method="POST",route="\/api\/messages",status="401"\} 3$/m);
    expect(text).toMatch(/^cmk_arm_calls_total\{method="GET",status="200"\} \d+$/m);
    // Label order is not meaning in Prometheus' text format (prom-client writes `le` first).
    expect(text).toMatch(/^cmk_arm_call_duration_seconds_bucket\{le="\+Inf",method="GET"\} \d+$/m);
    expect(text).toMatch(/^cmk_jobs_running 0$/m);
    expect(text).toMatch(/^cmk_job_queue_depth \d+$/m);
    expect(text).toMatch(/^cmk_job_queue_failed \d+$/m);
  });

  it('an oversized body is refused with 413 before it is parsed or authenticated, and nothing changes', async () => {
    const big = JSON.stringify({ ...message(connector.url, ALICE, 'help'), text: 'x'.repeat(300 * 1024) });
    const res = await fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'Request body too large.' });
    expect(connector.log).toHaveLength(0);
    expect(await store.listRequests()).toHaveLength(0);
  });

  it('every answer carries a request id (the caller’s when it sends a sane one)', async () => {
    const mine = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-abc.123');
    const odd = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'has spaces <script>' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a malformed body is a clear 400, not a stack trace', async () => {
    const res = await fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":' });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"error":"Request body is not valid JSON."}');
  });
});

describe('anonymous mode is loopback-only', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.0.0.53', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.4', false],
    ['::ffff:192.168.1.10', false],
    ['fe80::1', false],
    [undefined, false],
  ])('%s → %s', (addr, ok) => {
    expect(isLoopback(addr)).toBe(ok);
  });
});
