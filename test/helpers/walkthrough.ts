// The walkthrough of docs/walkthrough.md, played against the real bot: the playground's people in its
// group chat, the local policy, the embedded simulator. What the bot says at each step is a sample;
// test/e2e/walkthrough-doc.test.ts holds the doc's fenced samples to them, and
// `npx tsx scripts/walkthrough-samples.ts` prints them to paste.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SIM_DISABLED_KEY, SIM_EC_KEY, SIM_IDENTITY_NO_ACCESS, SIM_RBAC_VAULT, simIdentityId, simKeyUrl } from '../../src/simulator';
import { loadPolicy } from '../../src/workflow/policy';
import { startBot, type TestBot } from './bot';
import { fluidRelayForm } from './forms';
import { clickData, type ConnectorActivity } from './connector';
import { cardAction, message, post, type TestUser } from './teams';

const ROOT = join(__dirname, '..', '..');

interface PlaygroundUser {
  id: string;
  name: string;
  aadObjectId: string;
}

/** The people, bot and group chat of playground/config.yml, as `npm run playground` serves them. */
export function playgroundCast() {
  const config = parse(readFileSync(join(ROOT, 'playground', 'config.yml'), 'utf8')) as {
    tenantId: string;
    bot: { id: string; name: string };
    currentUser: PlaygroundUser;
    users: PlaygroundUser[];
    groupChat: { id: string };
  };
  const person = (id: string): TestUser => {
    const u = [config.currentUser, ...config.users].find((x) => x.id === id);
    if (!u) throw new Error(`playground/config.yml has no user ${id}`);
    return { id: u.id, name: u.name, aadObjectId: u.aadObjectId };
  };
  return { tenantId: config.tenantId, bot: config.bot, groupChat: config.groupChat.id, alex: person('user-alex'), riley: person('user-riley'), sam: person('user-sam') };
}

export type Samples = Record<string, string>;

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * What a person sees of an activity before clicking anything: its text, then each card's text
 * blocks, facts (`title: value`), inputs (`label: [value ▾]`) and buttons (`[title]`) in order —
 * not the elements a toggle hides, not an action's fallback (shown only by clients without
 * Action.Execute), not the refresh action.
 */
export function visibleText(activity: ConnectorActivity['activity'] | undefined): string {
  const out: string[] = [];
  if (typeof activity?.text === 'string') out.push(activity.text);
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!isNode(n) || n.isVisible === false) return;
    const type = String(n.type ?? '');
    if (type === 'TextBlock') out.push(String(n.text ?? ''));
    else if (type === 'RichTextBlock' && Array.isArray(n.inlines)) out.push(n.inlines.map((i) => (isNode(i) ? String(i.text ?? '') : String(i))).join(''));
    else if (type === 'FactSet' && Array.isArray(n.facts)) for (const f of n.facts.filter(isNode)) out.push(`${String(f.title)}: ${String(f.value)}`);
    else if (type.startsWith('Input.')) {
      const choices = Array.isArray(n.choices) ? n.choices.filter(isNode) : [];
      const value = n.value === undefined ? '' : String(n.value);
      const shown = choices.length ? String(choices.find((c) => c.value === value)?.title ?? n.placeholder ?? '') : String(n.value ?? n.placeholder ?? '');
      out.push(`${String(n.label ?? n.id)}: [${shown}${choices.length ? ' ▾' : ''}]`);
    } else if (type.startsWith('Action.')) out.push(`[${String(n.title ?? '')}]`);
    if (type.startsWith('Action.') || type.startsWith('Input.')) return; // a ShowCard's card, a fallback: not shown
    for (const [k, v] of Object.entries(n)) if (k !== 'refresh' && k !== 'fallback' && k !== 'facts' && k !== 'inlines') walk(v);
  };
  walk(activity?.attachments?.map((a) => a.content));
  return out.join('\n');
}

/**
 * What changes from run to run, written as the doc writes it: request ids `CR-…`, times,
 * correlation ids, hashes. Everything else must be exactly what the bot said.
 */
