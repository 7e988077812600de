// Chaos Studio experiments and storage-account CMK in Teams, end to end against the simulator:
// a CMK experiment from a template (long-running PUT), a CMK copy of an existing experiment, the
// storage checks, and switching a storage account to CMK — asserting the ARM bodies.
import {
  SIM_CHAOS_CONTAINER,
  SIM_CHAOS_EXISTING,
  SIM_IDENTITY,
  SIM_KEY,
  SIM_LOCATION,
  SIM_RBAC_VAULT,
  SIM_STORAGE_CMK,
  SIM_STORAGE_NO_BLOB_ROLE,
  SIM_STORAGE_NO_CMK,
  SIM_STORAGE_PRIVATE,
  simChaosId,
  simChaosVmTargetId,
  simIdentityId,
  simKeyUrl,
  simStorageId,
} from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, firstCard, clickData } from '../helpers/connector';
import { chaosExperimentForm } from '../helpers/forms';
import { ALICE, BOB, cardAction, message, post } from '../helpers/teams';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n`, 'inline'));
});
afterAll(() => bot?.close());
beforeEach(() => {
  bot.sim.reset();
  bot.sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 2 });
});

const chaos = (over: Record<string, string> = {}) => chaosExperimentForm(`exp-${Math.random().toString(36).slice(2, 8)}`, over);

async function approveAndWait(requestId: string, formMsg: string, done: RegExp) {
  await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
  return bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && done.test(cardText(a.activity)), 20000, 'final card');
}

describe('Chaos Studio experiment with CMK', () => {
  it('from a template: the newest api-version with customerDataStorage (2026-11-01), the user-assigned identity, a followed long-running PUT, verified', async () => {
    const data = chaos();
    const { requestId, formMsg, text } = await submitForm(bot, data);
    expect(text).toMatch(/Waiting for 1 more approval/);
    expect(text).toContain('✅ **chaos.api-version**');
    expect(text).toMatch(/✅ \*\*chaos.identity-match\*\* — .*doc’s own sample uses a SystemAssigned identity/);
    expect(text).toContain('✅ **storage.cmk-enabled**');
    // Where the experiment reaches, as facts on the card: the template's one VM, its group and subscription.
    expect(text).toMatch(/ℹ️ \*\*chaos.blast-radius\*\* — Experiment exp-\w+ reaches 1 resource \(\S+\) in 1 resource group, across 1 subscription\./);
    const final = await approveAndWait(requestId!, formMsg, /Created with customer data storage and verified/);
    expect(cardText(final.activity)).toContain('✅ **chaos.verify** — GET (2026-11-01) shows the approved storage account and container');

    const puts = bot.sim.writes().filter((w) => w.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0]!.query['api-version']).toBe('2026-11-01');
    expect(puts[0]!.body).toEqual({
      location: SIM_LOCATION,
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } },
      properties: {
        steps: [
          {
            name: 'step1',
            branches: [{ name: 'branch1', actions: [{ type: 'continuous', name: 'urn:csci:microsoft:virtualMachine:shutdown/1.0', selectorId: 'selector1', duration: 'PT10M', parameters: [{ key: 'abruptShutdown', value: 'false' }] }] }],
          },
        ],
        selectors: [{ type: 'List', id: 'selector1', targets: [{ type: 'ChaosTarget', id: simChaosVmTargetId() }] }],
        customerDataStorage: { storageAccountResourceId: simStorageId(SIM_STORAGE_CMK), blobContainerName: SIM_CHAOS_CONTAINER },
      },
    });
    // The operation was followed (polled), and its URL stored before the first poll.
    expect(bot.sim.requests.filter((r) => r.method === 'GET' && /operationStatuses/i.test(r.path)).length).toBeGreaterThanOrEqual(2);
    const trail = await bot.store.auditTrail(requestId!);
    const started = trail.find((r) => r.event === 'operation_started');
    expect(started?.data.operationUrl).toMatch(/\/providers\/Microsoft\.Chaos\/locations\/.*\/operationStatuses\//i);
    expect(trail.findIndex((r) => r.event === 'operation_started')).toBeLessThan(trail.findIndex((r) => r.event === 'arm_call'));
  });

  it('--from copies an existing experiment’s steps and selectors into a new CMK experiment', async () => {
    const sourceId = simChaosId(SIM_CHAOS_EXISTING);
    await post(bot.app.url, message(bot.connector.url, ALICE, `new chaos-experiment --from ${sourceId}`));
    const form = await bot.connector.waitFor((a) => cardText(a.activity).includes(`Copying the steps and selectors of ${sourceId}`), 10000, 'copy form');
    const inputs = (firstCard(form.activity)!.body as Array<{ id?: string; value?: string }>).filter((b) => b.id);
    const definition = inputs.find((b) => b.id === 'definition')?.value;
    expect(definition).toBeTruthy();
    const source = bot.sim.state.get(sourceId)!;
    const copied = JSON.parse(definition!);
    expect(copied).toEqual({ steps: (source.properties as Record<string, unknown>).steps, selectors: (source.properties as Record<string, unknown>).selectors });

    const { requestId, formMsg } = await submitForm(bot, chaos({ template: '', targetResourceId: '', definition: JSON.stringify(copied) }));
    await approveAndWait(requestId!, formMsg, /Created with customer data storage and verified/);
    const put = bot.sim.writes().find((w) => w.method === 'PUT')!;
    expect((put.body as { properties: Record<string, unknown> }).properties.steps).toEqual((source.properties as Record<string, unknown>).steps);
  });

  it.each([
    ['a storage account without CMK', { storageAccountId: simStorageId(SIM_STORAGE_NO_CMK) }, 'storage.cmk-enabled', /Switch it to CMK first: `new storage-cmk/],
    ['a storage account closed to public networks', { storageAccountId: simStorageId(SIM_STORAGE_PRIVATE) }, 'storage.public-access', /--public-network-access Enabled --default-action Allow/],
    ['an identity without blob write', { storageAccountId: simStorageId(SIM_STORAGE_NO_BLOB_ROLE) }, 'storage.blob-write', /Storage Blob Data Contributor/],
    ['an invalid container name', { blobContainerName: 'Bad--Name' }, 'storage.container-name', /not a valid container name/],
    ['an experiment that already exists', { name: SIM_CHAOS_EXISTING }, 'chaos.create-only', /new chaos-experiment --from/],
  ])('%s is stopped by %s', async (_n, over, checkId, remedy) => {
    const { text } = await submitForm(bot, chaos(over as Record<string, string>));
    expect(text).toContain(`❌ **${checkId}**`);
    expect(text).toMatch(remedy);
    expect(bot.sim.writes()).toHaveLength(0);
  });
});

