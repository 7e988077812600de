// The order of things at /api/messages with an app id: the Bot Framework JWT is checked before
// anything is recorded, so unsigned or forged copies of a click cannot stand in for the real
// one; an unauthenticated caller learns nothing from the answer; and why the Agents SDK refused a
// token goes to our JSON log, never to the caller or straight to the console.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { Store } from '../../src/store/store';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot } from '../helpers/bot';
import { testPglite } from '../helpers/pglite';
import { botFrameworkKeys, type BotFrameworkKeys, startBotTokenIssuer, type BotTokenIssuer } from '../helpers/bot-jwt';
import { policyAllowingEveryone, startChildBot } from '../helpers/child-bot';
import { startConnector, type FakeConnector } from '../helpers/connector';
import { ALICE, cardAction, message, post } from '../helpers/teams';

const APP_ID = '00000000-0000-0000-0000-00000000b07a';
const POLICY = parsePolicy('version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n', 'inline');

let sim: Simulator;
let store: Store;
let connector: FakeConnector;
let issuer: BotTokenIssuer;
let app: App;
const logged: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = [];
const consoleCalls: string[] = [];

beforeAll(async () => {
  // Installed before the app so that anything reaching the console directly is seen here.
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void consoleCalls.push(`${m}: ${args.map(String).join(' ')}`));
  // A cold start: the signing keys take a while to download, as they do from login.botframework.com.
  [sim, store, connector, issuer] = await Promise.all([startSimulator(), Store.open({ kind: 'pglite', ...testPglite() }), startConnector(), startBotTokenIssuer({ keysDelayMs: 1500 })]);
  app = await startApp(issuer.authorityEndpoint);
});

