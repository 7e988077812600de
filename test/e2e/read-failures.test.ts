// Only 404 means absent. A read during prepare() that fails otherwise (403, 429 after retries)
// must not look like "no identity" or "no experiment": the card says what Azure answered, with
// the code and correlation id, nothing is stored and nothing is written — end to end through
// /api/messages, with the simulator's fault injection.
import { SIM_CHAOS_CMK, SIM_FLUID_CMK, SIM_IDENTITY, SIM_KEY, SIM_RBAC_VAULT, SIM_STORAGE_CMK, simChaosId, simFluidRelayId, simIdentityId, simKeyUrl, simStorageId } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n`, 'inline'), {}, undefined, {
    armTuning: { maxRetries: 2, retryDelayMs: 10, defaultPollMs: 50 },
  });
});
afterAll(() => bot?.close());
beforeEach(() => bot.sim.reset());

const storage = simStorageId(SIM_STORAGE_CMK);
const CASES: Array<[string, string, Record<string, string>]> = [
  ['storage-cmk (the account’s identity)', storage, { targetType: 'storage-cmk', storageAccountId: storage, identityId: simIdentityId(SIM_IDENTITY), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: 'latest' }],
  [
    'fluid-relay-rotate (the server’s identities)',
    simFluidRelayId(SIM_FLUID_CMK),
    { targetType: 'fluid-relay-rotate', resourceId: simFluidRelayId(SIM_FLUID_CMK), identityId: simIdentityId(SIM_IDENTITY), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: 'latest' },
  ],
  ['chaos-identity (the experiment’s storage)', simChaosId(SIM_CHAOS_CMK), { targetType: 'chaos-identity', resourceId: simChaosId(SIM_CHAOS_CMK), identityId: simIdentityId(SIM_IDENTITY) }],
];

const FAULTS: Array<[string, { status: number; code: string; retryAfterSeconds?: number }]> = [
  ['403', { status: 403, code: 'AuthorizationFailed' }],
  ['429 after retries', { status: 429, code: 'TooManyRequests', retryAfterSeconds: 0 }],
];

describe.each(FAULTS)('a %s reading the resource before planning', (_n, fault) => {
  it.each(CASES)('%s: surfaces on the card with code and correlation id; nothing stored or written', async (_name, resourceId, form) => {
    bot.sim.injectFault({ method: 'GET', pathIncludes: resourceId.split('/').pop()!, ...fault, message: 'denied for this test', times: Infinity });
    const before = (await bot.store.listRequests({ limit: 500 })).length;
    const { text, requestId } = await submitForm(bot, form, undefined, `conv-${Math.random().toString(36).slice(2, 8)}`);
    const failed = bot.sim.requests.filter((r) => r.method === 'GET' && r.path.toLowerCase() === resourceId.toLowerCase() && r.status === fault.status).at(-1)!;
    expect(failed).toBeDefined();
    expect(text).toMatch(/Could not run the checks/);
    expect(text).toContain(fault.code);
    expect(text).toContain(failed.headers['x-ms-correlation-request-id']!);
    expect(requestId).toBeUndefined();
    expect((await bot.store.listRequests({ limit: 500 })).length).toBe(before);
    expect(bot.sim.writes()).toHaveLength(0);
    // A throttled read was retried before it surfaced; a 403 is not retried.
    const tries = bot.sim.requests.filter((r) => r.method === 'GET' && r.path.toLowerCase() === resourceId.toLowerCase()).length;
    expect(tries).toBe(fault.status === 429 ? 3 : 1);
  });
});

it('a resource that is not there (404) is still "absent": the checks say so, not an error', async () => {
  const gone = simFluidRelayId('fr-does-not-exist');
  const { text } = await submitForm(bot, { targetType: 'fluid-relay-rotate', resourceId: gone, identityId: simIdentityId(SIM_IDENTITY), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: 'latest' });
  expect(text).toMatch(/Prerequisite checks:/);
  expect(text).not.toMatch(/Could not run the checks/);
  expect(bot.sim.writes()).toHaveLength(0);
});