describe('storage account CMK', () => {
  it('switches an account to CMK with one PATCH shaped like the reference example, then a Chaos request on it passes', async () => {
    const account = simStorageId(SIM_STORAGE_NO_CMK);
    const { requestId, formMsg, text } = await submitForm(bot, {
      targetType: 'storage-cmk',
      storageAccountId: account,
      identityId: simIdentityId(SIM_IDENTITY),
      keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
      keyVersion: 'latest',
    });
    expect(text).toContain('✅ **storage.identity**');
    expect(text).toContain('✅ **storage.key-access**');
    expect(text).toContain('✅ **vault.purge-protection**');
    expect(text).toContain('• properties.encryption.keySource: Microsoft.Storage → Microsoft.Keyvault');
    // prepare(), the checks and the diff all needed the account: it was read once.
    expect(bot.sim.requests.filter((r) => r.method === 'GET' && r.path.toLowerCase() === account.toLowerCase())).toHaveLength(1);
    await approveAndWait(requestId!, formMsg, /Switched to the customer-managed key and verified/);
    const patches = bot.sim.writes().filter((w) => w.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]!.query['api-version']).toBe('2025-01-01');
    expect(patches[0]!.body).toEqual({
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } },
      properties: {
        encryption: {
          keySource: 'Microsoft.Keyvault',
          keyvaultproperties: { keyvaulturi: `https://${SIM_RBAC_VAULT}.vault.azure.net`, keyname: SIM_KEY, keyversion: '' },
          identity: { userAssignedIdentity: simIdentityId(SIM_IDENTITY) },
        },
      },
    });
    // The remedy worked: the Chaos request that storage.cmk-enabled stopped now passes it.
    const chaosRun = await submitForm(bot, chaos({ storageAccountId: account }));
    expect(chaosRun.text).toContain('✅ **storage.cmk-enabled**');
  });
});
