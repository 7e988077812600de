// Fault injection against the simulator, through the real HTTP endpoint and the real SDK client:
// latency, 429 with Retry-After, 500, reset connections and hung requests, at the checks, at the
// write and while polling. Every request ends in the right terminal state, a write is applied at
// most once (looked up before it is sent again), and a failure that remains is on the card with
// the ARM code and correlation id.
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { BOB, cardAction, post } from '../helpers/teams';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(
    parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n`, 'inline'),
    { ARM_TIMEOUT_MS: '700' },
    undefined,
    { armTuning: { maxRetries: 3, retryDelayMs: 30, defaultPollMs: 50, maxOperationMs: 5000 }, resumePollMs: 50, queueTuning: { retryBaseMs: 50 } },
  );
});
afterAll(() => bot?.close());
beforeEach(() => {
  bot.sim.reset();
  bot.sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 2 });
});

const fluid = () => fluidRelayForm(`fr-fault-${Math.random().toString(36).slice(2, 8)}`);
const chaos = () => chaosExperimentForm(`exp-fault-${Math.random().toString(36).slice(2, 8)}`);

/** Submit, approve, and wait for the request's terminal state; returns it with its final card. */
async function run(data: Record<string, string>) {
  // A conversation of its own, so one test's chat posts do not spend the next one's rate limit.
  const conversation = `conv-${data.name}`;
  const { requestId, formMsg, text } = await submitForm(bot, data, undefined, conversation);
  expect(text).toMatch(/Waiting for 1 more approval/);
  await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg, conversation));
  const end = Date.now() + 25_000;
  for (;;) {
    const req = (await bot.store.getRequest(requestId!))!;
    if (['succeeded', 'failed'].includes(req.state)) {
      await bot.app.queue.drain();
      const card = [...bot.connector.log].reverse().find((a) => a.kind === 'update' && a.id === formMsg);
      return { req, card: cardText(card?.activity), path: data.name! };
    }
    if (Date.now() > end) throw new Error(`request ${requestId} stuck in ${req.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const puts = (name: string) => bot.sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/${name}`));
const applied = (name: string) => puts(name).filter((r) => r.status >= 200 && r.status < 300);

describe('faults at the write', () => {
  it('latency on every call: the request still completes, one write', async () => {
    bot.sim.setLatency(150);
    const { req, path } = await run(fluid());
    expect(req.state).toBe('succeeded');
    expect(puts(path)).toHaveLength(1);
  });

  it('429 with Retry-After on the PUT: waits as told, then one write lands', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'PUT', pathIncludes: data.name, status: 429, retryAfterSeconds: 1, times: 2 });
    const { req } = await run(data);
    expect(req.state).toBe('succeeded');
    const tries = puts(data.name);
    expect(tries.map((t) => t.status)).toEqual([429, 429, 200]);
    expect(tries[2]!.at - tries[0]!.at).toBeGreaterThanOrEqual(1900); // two Retry-After: 1 waits
  });

  it('500 before the write was applied: looked up (absent), sent again, applied once', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'PUT', pathIncludes: data.name, status: 500 });
    const { req } = await run(data);
    expect(req.state).toBe('succeeded');
    expect(puts(data.name).map((t) => t.status)).toEqual([500, 200]);
    expect(applied(data.name)).toHaveLength(1);
  });

  it('500 after the write was applied: looked up (there), not sent again', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'PUT', pathIncludes: data.name, status: 500, afterApply: true });
    const { req } = await run(data);
    expect(req.state).toBe('succeeded');
    expect(puts(data.name)).toHaveLength(1);
    const trail = await bot.store.auditTrail(req.id);
    expect(trail.find((r) => r.event === 'arm_call')?.data).toMatchObject({ ok: true });
  });

  it('the connection is reset after the write was applied: not sent again', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'PUT', pathIncludes: data.name, status: 0, afterApply: true });
    const { req } = await run(data);
    expect(req.state).toBe('succeeded');
    expect(puts(data.name)).toHaveLength(1);
  });

  it('a hung PUT times out, is looked up (absent) and sent again once', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'PUT', pathIncludes: data.name, hang: true });
    const { req } = await run(data);
    expect(req.state).toBe('succeeded');
    expect(puts(data.name).map((t) => t.status)).toEqual([-1, 200]);
  });

  it('a PUT that keeps failing ends `failed`, with the ARM code and correlation id on the card, and nothing half-recorded', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'PUT', pathIncludes: data.name, status: 503, code: 'ServiceUnavailable', message: 'The service is unavailable.', times: Infinity });
    const { req, card } = await run(data);
    expect(req.state).toBe('failed');
    expect(applied(data.name)).toHaveLength(0);
    expect(puts(data.name)).toHaveLength(4); // the first try and three retries, each looked up first
    const last = puts(data.name).at(-1)!;
    expect(req.result?.message).toMatch(/ServiceUnavailable/);
    expect(req.result?.correlationId).toBe(last.headers['x-ms-correlation-request-id']);
    expect(card).toMatch(/ServiceUnavailable/);
    expect(card).toContain(last.headers['x-ms-correlation-request-id']!);
    const trail = await bot.store.auditTrail(req.id);
    expect(trail.map((r) => r.event).slice(-2)).toEqual(['checked', 'arm_call']);
    expect(trail.at(-1)!.data).toMatchObject({ ok: false, code: 'ServiceUnavailable', status: 503 });
    expect(await bot.store.verifyAuditChain()).toMatchObject({ ok: true });
  });

  it('a 400 is not retried: the request fails at once with Azure’s words', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'PUT', pathIncludes: data.name, status: 400, code: 'InvalidRequestContent', message: 'bad body', times: Infinity });
    const { req } = await run(data);
    expect(req.state).toBe('failed');
    expect(puts(data.name)).toHaveLength(1);
    expect(req.result?.message).toMatch(/InvalidRequestContent: bad body/);
  });
});

describe('faults in our own store', () => {
  it('a submission that cannot be stored is retried, then the card says so instead of "running checks" for ever', async () => {
    await bot.store.db.exec('ALTER TABLE change_requests RENAME TO change_requests_away');
    let text: string;
    try {
      ({ text } = await submitForm(bot, fluid()));
    } finally {
      await bot.store.db.exec('ALTER TABLE change_requests_away RENAME TO change_requests');
    }
    expect(text).toMatch(/Could not run the checks/);
    expect(text).toMatch(/Nothing was stored; submit the form again/);
    expect(bot.sim.writes()).toHaveLength(0);
  });
});

describe('faults at the checks and while polling', () => {
  it('reset connections and a hung read during the checks are retried; the request completes', async () => {
    const data = fluid();
    bot.sim.injectFault({ method: 'GET', pathIncludes: '/vaults/', status: 0, times: 2 });
    bot.sim.injectFault({ method: 'GET', pathIncludes: '/userAssignedIdentities/', hang: true });
    const { req } = await run(data);
    expect(req.state).toBe('succeeded');
    expect(bot.sim.requests.filter((r) => r.status === 0)).toHaveLength(2);
    expect(bot.sim.requests.filter((r) => r.status === -1)).toHaveLength(1);
    expect(req.checks.every((c) => c.status !== 'error')).toBe(true);
  });

  it('a read that keeps failing is an `error` check with the code; the request stops before approval', async () => {
    bot.sim.injectFault({ method: 'GET', pathIncludes: '/userAssignedIdentities/', status: 500, code: 'InternalServerError', times: Infinity });
    const { requestId, text } = await submitForm(bot, fluid());
    expect(text).toMatch(/InternalServerError/);
    expect((await bot.store.getRequest(requestId!))?.state).toBe('checked');
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('a Chaos long-running PUT whose polls meet 503s and latency is followed to the end, one PUT', async () => {
    const data = chaos();
    bot.sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 3 });
    bot.sim.injectFault({ method: 'GET', pathIncludes: '/operationStatuses/', status: 503, times: 2 });
    bot.sim.injectFault({ method: 'GET', pathIncludes: '/operationStatuses/', delayMs: 300 });
    const { req } = await run(data);
    expect(req.state).toBe('succeeded');
    expect(puts(data.name)).toHaveLength(1);
    expect(bot.sim.requests.filter((r) => r.path.includes('/operationStatuses/') && r.status === 503)).toHaveLength(2);
  });

  it('an operation that never finishes is given up after its deadline: `failed`, saying it may still finish', async () => {
    const data = chaos();
    bot.sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 1_000_000 });
    const { req, card } = await run(data);
    expect(req.state).toBe('failed');
    expect(req.result?.message).toMatch(/OperationTimedOut: Azure did not finish the operation .* it may still finish/);
    expect(card).toMatch(/OperationTimedOut/);
    expect(puts(data.name)).toHaveLength(1);
  });

  it('a Chaos operation that ends Failed fails the request with Azure’s error', async () => {
    const data = chaos();
    bot.sim.injectOperationFailure({ resourceIdIncludes: data.name, code: 'DeploymentFailed', message: 'The storage account refused the key.' });
    const { req, card } = await run(data);
    expect(req.state).toBe('failed');
    expect(card).toMatch(/DeploymentFailed/);
    expect(puts(data.name)).toHaveLength(1);
  });
});
