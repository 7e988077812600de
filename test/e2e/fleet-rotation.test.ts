// Fleet rotation (issue 16, part 3): `rotate-key <key url> --version <v>` finds every resource that
// uses the key (Resource Graph, in every subscription the bot reads), plans one PATCH each with its
// own target, and posts one request listing them all. Approved once, it writes them a few at a time,
// verifies each, and ends done or partly done with each one's outcome; *Retry the failed ones*
// makes a new request for just those.
import { SIM_FLUID_CMK, SIM_KEY, SIM_KEY_VERSION_CURRENT, SIM_RBAC_VAULT, SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION3_ID, simFluidRelayId, simKeyUrl } from '../../src/simulator';
import { canonicalJson } from '../../src/domain/canonical';
import { buildEvidence, verifyEvidence } from '../../src/workflow/evidence';
import { parsePolicy } from '../../src/workflow/policy';
import { requestView } from '../../src/chat/presenter';
import { requestBlocks } from '../../src/chat/slack/blocks';
import { DEFAULT_TARGETS } from '../../src/targets';
import { MAX_FLEET_MEMBERS } from '../../src/targets/rotate-key.target';
import type { TestBot } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { FLEET_RG_SANDBOX, seedFleet, submitRotation } from '../helpers/fleet';
import { startSlackBot, type SlackHarness } from '../helpers/slack';
import { ALICE, BOB, CAROL, cardAction, message, post } from '../helpers/teams';

const ALEX = { id: 'U0ALEX', name: 'alex' };
const RILEY = { id: 'U0RILEY', name: 'riley' };
const CHANNEL = 'C0FLEET';
/** The file's policy up to its rules (`people`: more people besides alice), and the rule that lets everyone request and approve. */
const policyHead = (people = '') => `version: 2\ntenants: { teams: ["*"], slack: ["*"] }\npeople:\n  alice: { teams: ["tenant-1/${ALICE.aadObjectId}"] }\n${people}watchers: ["person:alice"]\n`;
const EVERYONE = `  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n`;
const POLICY = parsePolicy(`${policyHead()}rules:\n${EVERYONE}`, 'inline');
let h: SlackHarness;
let bot: TestBot;
beforeAll(async () => {
  h = await startSlackBot(POLICY, [ALEX, RILEY], CHANNEL, {}, { env: { WATCH_INTERVAL: '0' } });
  bot = h.bot;
});
afterAll(() => h?.close());
beforeEach(() => bot.sim.reset());

type Action = { type: string; verb?: string; title?: string; data?: Record<string, unknown> };
function actions(card: unknown, verb: string): Action[] {
  const out: Action[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.type === 'Action.Execute' && o.verb === verb) out.push(o as Action);
    Object.values(o).forEach(walk);
  };
  walk(card);
  return out;
}

/** `rotate-key …` in Teams: the form, then its submission; the request card once the checks ran. */
async function rotateKey(command: string) {
  const formMsg = `form-${Math.random().toString(36).slice(2)}`;
  const { inputs } = await submitRotation(bot.app.url, bot.connector, command, formMsg, { timeoutMs: 10_000 });
  const card = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Prerequisite checks:|Request refused/.test(cardText(a.activity)), 30_000, 'fleet request card');
  return { inputs, formMsg, card: card.activity, text: cardText(card.activity), requestId: /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))?.[1] };
}

const writesTo = (id: string) => bot.sim.writes().filter((w) => w.path.toLowerCase() === id.toLowerCase());

