// Forms nobody can get wrong, in both channels, from the same target definition: a key version
// always belongs to the chosen key (Teams: Data.Query + reset; Slack: dispatch_action + redraw),
// an empty form names every required field, the name rule reads the same everywhere, and the
// Chaos target VM is a picker.
import {
  SIM_CHAOS_TARGET_VM,
  SIM_IDENTITY,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_KEY_VERSION_OLD,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_ROTATED_KEY,
  SIM_ROTATED_KEY_VERSION_CURRENT,
  SIM_SUBSCRIPTION2_ID,
  SIM_SUBSCRIPTION_ID,
  simIdentityId,
  simKeyId,
  simKeyUrl,
} from '../../src/simulator';
import { blockSuggestionPayload, LOCAL_SLACK, SLACK_LIMITS } from '../../src/dev';
import { CARD_BUDGET_BYTES } from '../../src/chat/teams/cards';
import { CARD_CHOICES } from '../../src/chat/teams/form-card';
import { request } from 'node:http';
import { jobLimitsFor } from '../../src/workflow/jobs';
import type { Store } from '../../src/store/store';
import { parsePolicy } from '../../src/workflow/policy';
import { fluidRelayForm } from '../helpers/forms';
import { cardText, firstCard } from '../helpers/connector';
import { startBot, type TestBot } from '../helpers/bot';
import { startSlackBot, type SlackHarness } from '../helpers/slack';
import { ALICE, baseActivity, cardAction, message, post } from '../helpers/teams';

// Slack: the stand-in's own workspace only, so a request from another is refused (the picker search below).
const POLICY = parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["${LOCAL_SLACK.teamId}"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n`, 'inline');
const ALEX = { id: 'U0ALEX', name: 'alex' };

type SlackAnswers = Parameters<SlackHarness['submit']>[2];
/** A Fluid Relay modal filled in as a person picks in the seeded simulator (pickers by the text they read); `over` changes some. */
const fluidAnswers = (name: string, over: SlackAnswers = {}): SlackAnswers => ({
  resourceGroup: new RegExp(`^${SIM_RG} `),
  name,
  location: /\(eastus\)/,
  identityId: new RegExp(`^${SIM_IDENTITY} `),
  keyUrl: new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_KEY} `),
  ...over,
});
/** Submits the modal as ALEX, expects the empty ack of a submission taken, and resolves with the request's message. */
async function submitted(h: SlackHarness, view: Awaited<ReturnType<SlackHarness['openForm']>>, name: string, over: SlackAnswers = {}) {
  const ack = await h.submit(ALEX, view, fluidAnswers(name, over));
  expect(ack.status).toBe(200);
  expect(ack.text).toBe('');
  return h.slack.waitFor(() => h.slack.messages.find((m) => JSON.stringify(m.blocks ?? []).includes(name) && !m.thread_ts), 15000, 'request message');
}

type Input = {
  id?: string;
  type?: string;
  value?: string;
  errorMessage?: string;
  regex?: string;
  choices?: Array<{ title: string; value: string }>;
  valueChangedAction?: unknown;
  'choices.data'?: { type: string; dataset: string; associatedInputs: string };
};
const inputsOf = (card: Record<string, unknown> | undefined) => Object.fromEntries(((card?.body ?? []) as Input[]).filter((b) => b.id).map((b) => [b.id!, b]));