/** The bot with an app id, checking tokens against the keys `authorityEndpoint` publishes. */
function startApp(authorityEndpoint: string): Promise<App> {
  return createApp({
    config: loadConfig({ PORT: '0', LOG_LEVEL: 'silent', MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-a-real-secret', MicrosoftAppType: 'MultiTenant' }),
    simulator: sim,
    store,
    policy: POLICY,
    log: (level, msg, data) => void logged.push({ level, msg, data }),
    teamsAuthorityEndpoint: authorityEndpoint,
  });
}

afterAll(async () => {
  await app?.close();
  await Promise.all([sim?.close(), store?.close(), connector?.close(), issuer?.close()]);
  jest.restoreAllMocks();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const seenRows = async () => Number((await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbound_seen'))[0]!.n);

describe('Teams transport with an app id', () => {
  it('40 unsigned and forged copies of a click do not block the signed click, and record nothing', async () => {
    // Reject without a reason: a real card click whose answer needs nothing from outside.
    const click = cardAction(connector.url, ALICE, 'request.reject', { requestId: 'CR-ABCDEF', digest: 'd'.repeat(64) }, 'card-msg-1');
    const flood = Array.from({ length: 40 }, (_, i) => post(app.url, click, i % 2 ? bearer(issuer.forged(APP_ID, connector.url)) : {}));
    await new Promise((r) => setTimeout(r, 200));
    const signed = await post(app.url, click, bearer(issuer.token(APP_ID, connector.url)));
    const refused = await Promise.all(flood);

    expect(signed.status).toBe(200);
    expect(String(signed.body?.value)).toMatch(/Please give a reason/);
    expect(String(signed.body?.value)).not.toMatch(/already being handled/);
    for (const r of refused) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'unauthorized' });
    }
    // Only the signed click was recorded (its activity key and its action key).
    expect(await seenRows()).toBe(2);
    expect(connector.log).toHaveLength(0);
  });

  it.each([
    ['no Authorization header', () => ({}), /authorization header not found/],
    ['a token that is not a JWT', () => bearer('not-a-jwt'), /invalid token/],
    ['a forged token', () => bearer(issuer.forged(APP_ID, connector.url)), /invalid signature/],
    ['an expired token', () => bearer(issuer.token(APP_ID, connector.url, { exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200 })), /jwt expired/],
    ['a token for another bot', () => bearer(issuer.token('11111111-2222-3333-4444-555555555555', connector.url)), /audience mismatch/i],
    ['a token for another service URL', () => bearer(issuer.token(APP_ID, 'https://smba.example.test/')), /serviceurl claim/],
    // Signed with the authority's own key, but naming an issuer the bot does not trust.
    ['a token from an issuer the bot does not trust', () => bearer(issuer.token(APP_ID, connector.url, { iss: 'https://login.example.test/contoso/v2.0' })), /issuer mismatch/i],
  ])('%s gets a 401 that says nothing more, and the reason goes to the JSON log only', async (_name, headers, reason) => {
    const before = await seenRows();
    consoleCalls.length = 0;
    logged.length = 0;
    const click = cardAction(connector.url, ALICE, 'request.cancel', { requestId: 'CR-ABCDEF' }, 'card-msg-2');
    const res = await fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers() }, body: JSON.stringify(click) });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('{"error":"unauthorized"}');
    expect(await seenRows()).toBe(before);
    expect(consoleCalls).toEqual([]);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'refused an unauthenticated Teams request', data: { reason: expect.stringMatching(reason) } }));
  });

  it('when the signing keys cannot be fetched, a signed click gets 503 with Retry-After (the Bot Connector retries) and nothing is recorded', async () => {
    // An authority that is not answering: the port of a server that has just closed.
    const gone = await startBotTokenIssuer();
    await gone.close();
    const down = await startApp(gone.authorityEndpoint);
    try {
      const before = await seenRows();
      logged.length = 0;
      const click = cardAction(connector.url, ALICE, 'request.reject', { requestId: 'CR-ABCDEF', digest: 'e'.repeat(64) }, 'card-msg-4');
      const res = await fetch(`${down.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(gone.token(APP_ID, connector.url)) }, body: JSON.stringify(click) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.text()).toBe('{"error":"unavailable"}');
      expect(await seenRows()).toBe(before);
      expect(logged).toContainEqual(expect.objectContaining({ level: 'error', msg: 'could not check a Teams request’s token' }));
    } finally {
      await down.close();
    }
  });

  it('an unauthenticated body that is not an activity gets the same 401, not the parser’s findings', async () => {
    const res = await fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'message', from: 42 }) });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('{"error":"unauthorized"}');
  });

  it('an authenticated body that is not an activity is told what is wrong', async () => {
    const bad = { ...cardAction(connector.url, ALICE, 'request.cancel', {}), from: { id: '' } };
    const res = await post(app.url, bad, bearer(issuer.token(APP_ID, connector.url)));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/from\.id/);
  });
});

describe('tokens the Bot Framework issues (https://api.botframework.com), as a Teams channel’s activities carry them', () => {
  let bf: BotFrameworkKeys | undefined;
  // Also when the test times out: no interception left for what runs after it in this worker.
  afterEach(() => bf?.restore());
  it('are checked against the keys at login.botframework.com: a signed one is answered; a forged one, one for another service URL or another bot gets 401 and records nothing', async () => {
    const keys = (bf = botFrameworkKeys());
    // A click whose answer needs nothing from outside (a rejection without a reason): the invoke's own answer.
    const click = cardAction(connector.url, ALICE, 'request.reject', { requestId: 'CR-BFBFBF', digest: 'd'.repeat(64) }, 'card-msg-bf');
    const before = await seenRows();
    const signed = await post(app.url, click, bearer(keys.token(APP_ID, connector.url)));
    expect(signed.status).toBe(200);
    expect(String(signed.body?.value)).toMatch(/Please give a reason/);
    expect(keys.keyFetches()).toBeGreaterThanOrEqual(1);
    expect(await seenRows()).toBe(before + 2);
    for (const [headers, reason] of [
      [bearer(keys.forged(APP_ID, connector.url)), /invalid signature/],
      [bearer(keys.token(APP_ID, 'https://smba.example.test/')), /serviceurl claim/],
      [bearer(keys.token('11111111-2222-3333-4444-555555555555', connector.url)), /audience mismatch/i],
    ] as const) {
      logged.length = 0;
      const res = await post(app.url, cardAction(connector.url, ALICE, 'request.cancel', { requestId: 'CR-BFBFBF' }, 'card-msg-bf2'), headers);
      expect(res.status).toBe(401);
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'refused an unauthenticated Teams request', data: { reason: expect.stringMatching(reason) } }));
    }
    expect(await seenRows()).toBe(before + 2);
  });
});

describe('the real bot process', () => {
  it('refusing unauthenticated requests prints JSON log lines only, no stack traces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmk-transport-'));
    writeFileSync(join(dir, 'policy.yaml'), policyAllowingEveryone());
    const child = await startChildBot(sim, { DATA_DIR: join(dir, 'data'), POLICY_FILE: join(dir, 'policy.yaml'), MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-a-real-secret', MicrosoftAppType: 'MultiTenant', LOG_LEVEL: 'info' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const start = child.output().length;
      const click = cardAction(connector.url, ALICE, 'request.cancel', { requestId: 'CR-ABCDEF' }, 'card-msg-3');
      const answers = await Promise.all([post(child.url, click), post(child.url, click, bearer('not-a-jwt')), post(child.url, click, { authorization: 'Basic dXNlcjpwYXNz' })]);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401]);
      await new Promise((r) => setTimeout(r, 300));
      const lines = child
        .output()
        .slice(start)
        .split('\n')
        .filter((l) => l.trim());
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      expect(lines.join('\n')).not.toMatch(/\n\s+at /);
    } finally {
      await child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('without an app id, only loopback callers', () => {
  it('a caller that is not on loopback gets 401 and nothing happens; the same message from loopback is answered', async () => {
    const bot = await startBot(POLICY);
    // A caller with no loopback address: the bot's own HTTP server takes connections arriving on a
    // Unix domain socket too, where the remote address is undefined (never loopback).
    const dir = mkdtempSync(join(tmpdir(), 'cmk-guard-'));
    const socketPath = join(dir, 'bot.sock');
    const door = createServer((sock) => bot.app.server.emit('connection', sock));
    await new Promise<void>((r) => door.listen(socketPath, () => r()));
    try {
      const msg = JSON.stringify(message(bot.connector.url, ALICE, 'help'));
      const remote = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ socketPath, path: '/api/messages', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(msg) } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end(msg);
      });
      expect(remote.status).toBe(401);
      expect(remote.body).toBe('{"error":"unauthorized"}');
      await new Promise((r) => setTimeout(r, 300));
      expect(bot.connector.log).toHaveLength(0);
      expect(Number((await bot.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbound_seen'))[0]!.n)).toBe(0);

      const local = await fetch(`${bot.app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: msg });
      expect(local.status).toBe(200);
      await bot.connector.waitFor((a) => /new fluid-relay/.test(a.activity.text ?? ''), 5000, 'the help text');
    } finally {
      await new Promise<void>((r) => door.close(() => r()));
      await bot.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
