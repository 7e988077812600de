// Remedies run: every `az` command a check offers, as the Teams card and the Slack message show
// it, is complete — each flag that takes a value has one, and no placeholder was lost. The
// failing worlds are the simulator's seeded ones, read through the real SDK gateway.
//
// Teams renders a TextBlock's text as its markdown subset and drops anything that looks like an
// HTML tag: `--name <new-key>` reached users as `--name`. So the card text is read here the way
// Teams shows it (tags removed), and the Slack text the way Slack shows it (entities decoded).
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import { requestView } from '../../src/chat/presenter';
import { requestBlocks } from '../../src/chat/slack/blocks';
import { requestCard } from '../../src/chat/teams/cards';
import { runChecks } from '../../src/checks/runner';
import type { ChangeRequest, CheckResult } from '../../src/domain/types';
import {
  SIM_DISABLED_KEY,
  SIM_EC_KEY,
  SIM_EXPIRED_KEY,
  SIM_EXPIRING_KEY,
  SIM_FIREWALL_KEY,
  SIM_FIREWALL_VAULT,
  SIM_IDENTITY_NO_ACCESS,
  SIM_KEY,
  SIM_NO_WRAP_KEY,
  SIM_NOPURGE_KEY,
  SIM_NOPURGE_VAULT,
  SIM_NOSOFTDELETE_KEY,
  SIM_NOSOFTDELETE_VAULT,
  SIM_POLICY_KEY,
  SIM_POLICY_VAULT,
  SIM_RBAC_VAULT,
  SIM_RG_LABS,
  SIM_SUBSCRIPTION3_ID,
  SIM_STORAGE_NO_BLOB_ROLE,
  SIM_STORAGE_PRIVATE,
  simIdentityId,
  simKeyUrl,
  simStorageId,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import { DEFAULT_TARGETS } from '../../src/targets';
import { parseForm } from '../../src/targets/types';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { changeRequest } from '../fixtures/requests';

let sim: Simulator;
let arm: SdkArmGateway;
beforeAll(async () => {
  sim = await startSimulator();
  arm = new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries: 0 });
});
afterAll(() => sim.close());

const WORLDS: Array<Record<string, string>> = [
  fluidRelayForm('fr-r1', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EC_KEY) }),
  fluidRelayForm('fr-r2', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_DISABLED_KEY) }),
  fluidRelayForm('fr-r3', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EXPIRED_KEY) }),
  fluidRelayForm('fr-r4', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EXPIRING_KEY) }),
  fluidRelayForm('fr-r5', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_NO_WRAP_KEY) }),
  fluidRelayForm('fr-r6', { keyUrl: simKeyUrl(SIM_NOPURGE_VAULT, SIM_NOPURGE_KEY) }),
  fluidRelayForm('fr-r7', { keyUrl: simKeyUrl(SIM_NOSOFTDELETE_VAULT, SIM_NOSOFTDELETE_KEY) }),
  fluidRelayForm('fr-r8', { keyUrl: simKeyUrl(SIM_FIREWALL_VAULT, SIM_FIREWALL_KEY) }),
  fluidRelayForm('fr-r9', { keyUrl: simKeyUrl(SIM_POLICY_VAULT, SIM_POLICY_KEY), identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS) }),
  fluidRelayForm('fr-r10', { identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS) }),
  fluidRelayForm('fr-r11', { identityId: simIdentityId('id-does-not-exist') }),
  fluidRelayForm('fr-r12', { keyUrl: simKeyUrl('kv-does-not-exist', SIM_KEY) }),
  fluidRelayForm('fr-r13', { keyUrl: 'https://my-hsm.managedhsm.azure.net/keys/hsm-key' }),
  fluidRelayForm('fr-r14', { subscriptionId: SIM_SUBSCRIPTION3_ID, resourceGroup: SIM_RG_LABS }),
  chaosExperimentForm('exp-r1', { storageAccountId: simStorageId(SIM_STORAGE_PRIVATE) }),
  chaosExperimentForm('exp-r2', { storageAccountId: simStorageId(SIM_STORAGE_NO_BLOB_ROLE) }),
  chaosExperimentForm('exp-r3', { blobContainerName: 'newcontainer' }),
];

/** Check ids whose remedy is an `az` command; the worlds above must reach each of them. */
const WITH_COMMANDS = [
  'key.vault-found',
  'key.type',
  'key.enabled',
  'key.not-expired',
  'key.ops',
  'vault.soft-delete',
  'vault.purge-protection',
  'vault.firewall',
  'identity.exists',
  'identity.key-permissions',
  'storage.public-access',
  'storage.blob-write',
  'provider.registered',
];