describe('Teams forms', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startBot(POLICY);
  });
  afterAll(() => bot?.close());

  /** A picker's Data.Query as Teams sends it (`application/search`): the key version's unless another dataset is named. */
  const search = (data: Record<string, unknown>, queryText = '', dataset = 'fluid-relay.keyVersion') =>
    post(bot.app.url, { ...baseActivity(bot.connector.url, ALICE), type: 'invoke', name: 'application/search', value: { kind: 'typeahead', queryText, dataset, queryOptions: { skip: 0, top: 100 }, data } });
  const valuesOf = (res: Awaited<ReturnType<typeof search>>) => ((res.body?.value as { results?: Array<{ value: string }> }).results ?? []).map((r) => r.value);

  it('the key version picker offers the versions of the chosen key only, however it is asked', async () => {
    // Data.Query: the client sends the card's inputs; the answer is the chosen key's versions.
    const fluid = await search({ subscriptionId: SIM_SUBSCRIPTION_ID, keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY) });
    expect(fluid.status).toBe(200);
    expect(fluid.body?.type).toBe('application/vnd.microsoft.search.searchResponse');
    const values = valuesOf(fluid);
    expect(values).toEqual(expect.arrayContaining(['latest', SIM_KEY_VERSION_CURRENT, SIM_KEY_VERSION_OLD]));
    expect(values).not.toContain(SIM_ROTATED_KEY_VERSION_CURRENT);
    const rotated = await search({ subscriptionId: SIM_SUBSCRIPTION_ID, keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY) });
    const rotatedValues = valuesOf(rotated);
    expect(rotatedValues).toContain(SIM_ROTATED_KEY_VERSION_CURRENT);
    expect(rotatedValues).not.toContain(SIM_KEY_VERSION_CURRENT);
    // What the person typed narrows it.
    const typed = await search({ subscriptionId: SIM_SUBSCRIPTION_ID, keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY) }, SIM_KEY_VERSION_OLD.slice(0, 6));
    expect(valuesOf(typed)).toEqual([SIM_KEY_VERSION_OLD]);

    // The card: changing the key resets the version; the version asks the bot for its choices.
    await post(bot.app.url, message(bot.connector.url, ALICE, 'new fluid-relay'));
    const form = await bot.connector.waitFor((a) => /New Azure Fluid Relay server/.test(cardText(a.activity)), 10000, 'form');
    const inputs = inputsOf(firstCard(form.activity));
    expect(inputs.keyUrl!.valueChangedAction).toEqual({ type: 'Action.ResetInputs', targetInputIds: ['keyVersion'] });
    expect(inputs.keyVersion!['choices.data']).toEqual({ type: 'Data.Query', dataset: `fluid-relay.keyVersion@${SIM_SUBSCRIPTION_ID}`, associatedInputs: 'auto' });

    // Reload with a key chosen: the version picker lists that key's versions, and no other key's.
    const reloaded = await post(
      bot.app.url,
      cardAction(bot.connector.url, ALICE, 'form.reload', { targetType: 'fluid-relay', subscriptionId: SIM_SUBSCRIPTION_ID, keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY), keyVersion: SIM_KEY_VERSION_CURRENT }),
    );
    const choices = (inputsOf(reloaded.body?.value as Record<string, unknown>).keyVersion!.choices ?? []).map((c) => c.value);
    expect(choices).toContain(SIM_ROTATED_KEY_VERSION_CURRENT);
    expect(choices).not.toContain(SIM_KEY_VERSION_CURRENT);
  });

  it('a version of another key is refused on the form, naming the field, and nothing is stored', async () => {
    const before = (await bot.store.listRequests({ limit: 500 })).length;
    const res = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', fluidRelayForm('fr-mixed-key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY), keyVersion: SIM_KEY_VERSION_CURRENT }), 'form-mixed'));
    const text = cardText(res.body?.value as never);
    expect(text).toMatch(/Please fix the highlighted fields/);
    expect(text).toContain(`Key version: Key version ${SIM_KEY_VERSION_CURRENT} does not belong to the chosen key`);
    expect((await bot.store.listRequests({ limit: 500 })).length).toBe(before);
  });

  it('a refused read of the pickers is answered as Azure’s error, not passed over; "latest" needs no read', async () => {
    const before = (await bot.store.listRequests({ limit: 500 })).length;
    bot.sim.injectFault({ method: 'GET', pathIncludes: `/keys/${SIM_KEY}/versions`, status: 403, code: 'AuthorizationFailed', message: 'The client does not have authorization', times: Infinity });
    try {
      const res = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', fluidRelayForm('fr-refused-read', { keyVersion: SIM_KEY_VERSION_CURRENT }), 'form-refused'));
      expect(String(res.body?.value)).toMatch(/^Azure answered with an error: .*AuthorizationFailed/);
      expect((await bot.store.listRequests({ limit: 500 })).length).toBe(before);
      // "latest" is every key's: the submission reads no picker and goes on to the checks.
      const latest = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', fluidRelayForm('fr-latest-no-read', { keyVersion: 'latest' }), 'form-latest'));
      expect(cardText(latest.body?.value as never)).toMatch(/Running \d+ prerequisite checks/);
    } finally {
      bot.sim.reset();
    }
  });

  it('an empty form names every required field, in the words the card itself uses', async () => {
    const res = await post(bot.app.url, cardAction(bot.connector.url, ALICE, 'form.submit', { targetType: 'fluid-relay' }, 'form-empty'));
    const card = res.body?.value as Record<string, unknown>;
    const text = cardText(card as never);
    for (const label of ['Subscription', 'Resource group', 'Server name', 'Region', 'Identity', 'Key']) expect(text).toContain(`• ${label}: ${label} is required`);
    // The client says the same when a required field is left empty.
    const inputs = inputsOf(card);
    for (const id of ['subscriptionId', 'resourceGroup', 'location', 'identityId', 'keyUrl']) expect(inputs[id]!.errorMessage).toMatch(/is required$/);
  });

  it('a card action whose verb is not text is an unknown action, not a fault', async () => {
    const res = await post(bot.app.url, { ...cardAction(bot.connector.url, ALICE, 'x', {}), value: { action: { type: 'Action.Execute', verb: [] } } });
    expect(res.status).toBe(200);
    expect(String(res.body?.value)).toMatch(/^Unknown card action ""/);
  });

  it('a tenant with many identities gets a form Teams accepts: the long pickers list a few and search the rest', async () => {
    // 150 more identities in the seeded resource group: every identity in the card would take it past Teams' ~28 KB.
    const seeded = bot.sim.state.get(simIdentityId(SIM_IDENTITY))!;
    const extra = Array.from({ length: 150 }, (_, i) => `id-bulk-${String(i).padStart(3, '0')}`);
    for (const name of extra) bot.sim.state.put({ ...structuredClone(seeded), id: simIdentityId(name, SIM_RG), name });
    try {
      const seen = bot.connector.log.length;
      await post(bot.app.url, message(bot.connector.url, ALICE, 'new fluid-relay'));
      const form = await bot.connector.waitFor((a) => bot.connector.log.indexOf(a) >= seen && /New Azure Fluid Relay server/.test(cardText(a.activity)), 10000, 'form');
      const card = firstCard(form.activity)!;
      expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
      const identity = inputsOf(card).identityId!;
      expect(identity['choices.data']).toEqual({ type: 'Data.Query', dataset: `fluid-relay.identityId@${SIM_SUBSCRIPTION_ID}`, associatedInputs: 'auto' });
      expect(identity.choices).toHaveLength(CARD_CHOICES);
      // The rest are found by typing: the bot answers the search with the identities that match.
      const found = await search({ subscriptionId: SIM_SUBSCRIPTION_ID }, 'id-bulk-149', identity['choices.data']!.dataset);
      expect(valuesOf(found)).toEqual([simIdentityId('id-bulk-149', SIM_RG)]);
    } finally {
      for (const name of extra) bot.sim.state.delete(simIdentityId(name, SIM_RG));
    }
  });

  it('a search for a form without a subscription picker reads the subscription the card was drawn for, not the first one', async () => {
    // A key change of a resource in the second subscription: its card has no subscription input to send.
    const seeded = bot.sim.state.get(simIdentityId(SIM_IDENTITY))!;
    const id = `/subscriptions/${SIM_SUBSCRIPTION2_ID}/resourceGroups/rg-sandbox/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-sandbox-only`;
    bot.sim.state.put({ ...structuredClone(seeded), id, name: 'id-sandbox-only' });
    try {
      const sandbox = valuesOf(await search({}, 'id-', `fluid-relay-rotate.identityId@${SIM_SUBSCRIPTION2_ID}`));
      expect(sandbox).toContain(id);
      expect(sandbox).not.toContain(simIdentityId(SIM_IDENTITY));
      // A dataset that is not one of ours is refused.
      expect((await search({}, 'id-', 'fluid-relay-rotate.identityId@not-a-subscription')).body?.type).toBe('application/vnd.microsoft.error');
    } finally {
      bot.sim.state.delete(id);
    }
  });

  it('the Chaos target virtual machine is a picker of the machines the bot can see', async () => {
    await post(bot.app.url, message(bot.connector.url, ALICE, 'new chaos-experiment'));
    const form = await bot.connector.waitFor((a) => /New Chaos Studio experiment/.test(cardText(a.activity)), 10000, 'chaos form');
    const vm = inputsOf(firstCard(form.activity)).targetResourceId!;
    expect(vm.type).toBe('Input.ChoiceSet');
    expect(vm.choices!.map((c) => c.title)).toEqual(expect.arrayContaining([expect.stringContaining(SIM_CHAOS_TARGET_VM)]));
    expect(vm.choices!.every((c) => /\/providers\/Microsoft\.Compute\/virtualMachines\//.test(c.value))).toBe(true);
  });
});

