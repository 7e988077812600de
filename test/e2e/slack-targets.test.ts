// Slack at parity with Teams: `/cmk new chaos-experiment`, `/cmk new storage-cmk <account>` and
// `/cmk rotate <server>` each go form → error → fix → resubmit → approvals → ARM write →
// verification in the thread, over real HTTP against the simulator and the Slack stand-in.
import {
  SIM_CHAOS_CONTAINER,
  SIM_CHAOS_TARGET_VM,
  SIM_FLUID_CMK,
  SIM_IDENTITY,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_STORAGE_CMK,
  SIM_STORAGE_NO_CMK,
  simFluidRelayId,
  simIdentityId,
  simKeyUrl,
  simStorageId,
} from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startSlackBot, type SlackHarness, type SlackUser } from '../helpers/slack';

const CHANNEL = 'C0CMKREQ';
const ALEX = { id: 'U0ALEX', name: 'alex' };
const RILEY = { id: 'U0RILEY', name: 'riley' };
const SAM = { id: 'U0SAM', name: 'sam' };

let h: SlackHarness;
beforeAll(async () => {
  const policy = parsePolicy(
    `version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: slack\n    requesters: ["slack:T0LOCAL01/${ALEX.id}"]\n    approvers: ["slack:T0LOCAL01/${RILEY.id}", "slack:T0LOCAL01/${SAM.id}"]\n    approvalsRequired: 1\n    irreversibleExtraApprovals: 1\n`,
    'slack-policy',
  );
  h = await startSlackBot(policy, [ALEX, RILEY, SAM], CHANNEL);
});
afterAll(() => h?.close());
beforeEach(() => {
  h.bot.sim.reset();
  h.bot.sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 2 });
});

const text = (blocks: unknown) => JSON.stringify(blocks ?? []);

/** The request message that names `marker`, then each approver's press, then the final state in the message and the thread. */
async function approveAndFinish(marker: string, approvers: SlackUser[], done: RegExp) {
  const posted = await h.slack.waitFor(() => h.slack.messages.find((m) => m.channel === CHANNEL && text(m.blocks).includes(marker) && !m.thread_ts && !m.ephemeralFor), 20000, 'request message');
  for (const a of approvers) expect((await h.press(a, CHANNEL, posted.ts, 'request.approve')).status).toBe(200);
  await h.slack.waitFor(() => done.test(text(h.slack.message(CHANNEL, posted.ts)?.blocks)), 20000, 'done in the message');
  const thread = await h.slack.waitFor(() => h.slack.thread(CHANNEL, posted.ts).find((m) => /done: /.test(m.text ?? '')), 10000, 'result in the thread');
  return { posted, thread };
}

describe('Slack: every verb Teams has', () => {
  it('new chaos-experiment: a VM picker, an error fixed and resubmitted, two approvals (irreversible), the long-running PUT, verified', async () => {
    const form = await h.openForm(ALEX, 'new chaos-experiment');
    const name = `exp-slack-${Math.random().toString(36).slice(2, 6)}`;
    const fields = {
      resourceGroup: new RegExp(`^${SIM_RG} `),
      name,
      location: /\(eastus\)/,
      identityId: new RegExp(`^${SIM_IDENTITY} `),
      storageAccountId: new RegExp(`^${SIM_STORAGE_CMK} `),
    };
    // The template needs a VM: left out, the modal says so on the VM picker.
    const first = await h.submit(ALEX, form, fields);
    expect(first.json).toEqual({ response_action: 'errors', errors: { targetResourceId: 'Target must be the resource id of the virtual machine to shut down' } });
    const fixed = await h.submit(ALEX, form, { ...fields, targetResourceId: new RegExp(`^${SIM_CHAOS_TARGET_VM} `) });
    expect(fixed.status).toBe(200);
    expect(fixed.text).toBe('');

    await approveAndFinish(name, [RILEY, SAM], /Created with customer data storage and verified/);
    const puts = h.bot.sim.writes().filter((w) => w.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0]!.body).toMatchObject({
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } },
      properties: { customerDataStorage: { storageAccountResourceId: simStorageId(SIM_STORAGE_CMK), blobContainerName: SIM_CHAOS_CONTAINER } },
    });
    expect(JSON.stringify(puts[0]!.body)).toContain(`/virtualMachines/${SIM_CHAOS_TARGET_VM}/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine`);
  });

  it('new storage-cmk <account>: the account carried from the command, a missing key named, fixed, approved, PATCHed, verified', async () => {
    const account = simStorageId(SIM_STORAGE_NO_CMK);
    const form = await h.openForm(ALEX, `new storage-cmk ${account}`);
    expect(h.block(form, 'storageAccountId').element?.initial_option?.value).toBe(h.option(form, 'storageAccountId', new RegExp(`^${SIM_STORAGE_NO_CMK} `)));
    const missing = await h.submit(ALEX, form, { identityId: new RegExp(`^${SIM_IDENTITY} `) });
    expect(missing.json).toEqual({ response_action: 'errors', errors: { keyUrl: 'Key is required' } });
    const ok = await h.submit(ALEX, form, { identityId: new RegExp(`^${SIM_IDENTITY} `), keyUrl: new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_KEY} `) });
    expect(ok.status).toBe(200);

    await approveAndFinish(SIM_STORAGE_NO_CMK, [RILEY], /Switched to the customer-managed key and verified/);
    const patches = h.bot.sim.writes().filter((w) => w.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]!.body).toMatchObject({ properties: { encryption: { keySource: 'Microsoft.Keyvault', keyvaultproperties: { keyname: SIM_KEY } } } });
  });

  it('rotate <server>: the current key shown and prefilled, versions follow the chosen key, approved, PATCHed, verified', async () => {
    const server = simFluidRelayId(SIM_FLUID_CMK);
    const form = await h.openForm(ALEX, `rotate ${server}`);
    const drawn = text(form.view.blocks);
    expect(drawn).toContain(`Key now: ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT)}`);
    expect(drawn).toContain(`*Server:* ${server}`);
    // Prefilled from the server: its key and pinned version are chosen already.
    expect(h.block(form, 'keyVersion').element?.initial_option?.value).toBe(h.option(form, 'keyVersion', new RegExp(`^${SIM_KEY_VERSION_CURRENT}`)));

    // Another key: the version picker is drawn for it; back to the server's key, moving to versionless (auto-rotation).
    const other = await h.change(ALEX, form, 'keyUrl', /rotated-cmk/);
    expect(text(h.block(other, 'keyVersion').element?.options)).not.toContain(SIM_KEY_VERSION_CURRENT);
    const back = await h.change(ALEX, other, 'keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_KEY} `));
    const ok = await h.submit(ALEX, back, { keyVersion: /^latest/ });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');

    await approveAndFinish(SIM_FLUID_CMK, [RILEY], /Key changed and verified/);
    const patches = h.bot.sim.writes().filter((w) => w.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]!.body).toMatchObject({ properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY) } } } });
  });

  it('help, list and a command Slack does not know answer in the channel, privately', async () => {
    const before = h.slack.responses.length;
    await h.slash(ALEX, 'launch rockets');
    const answer = await h.slack.waitFor(() => h.slack.responses.slice(before).find((r) => /I don't know/.test(JSON.stringify(r.body))), 5000, 'usage');
    expect(JSON.stringify(answer.body)).toContain('ephemeral');
  });
});