function request(targetType: string, checks: CheckResult[]): ChangeRequest {
  return changeRequest({
    targetType,
    resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/fr1',
    params: {},
    plan: { method: 'PUT', resourceId: '/x', apiVersion: '2022-06-01', body: {} },
    requester: { platform: 'teams', id: 'a', name: 'Alice' },
    conversation: { platform: 'teams', ref: {} },
    digest: 'f'.repeat(64),
    state: 'checked',
    checks,
    expiresAt: new Date().toISOString(),
  });
}

/** The `az …` commands in a remedy: up to a `;`, a closing parenthesis or the sentence's end. */
function commands(text: string): string[] {
  return [...text.matchAll(/\baz [^;()\n]+/g)].map((m) => m[0].trim().replace(/[.,]$/, ''));
}

/** Shell-like words: double quotes group. */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/"[^"]*"|\S+/g)].map((m) => m[0]);
}

/** Each problem with one command: a flag without a value, or a placeholder a renderer would lose. */
function problems(cmd: string): string[] {
  const out: string[] = [];
  if (/<[^>]*>/.test(cmd)) out.push(`angle-bracket placeholder in "${cmd}"`);
  if (cmd.includes('…')) out.push(`clipped: "${cmd}"`);
  const w = words(cmd);
  w.forEach((word, i) => {
    if (!word.startsWith('--')) return;
    const value = w[i + 1];
    if (value === undefined || value.startsWith('--')) out.push(`${word} has no value in "${cmd}"`);
  });
  return out;
}

/** What Teams shows of a TextBlock: its markdown subset, HTML-looking tags dropped. */
const teamsShows = (text: string) => text.replace(/<[^>]*>/g, '');
/** What Slack shows of mrkdwn: our escapes decoded. */
const slackShows = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function texts(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => texts(n, out));
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) if (k === 'text' || typeof v === 'object') texts(v, out);
  return out;
}

let results: Array<{ targetType: string; checks: CheckResult[] }> = [];
beforeAll(async () => {
  results = await Promise.all(
    WORLDS.map(async (form) => {
      const target = DEFAULT_TARGETS.single(form.targetType!)!;
      const parsed = parseForm(target, form);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      const checks = await runChecks(arm, target.subject(parsed.params), target.checks, { now: new Date(), expiryWarningDays: 30 });
      return { targetType: form.targetType!, checks: checks.filter((c) => c.status !== 'pass' && c.remedy) };
    }),
  );
});

it('the worlds reach every check whose remedy is an az command', () => {
  const seen = new Set(results.flatMap((r) => r.checks.filter((c) => commands(c.remedy ?? '').length).map((c) => c.id)));
  expect([...WITH_COMMANDS].filter((id) => !seen.has(id))).toEqual([]);
});

it('every az command in a remedy is complete as the check writes it', () => {
  const found = results.flatMap((r) => r.checks.flatMap((c) => commands(c.remedy!).flatMap((cmd) => problems(cmd).map((p) => `${c.id}: ${p}`))));
  expect(found).toEqual([]);
});

it('the Teams card shows every command whole: nothing a renderer drops, every flag with its value', () => {
  const found: string[] = [];
  for (const r of results) {
    for (const c of r.checks) {
      const card = requestCard(request(r.targetType, [c]));
      const shown = texts(card).map(teamsShows).join('\n');
      for (const cmd of commands(c.remedy!)) {
        if (!shown.includes(cmd)) found.push(`${c.id}: the card does not show "${cmd}"`);
        for (const p of problems(cmd)) found.push(`${c.id}: ${p}`);
      }
      for (const cmd of commands(shown)) for (const p of problems(cmd)) found.push(`${c.id} (as shown): ${p}`);
    }
  }
  expect(found).toEqual([]);
});

it('the Slack message shows every command whole', () => {
  const found: string[] = [];
  for (const r of results) {
    for (const c of r.checks) {
      const shown = texts(requestBlocks(requestView(request(r.targetType, [c]))))
        .map(slackShows)
        .join('\n');
      for (const cmd of commands(c.remedy!)) if (!shown.includes(cmd)) found.push(`${c.id}: the message does not show "${cmd}"`);
      for (const cmd of commands(shown)) for (const p of problems(cmd)) found.push(`${c.id} (as shown): ${p}`);
    }
  }
  expect(found).toEqual([]);
});