describe('Slack forms', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackBot(POLICY, [ALEX]);
  });
  afterAll(() => h?.close());

  it('choosing a key redraws the modal with that key’s versions only; a version chosen there is what the request names', async () => {
    const form = await h.openForm(ALEX, 'new fluid-relay');
    // Before a key is chosen, only "latest".
    expect((h.block(form, 'keyVersion').element?.options ?? []).map((o) => o.text.text)).toEqual(['latest (versionless: auto-rotation)']);
    const after = await h.change(ALEX, form, 'keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_ROTATED_KEY} `));
    const offered = (h.block(after, 'keyVersion').element?.options ?? []).map((o) => o.text.text).join(' | ');
    expect(offered).toContain(SIM_ROTATED_KEY_VERSION_CURRENT);
    expect(offered).not.toContain(SIM_KEY_VERSION_CURRENT);
    // The version picker starts over for the new key (a new block, nothing selected but the default).
    expect(h.block(after, 'keyVersion').block_id).not.toBe(h.block(form, 'keyVersion').block_id);

    const again = await h.change(ALEX, after, 'keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_KEY} `));
    const name = `fr-slack-ver-${Math.random().toString(36).slice(2, 6)}`;
    const msg = await submitted(h, again, name, { keyVersion: new RegExp(`^${SIM_KEY_VERSION_CURRENT}`) });
    expect(JSON.stringify(msg.blocks)).toContain(simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT));
  });

  it('a version picked for another key (the redraw never came) is refused, naming the field', async () => {
    const form = await h.openForm(ALEX, 'new fluid-relay');
    const rotated = await h.change(ALEX, form, 'keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_ROTATED_KEY} `));
    // The key is switched back in the same submission: the version was chosen among rotated-cmk's.
    const res = await h.submit(ALEX, rotated, fluidAnswers('fr-stale-pick', { keyVersion: new RegExp(`^${SIM_ROTATED_KEY_VERSION_CURRENT}`) }));
    const errors = (res.json as { errors?: Record<string, string> }).errors ?? {};
    expect(errors[h.block(rotated, 'keyVersion').block_id!]).toBe('Key version was chosen for an earlier choice above it; choose it again');
  });

  it('choosing another subscription redraws the pickers with what that subscription holds', async () => {
    const form = await h.openForm(ALEX, 'new fluid-relay');
    const groups = (v: typeof form) => (h.block(v, 'resourceGroup').element?.options ?? []).map((o) => o.text.text);
    expect(groups(form).join(' ')).toContain(SIM_RG);
    const other = await h.change(ALEX, form, 'subscriptionId', new RegExp(SIM_SUBSCRIPTION2_ID));
    expect(h.block(other, 'subscriptionId').element?.initial_option?.value).toBe(h.option(other, 'subscriptionId', new RegExp(SIM_SUBSCRIPTION2_ID)));
    // The sandbox subscription holds no resource group the bot can use: the modal says so instead of
    // offering the first subscription's.
    const drawn = JSON.stringify(other.view.blocks);
    expect(drawn).not.toContain(`${SIM_RG} (`);
    expect(drawn).toContain('*Resource group:* nothing to choose from in this subscription');
  });

  it('a tenant with more identities than Slack lists: the picker searches them all, and the one found is what the request names', async () => {
    // 150 more identities in the seeded resource group: past the 100 options a static_select may list.
    const seeded = h.bot.sim.state.get(simIdentityId(SIM_IDENTITY))!;
    const extra = Array.from({ length: 150 }, (_, i) => `id-bulk-${String(i).padStart(3, '0')}`);
    for (const name of extra) h.bot.sim.state.put({ ...structuredClone(seeded), id: simIdentityId(name, SIM_RG), name });
    try {
      const form = await h.openForm(ALEX, 'new fluid-relay');
      const identity = h.block(form, 'identityId');
      expect(identity.element?.type).toBe('external_select');
      expect(Number(/^Type to search all (\d+)\./.exec(identity.hint?.text ?? '')?.[1])).toBeGreaterThan(150);
      // Opened without typing: as many as Slack shows; typed: the one that matches, case aside.
      expect((await h.suggest(ALEX, form, 'identityId', '')).options).toHaveLength(SLACK_LIMITS.selectOptions);
      const found = await h.suggest(ALEX, form, 'identityId', 'BULK-149');
      expect(found.status).toBe(200);
      expect(found.options.map((o) => o.text.text)).toEqual([expect.stringMatching(/^id-bulk-149\b/)]);
      // A form the bot does not know (expired, or not ours) offers nothing.
      const unknown = { ...form, view: { ...form.view, private_metadata: JSON.stringify({ formId: '00000000-0000-4000-8000-000000000000' }) } };
      expect((await h.suggest(ALEX, unknown, 'identityId', 'bulk')).options).toEqual([]);
      // Nor does the same form asked for from a workspace the policy does not list.
      const elsewhere = await h.interact(blockSuggestionPayload({ user: ALEX, view: { ...form.view, id: form.id, hash: form.hash }, blockId: identity.block_id!, value: 'bulk', teamId: 'T0ELSEWHERE' }));
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.json).toEqual({ options: [] });
      expect((await h.suggest(ALEX, form, 'identityId', 'bulk')).options.length).toBeGreaterThan(0);

      const name = `fr-slack-bulk-${Math.random().toString(36).slice(2, 6)}`;
      const msg = await submitted(h, form, name, { identityId: found.options[0]! });
      expect(JSON.stringify(msg.blocks)).toContain(simIdentityId('id-bulk-149', SIM_RG));
    } finally {
      for (const name of extra) h.bot.sim.state.delete(simIdentityId(name, SIM_RG));
    }
  });

  it('a key with more versions than Slack lists: its version picker searches that key’s versions only, and the one found is what the request names', async () => {
    // Older versions of the key, written into the simulator's state as they are listed (no Key Vault event for each).
    const keyId = simKeyId(SIM_RBAC_VAULT, SIM_ROTATED_KEY);
    const current = h.bot.sim.state.get(`${keyId}/versions/${SIM_ROTATED_KEY_VERSION_CURRENT}`)!;
    const added = Array.from({ length: 105 }, (_, i) => `b0${String(i).padStart(3, '0')}${'0'.repeat(24)}ace`);
    for (const v of added) {
      const version = structuredClone(current);
      const props = version.properties as { keyUriWithVersion: string };
      h.bot.sim.state.put({ ...version, id: `${keyId}/versions/${v}`, name: v, properties: { ...props, keyUriWithVersion: props.keyUriWithVersion.replace(SIM_ROTATED_KEY_VERSION_CURRENT, v) } });
    }
    try {
      const form = await h.openForm(ALEX, 'new fluid-relay');
      const rotated = await h.change(ALEX, form, 'keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_ROTATED_KEY} `));
      const picker = h.block(rotated, 'keyVersion');
      expect(picker.element?.type).toBe('external_select');
      // Searched among the chosen key's versions (the state names it), not the other key's.
      // One Slack does not list before anything is typed: only the search reaches it.
      const listed = (await h.suggest(ALEX, rotated, 'keyVersion', '')).options;
      expect(listed).toHaveLength(SLACK_LIMITS.selectOptions);
      const wanted = added.find((v) => !listed.some((o) => o.text.text.startsWith(v)))!;
      expect(wanted).toBeDefined();
      const found = await h.suggest(ALEX, rotated, 'keyVersion', wanted.slice(0, 12).toUpperCase());
      expect(found.options.map((o) => o.text.text)).toEqual([expect.stringMatching(new RegExp(`^${wanted}`))]);
      expect((await h.suggest(ALEX, rotated, 'keyVersion', SIM_KEY_VERSION_CURRENT)).options).toEqual([]);

      const name = `fr-slack-manyver-${Math.random().toString(36).slice(2, 6)}`;
      const msg = await submitted(h, rotated, name, { keyUrl: new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_ROTATED_KEY} `), keyVersion: found.options[0]! });
      expect(JSON.stringify(msg.blocks)).toContain(simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY, wanted));
    } finally {
      for (const v of added) h.bot.sim.state.delete(`${keyId}/versions/${v}`);
    }
  });

  it('an empty modal is refused field by field with the same words as Teams, and nothing is stored', async () => {
    const form = await h.openForm(ALEX, 'new fluid-relay');
    const before = (await h.bot.store.listRequests({ limit: 500 })).length;
    // What Slack reports when required selects are left empty and the name is blank.
    const res = await h.submit(ALEX, form, { name: '' });
    const errors = (res.json as { errors?: Record<string, string> }).errors ?? {};
    expect(errors.name).toBe('Server name is required');
    expect(errors.identityId).toBe('Identity is required');
    expect(errors.keyUrl).toBe('Key is required');
    expect(errors.location).toBe('Region is required');
    expect((await h.bot.store.listRequests({ limit: 500 })).length).toBe(before);
    // The name rule: the hint on the modal is the rule the server and the Teams card state.
    const hint = (h.block(form, 'name') as { hint?: { text: string } }).hint?.text ?? '';
    const bad = await h.submit(ALEX, form, { name: '-bad-' });
    const said = ((bad.json as { errors?: Record<string, string> }).errors ?? {}).name ?? '';
    expect(said).toBe(`Server name must be ${hint.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase())}`);
  });
});

describe('Slack forms with the pickers cached', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    // A chat request held by a test counts for as long as the test holds it.
    h = await startSlackBot(POLICY, [ALEX], undefined, { chatRequestCountsForMs: 60_000 }, { env: { FORM_CHOICES_TTL_MS: '60000' } });
  });
  afterAll(() => h?.close());

  type Modal = { callback_id?: string; submit?: unknown; blocks: Array<{ type: string }> };
  /** Where the Slack calls stand now, and what has been done since: the modals opened (with their times) and the updates. */
  const mark = () => {
    const from = { opens: h.slack.callsTo('views.open').length, updates: h.slack.callsTo('views.update').length, at: Date.now() };
    return {
      at: from.at,
      opened: () =>
        h.slack
          .callsTo('views.open')
          .slice(from.opens)
          .map((c) => ({ view: c.args.view as Modal, after: c.at - from.at })),
      updates: () => h.slack.callsTo('views.update').length - from.updates,
    };
  };
  const hasInputs = (m: Modal) => m.blocks.some((b) => b.type === 'input');
  /** `n` jobs that hold a slot of the bot's runner each; `release` lets them end. */
  const hold = (n: number) => {
    const releases: Array<() => void> = [];
    for (let i = 0; i < n; i++) expect(h.bot.app.jobs.enqueue(`test-hold-${i}`, () => new Promise<void>((r) => releases.push(r)))).toBe(true);
    return async () => {
      releases.forEach((r) => r());
      await h.bot.app.jobs.drain();
    };
  };
  /** Runs `fn` with one of the store's methods replaced (the database failing or slow), then puts it back. */
  async function withStore<K extends 'putFormSession' | 'claimDelivery'>(name: K, replace: (original: Store[K]) => Store[K], fn: () => Promise<void>) {
    const store = h.bot.app.store;
    const original = store[name].bind(store) as Store[K];
    store[name] = replace(original);
    try {
      await fn();
    } finally {
      store[name] = original;
    }
  }
  const slowBy =
    (ms: number) =>
    <F extends (...args: never[]) => Promise<unknown>>(original: F) =>
      (async (...args: Parameters<F>) => {
        await new Promise((r) => setTimeout(r, ms));
        return original(...args);
      }) as F;

  it('a form whose pickers are cached opens whole in one call, with no loading modal, and submits like any other', async () => {
    // The first form reads the pickers: a loading modal, then the form.
    const before = mark();
    const first = await h.openForm(ALEX, 'new fluid-relay');
    expect([before.opened().length, before.updates()]).toEqual([1, 1]);

    const cached = mark();
    const second = await h.openForm(ALEX, 'new fluid-relay');
    expect([cached.opened().length, cached.updates()]).toEqual([1, 0]);
    // The same form (Slack names the blocks without an id itself: the inputs are compared).
    const inputs = (v: typeof first) => (v.view.blocks as Array<{ type: string }>).filter((b) => b.type === 'input');
    expect(inputs(second)).toEqual(inputs(first));
    expect(inputs(second).length).toBeGreaterThan(3);

    await submitted(h, second, `fr-slack-cached-${Math.random().toString(36).slice(2, 6)}`);
  });

  it('a cached form that cannot be kept opens whole as a notice that says so, with no loading modal and no form to submit', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    await withStore(
      'putFormSession',
      () => () => Promise.reject(new Error('the database went away')),
      async () => {
        const m = mark();
        await expect(h.openForm(ALEX, 'new fluid-relay')).rejects.toThrow(/opened no form: .*Something went wrong on my side \(reference [0-9a-f]{8}\)\. Nothing was changed in Azure/);
        // One call, and what it opened is the notice itself: no loading modal left waiting, nothing to submit.
        const [notice] = m.opened();
        expect([m.opened().length, m.updates()]).toEqual([1, 0]);
        expect(notice!.view.callback_id).toBeUndefined();
        expect(notice!.view.submit).toBeUndefined();
        expect(notice!.view.blocks.map((b) => b.type)).toEqual(['section']);
      },
    );
    // The next form, with the database back, is a form again.
    const again = await h.openForm(ALEX, 'new fluid-relay');
    expect(h.block(again, 'identityId').type).toBe('input');
  });

  it('while other work after an ack runs, a cached form whose turn comes at once still opens whole, in one call', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    const release = hold(1);
    try {
      const m = mark();
      const form = await h.openForm(ALEX, 'new fluid-relay');
      expect([m.opened().length, m.updates()]).toEqual([1, 0]);
      expect(h.block(form, 'identityId').type).toBe('input');
      // And nothing opens after it: the loading modal's timer went with the whole form.
      await new Promise((r) => setTimeout(r, 1_200));
      expect(m.opened()).toHaveLength(1);
    } finally {
      await release();
    }
  });

  it('with every slot of the runner taken, a cached form opens loading at once and is filled when its turn comes', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    const release = hold(jobLimitsFor(undefined).concurrency);
    try {
      const m = mark();
      const opening = h.openForm(ALEX, 'new fluid-relay');
      await h.slack.waitFor(() => m.opened().length > 0, 5000, 'loading modal');
      // At once, not after the second the whole form is given.
      const [loading] = m.opened();
      expect(loading!.after).toBeLessThan(800);
      expect(loading!.view.callback_id).toBe('cmk_form');
      expect(hasInputs(loading!.view)).toBe(false);
      await new Promise((r) => setTimeout(r, 200));
      expect(m.updates()).toBe(0);
      await release();
      const form = await opening;
      expect([m.opened().length, m.updates()]).toEqual([1, 1]);
      expect(h.block(form, 'identityId').type).toBe('input');
    } finally {
      await release();
    }
  });

  it('a cached form not ready within a second (the database slow) opens the loading modal then, which the form fills, within the trigger’s 3 s', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    await withStore('putFormSession', slowBy(1_600), async () => {
      const m = mark();
      const form = await h.openForm(ALEX, 'new fluid-relay');
      // The loading modal a second after the command (the trigger lives 3 s), then the form in it.
      const [loading] = m.opened();
      expect([m.opened().length, m.updates()]).toEqual([1, 1]);
      expect(hasInputs(loading!.view)).toBe(false);
      expect(loading!.after).toBeGreaterThanOrEqual(900);
      expect(loading!.after).toBeLessThan(2_500);
      expect(Date.now() - m.at).toBeGreaterThanOrEqual(1_500);
      expect(h.block(form, 'identityId').type).toBe('input');
      await submitted(h, form, `fr-slack-slow-${Math.random().toString(36).slice(2, 6)}`);
    });
  });

  it('under a burst the acks come first: while another chat request is being answered, a command is acknowledged at once and its modal opens only once that request has been', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    const other = await h.holdAnotherRequest('slack');
    const m = mark();
    const known = new Set(h.slack.views.keys());
    const ack = await h.slash(ALEX, 'new fluid-relay');
    expect([ack.status, ack.text]).toEqual([200, '']);
    // Acknowledged, and its modal waiting for the other request.
    await h.slack.waitFor(() => h.bot.app.inbound.waitingCount > 0 || undefined, 5000, 'the modal waiting');
    expect(m.opened()).toHaveLength(0);
    const answeredAfter = Date.now() - m.at;
    expect(await other.answer()).toBe(200);
    await h.slack.waitFor(() => m.opened().length > 0 || undefined, 5000, 'the modal');
    expect(m.opened()[0]!.after).toBeGreaterThanOrEqual(answeredAfter);
    // Opened whole, or loading and then filled: the form either way.
    const id = await h.slack.waitFor(() => [...h.slack.views.values()].find((v) => !known.has(v.id) && hasInputs(v.view as Modal))?.id, 5000, 'the form');
    expect(h.block(h.current(id), 'identityId').type).toBe('input');
  });

  it('while chat requests keep the bot busy, a form’s modal opens within a second of its command all the same, and is filled a second later', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    // A Teams turn counts as much as a Slack delivery.
    const other = await h.holdAnotherRequest('teams');
    try {
      const m = mark();
      const ack = await h.slash(ALEX, 'new fluid-relay');
      expect(ack.status).toBe(200);
      await h.slack.waitFor(() => m.opened().length > 0 || undefined, 5000, 'the loading modal');
      const [loading] = m.opened();
      expect(loading!.after).toBeGreaterThanOrEqual(600);
      expect(loading!.after).toBeLessThan(2_000);
      expect(hasInputs(loading!.view)).toBe(false);
      // Filled while the other request is still being answered: the fill's due time, not a quiet moment.
      await h.slack.waitFor(() => m.updates() > 0 || undefined, 5000, 'the form filled in');
      expect(h.bot.app.inbound.answering).toBeGreaterThan(0);
      expect(Date.now() - m.at).toBeGreaterThanOrEqual(1_400);
    } finally {
      await other.answer();
    }
  });

  it('a caller who sends half a request holds nothing back: it is not counted until its body is in', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    const body = JSON.stringify({ x: 'y'.repeat(64) });
    const half = request(`${h.bot.app.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
    half.on('error', () => undefined);
    half.write(body.slice(0, 8));
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(h.bot.app.inbound.answering).toBe(0);
      const m = mark();
      const form = await h.openForm(ALEX, 'new fluid-relay');
      expect(m.opened()[0]!.after).toBeLessThan(740);
      expect(h.block(form, 'identityId').type).toBe('input');
    } finally {
      half.destroy();
    }
  });

  it('a cached form whose command took half a second to be taken in (its delivery claim slow) opens the loading modal at once, not whole later', async () => {
    await h.openForm(ALEX, 'new fluid-relay'); // the pickers cached
    await withStore('claimDelivery', slowBy(700), async () => {
      const m = mark();
      const form = await h.openForm(ALEX, 'new fluid-relay');
      const [loading] = m.opened();
      expect(hasInputs(loading!.view)).toBe(false);
      expect(loading!.after).toBeLessThan(1_500);
      expect(m.updates()).toBe(1);
      expect(h.block(form, 'identityId').type).toBe('input');
    });
  });
});