export function normalize(text: string, requestIds: string[]): string {
  let out = text;
  for (const id of requestIds) out = out.split(id).join('CR-…');
  return out
    .replace(/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?( UTC)?/g, '<time>')
    .replace(/correlation id [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, 'correlation id <guid>')
    .replace(/\b\d+:[0-9a-f]{64}\b/g, '<seq>:<hash>')
    .replace(/\bseq \d+ · [0-9a-f]{12}\b/g, 'seq <n> · <hash>')
    .replace(/\b[0-9a-f]{12}…/g, '<digest>…')
    .replace(/\b[0-9a-f]{64}\b/g, '<sha256>');
}

/** Plays the walkthrough and returns what the bot said at each step, normalized. */
export async function walkthroughSamples(): Promise<Samples> {
  const cast = playgroundCast();
  const bot: TestBot = await startBot(loadPolicy(join(ROOT, 'policy', 'local.policy.yaml')));
  const { app, connector } = bot;
  const ids: string[] = [];
  const raw: Samples = {};
  // Everything as the playground sends it: its tenant, its bot, the group chat.
  // As the playground sends it: to its bot, in its group chat, from its tenant.
  const asPlayground = <T extends { conversation: object }>(a: T): T => ({
    ...a,
    recipient: { id: cast.bot.id, name: cast.bot.name },
    conversation: { ...a.conversation, id: cast.groupChat, conversationType: 'groupChat', tenantId: cast.tenantId },
  });
  const say = async (user: TestUser, text: string) => {
    const mention = `<at>${cast.bot.name}</at>`;
    const res = await post(app.url, { ...asPlayground(message(connector.url, user, `${mention} ${text}`, cast.groupChat)), entities: [{ type: 'mention', text: mention, mentioned: { id: cast.bot.id, name: cast.bot.name } }] });
    if (res.status !== 200) throw new Error(`"${text}" answered ${res.status}`);
  };
  const click = async (user: TestUser, messageId: string, verb = 'request.approve') => {
    const res = await post(app.url, asPlayground(cardAction(connector.url, user, verb, clickData(connector, messageId), messageId, cast.groupChat)));
    if (res.status !== 200) throw new Error(`${verb} answered ${res.status}`);
    const v = res.body?.value;
    return typeof v === 'string' ? v : visibleText({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: v as Node }] });
  };
  const next = (pred: (text: string, a: ConnectorActivity) => boolean, label: string) => {
    const seen = connector.log.length;
    return connector.waitFor((a) => connector.log.indexOf(a) >= seen && pred(visibleText(a.activity), a), 20000, label);
  };
  /** Alex submits the form: the answer (the card that replaces the form at once), then the request card in its place. */
  const submit = async (data: Record<string, string>) => {
    const formMsg = `form-${ids.length}`;
    const card = next((t, a) => a.kind === 'update' && a.id === formMsg && /Prerequisite checks:/.test(t), `request card of ${data.name}`);
    const res = await post(app.url, asPlayground(cardAction(connector.url, cast.alex, 'form.submit', data, formMsg, cast.groupChat)));
    if (res.status !== 200) throw new Error(`submit answered ${res.status}`);
    const text = visibleText((await card).activity);
    const id = /Request: (CR-[A-Z0-9]{6})/.exec(text)?.[1];
    if (!id) throw new Error(`no request id on the card:\n${text}`);
    ids.push(id);
    return { formMsg, id, text, answer: visibleText({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: res.body?.value as Node }] }) };
  };
  try {
    // §3 help
    const help = next((t) => /new fluid-relay/.test(t), 'help');
    await say(cast.alex, 'help');
    raw.help = visibleText((await help).activity);

    // §4 the form
    const form = next((t) => /New Azure Fluid Relay server/.test(t), 'form');
    await say(cast.alex, 'new fluid-relay');
    raw.form = visibleText((await form).activity);

    // §5 the checks card, and the notice to approvers
    const notice = next((t) => /^🔔/.test(t), 'approver notice');
    const r = await submit(fluidRelayForm('fr-walkthrough'));
    raw.running = r.answer;
    raw['request-card'] = r.text;
    raw['approver-notice'] = visibleText((await notice).activity);

    // §5 each person's own view: what Teams shows them by itself (refresh.userIds), the playground only on Refresh
    raw['alex-view'] = await click(cast.alex, r.formMsg, 'request.refresh');
    raw['riley-view'] = await click(cast.riley, r.formMsg, 'request.refresh');

    // §6 Alex's own approval
    raw['self-approval'] = await click(cast.alex, r.formMsg);

    // §7 Riley, then Sam
    const oneOfTwo = next((t) => /^👍/.test(t), 'first approval post');
    raw['riley-card'] = await click(cast.riley, r.formMsg);
    raw['riley-post'] = visibleText((await oneOfTwo).activity);
    const approved = next((t) => /^✅/.test(t), 'approved post');
    const done = next((t, a) => a.kind === 'update' && a.id === r.formMsg && /This request is done/.test(t), 'final card');
    const result = next((t, a) => a.kind !== 'update' && /^🔐 CR-… done:|^🔐 CR-[A-Z0-9]{6} done:/.test(t), 'result post');
    await click(cast.sam, r.formMsg);
    raw['approved-post'] = visibleText((await approved).activity);
    raw['final-card'] = visibleText((await done).activity);
    raw['result-post'] = visibleText((await result).activity);

    // §8 status, and something that is not an id
    const status = next((t, a) => a.kind !== 'update' && /This request is done/.test(visibleText(a.activity)), 'status card');
    await say(cast.alex, `status ${r.id.toLowerCase()}`);
    raw.status = visibleText((await status).activity);
    const notAnId = next((t) => /is not a request id/.test(t), 'not an id');
    await say(cast.alex, 'status fr-walkthrough');
    raw['status-not-an-id'] = visibleText((await notAnId).activity);

    // §9 failing checks
    raw['ec-key'] = (await submit(fluidRelayForm('fr-walkthrough-ec', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EC_KEY) }))).text;
    raw['disabled-key'] = (await submit(fluidRelayForm('fr-walkthrough-disabled', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_DISABLED_KEY) }))).text;
    raw['no-access'] = (await submit(fluidRelayForm('fr-walkthrough-noaccess', { identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS) }))).text;
  } finally {
    await bot.close();
  }
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, normalize(v, ids)]));
}