describe('rotate-key: a key rotated everywhere it is used', () => {
  it('25 resources in three subscriptions, two refused by ARM: 23 verified, 2 failed with their codes; Retry the failed ones → done', async () => {
    const ids = seedFleet(bot.sim, { servers: 10, sandboxAccounts: 8, labsAccounts: 7 });
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const keyUrl = simKeyUrl(SIM_RBAC_VAULT, SIM_KEY);

    const asked = await rotateKey(`rotate-key ${keyUrl} --version ${next}`);
    expect(asked.inputs).toMatchObject({ keyUrl, keyVersion: next });
    const { text, formMsg, requestId } = asked;
    expect(requestId).toBeDefined();
    // One request that counts them, lists them all (behind a toggle) with what changes on each, and says who was left out.
    expect(text).toContain('Resources: 25 resources in 3 subscriptions');
    expect(JSON.stringify(asked.card)).toMatch(/"Action.ToggleVisibility","title":"Show the resources and what changes on each"/);
    for (const id of ids) expect(text).toContain(`${id.split('/').pop()} (`);
    expect(text).toContain(`keyEncryptionKeyUrl: ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT)} → ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, next)}`);
    expect(text).toContain(`keyversion: ${SIM_KEY_VERSION_CURRENT} → ${next}`);
    expect(text).toMatch(/Found but left out\n• stcmkchaos follows the newest version by itself/);
    expect(text).toMatch(/Waiting for 1 more approval/);
    const stored = (await bot.store.getRequest(requestId!))!;
    expect(stored.fleet?.members.map((m) => m.resourceId).sort()).toEqual([...ids].sort());
    expect(stored.plan).toBeUndefined();

    // Two resources ARM will refuse, each once.
    const refusedServer = ids[3]!;
    const refusedAccount = ids[20]!;
    bot.sim.injectFault({ method: 'PATCH', pathIncludes: refusedServer.split('/').pop()!, status: 409, code: 'Conflict', message: 'Another operation is in progress on the server (injected fault).', times: 1 });
    bot.sim.injectFault({ method: 'PATCH', pathIncludes: refusedAccount.split('/').pop()!, status: 403, code: 'AuthorizationFailed', message: 'The client does not have authorization to perform action (injected fault).', times: 1 });
    const before = bot.sim.writes().length;
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
    const end = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /partly done/.test(cardText(a.activity)), 60_000, 'partly done');
    const endText = cardText(end.activity);
    expect(endText).toContain('23 of 25 verified; 2 failed');
    expect(endText).toContain('Conflict');
    expect(endText).toContain('AuthorizationFailed');
    expect(endText).toMatch(new RegExp(`❌ ${refusedServer.split('/').pop()} \\(.*Conflict`));
    // Exactly one PATCH per resource, each the approved body.
    const writes = bot.sim.writes().slice(before);
    expect(writes.filter((w) => w.method === 'PATCH')).toHaveLength(25);
    for (const m of stored.fleet!.members) {
      const [w] = writesTo(m.resourceId);
      expect(writesTo(m.resourceId)).toHaveLength(1);
      expect([w!.method, w!.query['api-version'], canonicalJson(w!.body)]).toEqual([m.plan.method, m.plan.apiVersion, canonicalJson(m.plan.body)]);
    }
    const done = (await bot.store.getRequest(requestId!))!;
    expect(done.state).toBe('failed');
    expect(done.result?.members?.filter((o) => o.status === 'verified')).toHaveLength(23);
    expect(done.result?.members?.filter((o) => o.status === 'failed').map((o) => [o.resourceId, o.code])).toEqual(
      expect.arrayContaining([
        [refusedServer, 'Conflict'],
        [refusedAccount, 'AuthorizationFailed'],
      ]),
    );
    // What ARM reports now: the 23 on the new version.
    const server = bot.sim.state.get(ids[1]!)!;
    expect((server.properties as { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: string } } }).encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl).toBe(simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, next));

    // The record of it all: every member's write as approved, each outcome, verifiable offline; the trail has each member's write.
    const record = (await buildEvidence(bot.store, requestId!))!;
    expect(record.fleet?.members).toHaveLength(25);
    expect(record.change).toBeUndefined();
    expect(verifyEvidence(record)).toMatchObject({ ok: true });
    const trail = await bot.store.auditTrail(requestId!);
    expect(trail.filter((r) => r.event === 'arm_call' && r.data.method === 'PATCH').map((r) => r.data.resourceId)).toHaveLength(25);
    expect(trail.filter((r) => r.event === 'arm_call' && r.data.ok === false).map((r) => r.data.code)).toEqual(expect.arrayContaining(['Conflict', 'AuthorizationFailed']));
    // Tampering with one member's payload is caught.
    const edited = structuredClone(record);
    (edited.fleet!.members[0]!.plan.body as { properties: unknown }).properties = {};
    expect(verifyEvidence(edited)).toMatchObject({ ok: false });

    // *Retry the failed ones*: a new request for just those two, filled in.
    const [retry] = actions(end.activity, 'request.fix');
    expect(retry?.title).toBe('Retry the failed ones');
    const form = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'request.fix', retry!.data!, formMsg));
    const formCard = form.body?.value as { body: Array<{ id?: string; value?: string; text?: string }>; actions: Array<{ verb?: string; data?: Record<string, string> }> };
    expect(cardText(formCard as never)).toContain('Rotate a key everywhere it is used');
    const values = Object.fromEntries(formCard.body.filter((b) => b.id).map((b) => [b.id!, b.value ?? '']));
    const carried = formCard.actions.find((a) => a.verb === 'form.submit')!.data!;
    const retryMsg = `form-${Math.random().toString(36).slice(2)}`;
    await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', { ...carried, ...values }, retryMsg));
    const retried = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === retryMsg && /Prerequisite checks:/.test(cardText(a.activity)), 30_000, 'retry request');
    expect(cardText(retried.activity)).toContain('Resources: 2 resources in 2 subscriptions');
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, retryMsg), retryMsg));
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === retryMsg && /2 resources moved to version .* and verified/.test(cardText(a.activity)), 30_000, 'retry done');
    expect(writesTo(refusedServer)).toHaveLength(2);
    expect(writesTo(refusedAccount)).toHaveLength(2);
    expect(writesTo(ids[1]!)).toHaveLength(1);
  });

  it('Retry the failed ones for many resources: the button names the request’s check instead of carrying the ids, and the form it opens has every failed one', async () => {
    const ids = seedFleet(bot.sim, { servers: 13, sandboxAccounts: 0, labsAccounts: 0 }, 'many');
    const failing = ids.filter((id) => id.includes('/many-fr-'));
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const { formMsg, requestId } = await rotateKey(`rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`);
    bot.sim.injectFault({ method: 'PATCH', pathIncludes: '/fluidRelayServers/many-fr-', status: 409, code: 'Conflict', message: 'Another operation is in progress on the server (injected fault).', times: 12 });
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
    const end = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /partly done/.test(cardText(a.activity)), 60_000, 'partly done');
    expect(cardText(end.activity)).toContain('1 of 13 verified; 12 failed');

    // Twelve resource ids (about 1,600 characters) would not fit a Slack button's 2,000 with the rest,
    // nor Teams' 2,048 a value: the button names where they are.
    const [retry] = actions(end.activity, 'request.fix');
    expect(retry?.title).toBe('Retry the failed ones');
    expect(retry!.data).toMatchObject({ command: 'rotate-key', values: {}, from: `${requestId}#fleet.members` });
    expect(JSON.stringify(retry!.data).length).toBeLessThan(300);
    const form = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'request.fix', retry!.data!, formMsg));
    const formCard = form.body?.value as { body: Array<{ id?: string; value?: string }>; actions: Array<{ verb?: string; data?: Record<string, string> }> };
    // The named resources are a fixed value of the form. Its actions carry where they came from, not the
    // list (a long one would ride in every action and fallback: 180 KB for 250), and the card shows ten.
    const inputs = Object.fromEntries(formCard.body.filter((b) => b.id).map((b) => [b.id!, b.value ?? '']));
    const carried = formCard.actions.find((a) => a.verb === 'form.submit')!.data!;
    expect(inputs.keyVersion).toBe(next);
    expect(carried).toMatchObject({ from: `${requestId}#fleet.members` });
    expect(carried).not.toHaveProperty('resources');
    expect(cardText(formCard as never)).toContain('… and 2 more');
    // A list the check did not name is not taken from the submission, nor one the form did not show.
    const tampered = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', { ...carried, ...inputs, fromDigest: '0'.repeat(16) }, `form-${Math.random().toString(36).slice(2)}`));
    expect(JSON.stringify(tampered.body)).toContain(`What this form names from ${requestId} has changed since it was opened: nothing was submitted`);
    // A reference that is not one the bot writes is refused, whatever it names.
    for (const from of [requestId!, `${requestId}#`, 'x#fleet.members']) {
      const odd = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', { ...carried, ...inputs, from }, `form-${Math.random().toString(36).slice(2)}`));
      expect(JSON.stringify(odd.body)).toContain('That form was not understood');
    }
    // Someone who cannot see the request from where they are cannot read its list through a form.
    try {
      const approvers = `  bob: { teams: ["tenant-1/${BOB.aadObjectId}"] }\n  dave: { teams: ["tenant-1/aad-dave-0005"] }\n  erin: { teams: ["tenant-1/aad-erin-0006"] }\n`;
      bot.app.reloadPolicy(parsePolicy(`${policyHead(approvers)}rules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["person:bob", "person:dave", "person:erin"]\n`, 'inline'));
      const elsewhere = await post(bot.app.url, cardAction(bot.connector.url, CAROL, 'form.reload', { ...carried, ...inputs }, 'card-elsewhere', 'conv-elsewhere'));
      expect(JSON.stringify(elsewhere.body)).toContain(`You cannot see ${requestId} from here`);
    } finally {
      bot.app.reloadPolicy(POLICY);
    }
    // Submitted as the client sends it (here with a list of its own beside the reference): every failed one
    // is in the new request, and only those.
    const retryMsg = `form-${Math.random().toString(36).slice(2)}`;
    await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', { ...carried, ...inputs, resources: ids[0]! }, retryMsg));
    const retried = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === retryMsg && /Prerequisite checks:|Request refused/.test(cardText(a.activity)), 30_000, 'retry request');
    expect(cardText(retried.activity)).toContain('Resources: 12 resources in 1 subscription');
    const retriedId = /Request: (CR-[A-Z0-9]{6})/.exec(cardText(retried.activity))?.[1];
    const members = (await bot.store.getRequest(retriedId!))!.fleet!.members.map((m) => m.resourceId.toLowerCase());
    expect(members.sort()).toEqual(failing.map((id) => id.toLowerCase()).sort());
    // Reloaded, the form still names the check, not the list.
    const reloaded = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.reload', { ...carried, ...inputs }, retryMsg));
    expect(JSON.stringify(reloaded.body)).toContain(`"from":"${requestId}#fleet.members"`);
    expect(cardText(reloaded.body?.value as never)).toContain('… and 2 more');
    // A submission naming a check that offers no such fix is refused, not guessed.
    const wrongSubmit = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', { ...carried, ...inputs, from: `${requestId}#key.enabled` }, `form-${Math.random().toString(36).slice(2)}`));
    expect(JSON.stringify(wrongSubmit.body)).toContain(`${requestId} no longer offers this fix`);

    // The same request's message in Slack carries the button too.
    const stored = (await bot.store.getRequest(requestId!))!;
    const button = JSON.stringify(requestBlocks(requestView(stored, 'all', DEFAULT_TARGETS))).includes('"action_id":"request.fix.0"');
    expect(button).toBe(true);

    // A reference to a check the request does not have is refused, not guessed.
    const wrong = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'request.fix', { ...retry!.data!, from: `${requestId}#key.enabled` }, formMsg));
    expect(JSON.stringify(wrong.body)).toContain(`${requestId} no longer offers this fix`);
  });

  it('leaves out a resource already on the chosen version, saying so; refuses more resources than one request takes, before reading any of them', async () => {
    const ids = seedFleet(bot.sim, { servers: 3, sandboxAccounts: 0, labsAccounts: 0 }, 'ver');
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const on = bot.sim.state.get(ids[2]!)!;
    (on.properties as { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: string } } }).encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl = simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, next);
    bot.sim.state.put(on);
    const cmd = `rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`;
    const asked = await rotateKey(cmd);
    expect(asked.text).toContain('Resources: 2 resources in 1 subscription');
    expect(asked.text).toContain(`${ids[2]!.split('/').pop()} is on version ${next} already`);

    bot.sim.reset();
    seedFleet(bot.sim, { servers: MAX_FLEET_MEMBERS + 1, sandboxAccounts: 2, labsAccounts: 0 }, 'big');
    const next2 = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const reads = () => bot.sim.requests.filter((r) => r.method === 'GET' && r.path.toLowerCase().includes('/fluidrelayservers/big-')).length;
    const before = reads();
    const tooMany = await rotateKey(`rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next2}`);
    expect(tooMany.requestId).toBeUndefined();
    // The seeded servers and the simulator's own storage accounts that use the key.
    const found = Number(new RegExp(`(\\d+) resources use this key; one request takes at most ${MAX_FLEET_MEMBERS}\\.`).exec(tooMany.text)?.[1]);
    expect(found).toBeGreaterThan(MAX_FLEET_MEMBERS);
    expect(reads()).toBe(before);
    // The refusal names the way to do it in parts, and that way works: only the resources under the scope.
    expect(tooMany.text).toMatch(/Rotate them in parts: `rotate-key \\?<key url\\?> --in \\?<subscription or resource group id\\?>` takes only the resources there/);
    const sandbox = `/subscriptions/${SIM_SUBSCRIPTION2_ID}/resourceGroups/${FLEET_RG_SANDBOX}`;
    const graphFrom = bot.sim.requests.length;
    const part = await rotateKey(`rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --in ${sandbox} --version ${next2}`);
    // Only the scope's subscription is searched.
    const searched = bot.sim.requests.slice(graphFrom).filter((r) => r.path.toLowerCase().endsWith('/providers/microsoft.resourcegraph/resources'));
    expect(searched.length).toBeGreaterThan(0);
    for (const q of searched) expect((q.body as { subscriptions?: string[] }).subscriptions).toEqual([SIM_SUBSCRIPTION2_ID]);
    expect(part.inputs).toMatchObject({ keyVersion: next2 });
    expect(part.requestId).toBeDefined();
    expect(part.text).toContain('Resources: 2 resources in 1 subscription');
    expect(part.text).toContain(`Only in: ${sandbox}`);
    expect(reads()).toBe(before);
  });

  it('refuses a key nobody uses, and a command without a key URL says how to use it', async () => {
    const nobody = await rotateKey(`rotate-key ${simKeyUrl(SIM_RBAC_VAULT, 'no-such-key')}`);
    expect(nobody.text).toMatch(/No Fluid Relay server or storage account in the 3 subscriptions the bot can read uses https:\/\/kv-cmk-rbac\.vault\.azure\.net\/keys\/no-such-key/);
    // Narrowed with --in to an empty resource group of a subscription whose other groups hold resources
    // that use the key: none is taken, and the refusal says where it looked.
    const emptyGroup = `/subscriptions/${simFluidRelayId(SIM_FLUID_CMK).split('/')[2]}/resourceGroups/rg-nothing-here`;
    const nowhere = await rotateKey(`rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --in ${emptyGroup}`);
    expect(nowhere.requestId).toBeUndefined();
    expect(nowhere.text).toContain(`No Fluid Relay server or storage account under ${emptyGroup} uses https://kv-cmk-rbac.vault.azure.net/keys/${SIM_KEY}`);
    await post(bot.app.url, message(bot.connector.url, ALICE, 'rotate-key fluid-cmk'));
    await bot.connector.waitFor((a) => /"fluid-cmk" is not a key URL/.test(a.activity.text ?? cardText(a.activity)), 10_000, 'usage');
    expect(writesTo(simFluidRelayId(SIM_FLUID_CMK))).toHaveLength(0);
  });

  it('a watchdog alert about resources pinned to an old version offers the rotation, filled in', async () => {
    seedFleet(bot.sim, { servers: 3, sandboxAccounts: 1, labsAccounts: 1 }, 'wd');
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const seen = bot.connector.log.length;
    await post(bot.app.url, message(bot.connector.url, ALICE, 'watch all', 'conv-keys'));
    const alert = await bot.connector.waitFor(
      (a) => bot.connector.log.indexOf(a) >= seen && a.conversationId === 'conv-keys' && actions(a.activity, 'request.fix').some((x) => x.title === 'Move every pinned resource to the newest version'),
      30_000,
      'version-behind alert',
    );
    const [offer] = actions(alert.activity, 'request.fix').filter((x) => x.title === 'Move every pinned resource to the newest version');
    const form = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'request.fix', offer!.data!, alert.id, 'conv-keys'));
    const formCard = form.body?.value as { body: Array<{ id?: string; value?: string }> };
    expect(cardText(formCard as never)).toContain('Rotate a key everywhere it is used');
    expect(Object.fromEntries(formCard.body.filter((b) => b.id).map((b) => [b.id!, b.value ?? '']))).toMatchObject({ keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: next });
    await post(bot.app.url, message(bot.connector.url, ALICE, 'unwatch all', 'conv-keys'));
  });

  it('Slack: /cmk rotate-key opens the same form as a modal; the request message lists every resource with its change', async () => {
    const ids = seedFleet(bot.sim, { servers: 2, sandboxAccounts: 2, labsAccounts: 1 }, 'sl');
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const modal = await h.openForm(ALEX, `rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`);
    expect(JSON.stringify(modal.view.blocks)).toContain('Rotate a key everywhere it is used');
    const ack = await h.submit(ALEX, modal, { keyUrl: /fluid-cmk/, keyVersion: new RegExp(next) });
    expect(ack.status).toBe(200);
    const posted = await h.slack.waitFor(() => h.slack.messages.find((m) => m.channel === CHANNEL && !m.thread_ts && /Resources: 5 resources in 3 subscriptions/.test(JSON.stringify(m.blocks ?? []))), 30_000, 'fleet request message');
    const blocks = JSON.stringify(posted.blocks);
    for (const id of ids) expect(blocks).toContain(id.split('/').pop()!);
    expect(blocks).toContain(`keyversion: ${SIM_KEY_VERSION_CURRENT} → ${next}`);
    expect(blocks).toContain('Found but left out');
  });

  it('Slack: Retry the failed ones for many resources opens the retry form from the request’s check', async () => {
    const ids = seedFleet(bot.sim, { servers: 13, sandboxAccounts: 0, labsAccounts: 0 }, 'slk');
    const failing = ids.filter((id) => id.includes('/slk-fr-'));
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const modal = await h.openForm(ALEX, `rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`);
    expect((await h.submit(ALEX, modal, { keyUrl: /fluid-cmk/, keyVersion: new RegExp(next) })).status).toBe(200);
    const posted = await h.slack.waitFor(() => h.slack.messages.find((m) => m.channel === CHANNEL && !m.thread_ts && /Resources: 13 resources in 1 subscription/.test(JSON.stringify(m.blocks ?? []))), 30_000, 'fleet request message');
    bot.sim.injectFault({ method: 'PATCH', pathIncludes: '/fluidRelayServers/slk-fr-', status: 409, code: 'Conflict', message: 'Another operation is in progress on the server (injected fault).', times: 12 });
    await h.press(RILEY, CHANNEL, posted.ts, 'request.approve');
    await h.slack.waitFor(() => /1 of 13 verified; 12 failed/.test(JSON.stringify(h.slack.message(CHANNEL, posted.ts)?.blocks ?? [])), 60_000, 'partly done');
    const button = JSON.stringify(h.slack.message(CHANNEL, posted.ts)!.blocks);
    expect(button).toContain('Retry the failed ones');
    const before = h.slack.callsTo('views.update').length;
    expect((await h.press(ALEX, CHANNEL, posted.ts, 'request.fix.0')).status).toBe(200);
    const update = await h.slack.waitFor(() => h.slack.callsTo('views.update')[before], 15_000, 'retry modal');
    const retry = h.current(String((update.args as { view_id?: string }).view_id));
    const shown = JSON.stringify(retry.view);
    expect(shown).toContain('Rotate a key everywhere it is used');
    // Ten of the twelve are shown; the form's session holds them all, and the request has every one.
    expect(shown).toContain('… and 2 more');
    const earlier = new Set(h.slack.messages.map((m) => m.ts));
    expect((await h.submit(ALEX, retry, { keyUrl: /fluid-cmk/, keyVersion: new RegExp(next) })).status).toBe(200);
    const again = await h.slack.waitFor(
      () => h.slack.messages.find((m) => m.channel === CHANNEL && !m.thread_ts && !earlier.has(m.ts) && /Resources: 12 resources in 1 subscription/.test(JSON.stringify(m.blocks ?? []))),
      30_000,
      'retry request message',
    );
    for (const id of failing) expect(JSON.stringify(again.blocks)).toContain(id.split('/').pop()!);
  });

  it('the policy applies at every place the members touch: a rule over one subscription adds its approvals; a rule whose requesters leave the requester out refuses the whole request; nobody a rule names reads nothing', async () => {
    const base = policyHead();
    try {
      seedFleet(bot.sim, { servers: 2, sandboxAccounts: 1, labsAccounts: 1 }, 'pol');
      const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
      const cmd = `rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`;
      // The labs subscription needs two approvals: so does the request.
      bot.app.reloadPolicy(parsePolicy(`${base}rules:\n${EVERYONE}  - name: labs\n    match: { subscriptions: ["${SIM_SUBSCRIPTION3_ID}"] }\n    requesters: ["*"]\n    approvers: ["*"]\n    approvalsRequired: 2\n`, 'inline'));
      const two = await rotateKey(cmd);
      expect(two.text).toMatch(/rule "labs": 0 of 2/);
      // The sandbox subscription's rule does not list Alice: nothing is requested.
      bot.app.reloadPolicy(parsePolicy(`${base}rules:\n${EVERYONE}  - name: sandbox\n    match: { subscriptions: ["${SIM_SUBSCRIPTION2_ID}"] }\n    requesters: ["teams:tenant-1/someone-else"]\n    approvers: ["*"]\n`, 'inline'));
      const refused = await rotateKey(cmd);
      expect(refused.requestId).toBeUndefined();
      expect(refused.text).toMatch(/Policy rule "sandbox" \(it covers resource pol/);
      // No rule names Alice a requester: not even the inventory is read.
      bot.app.reloadPolicy(parsePolicy(`${base}rules:\n  - name: others\n    requesters: ["teams:tenant-1/someone-else"]\n    approvers: ["*"]\n`, 'inline'));
      const graphCalls = () => bot.sim.requests.filter((r) => r.path.includes('Microsoft.ResourceGraph')).length;
      const before = graphCalls();
      const none = await rotateKey(cmd);
      expect(none.text).toMatch(/No policy rule lets you request a key rotation/);
      expect(graphCalls()).toBe(before);
      // A rule for Chaos experiments' identity only: no member of a key rotation is of that kind.
      bot.app.reloadPolicy(parsePolicy(`${base}rules:\n  - name: chaos\n    match: { targets: ["chaos-identity"] }\n    requesters: ["*"]\n    approvers: ["*"]\n`, 'inline'));
      const chaosOnly = await rotateKey(cmd);
      expect(chaosOnly.text).toMatch(/No policy rule lets you request a key rotation/);
      expect(graphCalls()).toBe(before);
    } finally {
      bot.app.reloadPolicy(POLICY);
    }
  });

  it('a member ARM keeps throttling (429) waits its turn and is written, not failed: no 429 is left unhandled', async () => {
    const ids = seedFleet(bot.sim, { servers: 2, sandboxAccounts: 1, labsAccounts: 0 }, 'thr');
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const asked = await rotateKey(`rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`);
    const busy = ids[1]!;
    bot.sim.injectFault({
      method: 'PATCH',
      pathIncludes: busy.split('/').pop()!,
      status: 429,
      code: 'SubscriptionRequestsThrottled',
      message: 'Number of write requests exceeded the limit (injected fault).',
      retryAfterSeconds: 1,
      times: 2,
    });
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, asked.formMsg), asked.formMsg));
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === asked.formMsg && /3 resources moved to version .* and verified/.test(cardText(a.activity)), 30_000, 'done');
    const tries = bot.sim.requests.filter((r) => r.method === 'PATCH' && r.path.toLowerCase() === busy.toLowerCase());
    expect(tries.map((r) => r.status)).toEqual([429, 429, 200]);
  });
});
