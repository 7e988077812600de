// Adaptive Card templates from cards/, bound with adaptivecards-templating. Text lives in the
// templates and the presenter, not in handlers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ACData from 'adaptivecards-templating';
import type { Attachment } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import { visibleText } from '../../domain/canonical';
import type { ChangeRequest } from '../../domain/types';
import type { FormChoices } from '../../workflow/catalog';
import { compactView, requestView, type RequestView, type Viewer } from '../presenter';

const CARDS_DIR = join(__dirname, '..', '..', '..', 'cards');
const cache = new Map<string, ACData.Template>();

function template(name: string): ACData.Template {
  let t = cache.get(name);
  if (!t) {
    t = new ACData.Template(JSON.parse(readFileSync(join(CARDS_DIR, `${name}.json`), 'utf8')));
    cache.set(name, t);
  }
  return t;
}

/**
 * User text for Teams markdown (messages, and every Adaptive Card TextBlock): shown as typed, never
 * as a link (`[`, `]` and `<` are escaped, so no link syntax is left), an <at> mention or other
 * HTML, a heading, a table or emphasis. The Slack side's `esc`
 * does the same for mrkdwn. Invisible and bidi characters are made visible first.
 */
export function teamsText(s: string): string {
  return visibleText(s).replace(/[\\*_~[\]<>#|]/g, (c) => `\\${c}`);
}

function teamsDeep<T>(v: T): T {
  if (typeof v === 'string') return teamsText(v) as T;
  if (Array.isArray(v)) return v.map(teamsDeep) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, teamsDeep(x)])) as T;
  return v;
}

/** The view with every shown string escaped; the values card actions send back stay as they are. */
function teamsView(v: RequestView): RequestView {
  return { ...teamsDeep(v), id: v.id, digest: v.digest, digestShort: v.digestShort, refreshUserIds: v.refreshUserIds, state: v.state, stateColor: v.stateColor };
}

export function expandCard(name: string, data: unknown): Record<string, unknown> {
  return template(name).expand({ $root: data }) as Record<string, unknown>;
}

export function asAttachment(card: Record<string, unknown>): Attachment {
  return CardFactory.adaptiveCard(card);
}

/** Teams refuses messages over ~100 KB and renders cards over ~28 KB badly; stay well inside. */
export const CARD_BUDGET_BYTES = 24_000;

export function fitCard(view: RequestView): Record<string, unknown> {
  let card = expandCard('request', teamsView(view));
  for (const level of [1, 2, 3] as const) {
    if (Buffer.byteLength(JSON.stringify(card)) <= CARD_BUDGET_BYTES) return card;
    card = expandCard('request', teamsView(compactView(view, level)));
  }
  return card;
}

export function requestCard(req: ChangeRequest, viewer: Viewer = 'all'): Record<string, unknown> {
  return fitCard(requestView(req, viewer));
}

const FORM_DEFAULTS: Record<string, Record<string, string>> = {
  'fluid-relay': { name: '', location: '', identityId: '', keyUrl: '', keyVersion: 'latest', storagesku: 'basic' },
  'fluid-relay-rotate': { resourceId: '', serverName: '', currentKeyUrl: '', keyUrl: '', keyVersion: 'latest', identityId: '' },
  'chaos-identity': { resourceId: '', experimentName: '', identityId: '' },
  'storage-cmk': { storageAccountId: '', identityId: '', keyUrl: '', keyVersion: 'latest' },
  'chaos-experiment': { name: '', location: '', identityId: '', storageAccountId: '', blobContainerName: 'chaosdata', template: 'vm-shutdown', targetResourceId: '', definition: '' },
};

export function formCard(
  target: string,
  choices: FormChoices,
  values: Record<string, unknown> = {},
  errors: Array<{ label: string; message: string }> = [],
): Record<string, unknown> {
  const defaults = { subscriptionId: choices.subscriptionId, resourceGroup: choices.resourceGroups[0]?.value ?? '', ...FORM_DEFAULTS[target] };
  const merged = Object.fromEntries(Object.entries({ ...defaults, ...values }).map(([k, v]) => [k, v === undefined || v === null ? '' : String(v)]));
  return expandCard(`${target}-form`, { choices, values: merged, errors, from: String(values.from ?? '') });
}

export function noticeCard(title: string, text: string, color: 'default' | 'good' | 'warning' | 'attention' | 'accent' = 'default'): Record<string, unknown> {
  return expandCard('notice', { title: teamsText(title), text: teamsText(text), color });
}