/** The doc's samples: a fenced block right after `<!-- sample: <name> -->`. */
export function docSamples(markdown: string): Array<{ name: string; line: number; text: string }> {
  const out: Array<{ name: string; line: number; text: string }> = [];
  const re = /<!-- sample: ([\w-]+) -->\n+(`{3,})[^\n]*\n([\s\S]*?)\n\2\n/g;
  for (const m of markdown.matchAll(re)) out.push({ name: m[1]!, line: markdown.slice(0, m.index).split('\n').length, text: m[3]! });
  return out;
}

/**
 * Whether a doc sample shows what the bot said: its lines are the bot's lines in order, and a line
 * `…` alone stands for any number of lines left out. Undefined when it does; else the first line
 * that does not match.
 */
export function sampleMismatch(sample: string, said: string): string | undefined {
  const want = sample.split('\n');
  const got = said.split('\n');
  let g = 0;
  let skipping = false;
  for (const line of want) {
    if (line === '…') {
      skipping = true;
      continue;
    }
    if (skipping) {
      const at = got.indexOf(line, g);
      if (at < 0) return `"${line}" is not in what the bot said after line ${g}`;
      g = at + 1;
      skipping = false;
    } else {
      if (got[g] !== line) return `expected "${line}", the bot said "${got[g] ?? '(nothing more)'}"`;
      g++;
    }
  }
  if (!skipping && g < got.length) return `the bot said more: "${got[g]}" (end the sample with a line "…" to leave the rest out)`;
  return undefined;
}
