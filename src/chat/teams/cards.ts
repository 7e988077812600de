// Adaptive Card templates from cards/, bound with adaptivecards-templating. Text lives in the
// templates and the presenter, not in handlers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { Activity, ActivityTypes, type Attachment } from '@microsoft/agents-activity';
import { CardFactory } from '@microsoft/agents-hosting';
import { visibleText } from '../../domain/canonical';
import type { ChangeRequest } from '../../domain/types';
import type { AlertView } from '../../workflow/alert';
import { compactView, fixTitleOf, requestView, type RequestView, type Viewer, withFixData } from '../presenter';

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
  return withFixData({ ...teamsDeep(v), id: v.id, digest: v.digest, digestShort: v.digestShort, refreshUserIds: v.refreshUserIds, state: v.state, stateColor: v.stateColor }, v);
}

export function expandCard(name: string, data: unknown): Record<string, unknown> {
  return template(name).expand({ $root: data }) as Record<string, unknown>;
}

export function asAttachment(card: Record<string, unknown>): Attachment {
  return CardFactory.adaptiveCard(card);
}

/** The message `id` with this card instead (the turn's conversation reference fills in where). */
export function cardUpdate(id: string, attachment: Attachment): Activity {
  return Activity.fromObject({ type: ActivityTypes.Message, id, attachments: [attachment] });
}

/** Teams refuses messages over ~100 KB and renders cards over ~28 KB badly; stay well inside. */
export const CARD_BUDGET_BYTES = 24_000;

/**
 * The pretty-printed payload as Teams can show it. TextBlocks are markdown: a single newline is
 * dropped and leading spaces are trimmed, so the JSON would read as one line. 'lines' gives each
 * line its own TextBlock with the indentation as no-break spaces; 'paragraphs' (smaller, for a
 * card near its budget) one TextBlock whose lines are paragraphs, which Teams shows one per line,
 * indented one no-break space per level (two bytes each in UTF-8, as many as the spaces were).
 */
export function payloadLines(payload: string, as: 'lines' | 'paragraphs' = 'lines'): string[] {
  if (!payload) return [];
  const perLevel = as === 'lines' ? 2 : 1;
  const lines = payload.split('\n').map((l) => teamsText(l.replace(/^ +/, (sp) => '\u00a0'.repeat(Math.ceil((sp.length / 2) * perLevel)))));
  return as === 'lines' ? lines : [lines.join('\n\n')];
}

function bind(view: RequestView, payload: 'lines' | 'paragraphs'): Record<string, unknown> {
  return expandCard('request', { ...teamsView(view), payloadLines: payloadLines(view.payload, payload) });
}

/**
 * The card within the budget, from the fullest rendering to the most compact: the passed checks
 * (folded away anyway) become ids first, then the payload's per-line blocks one block, then the
 * problems lose their evidence and finally are counted past the first few. The payload itself is
 * never shortened.
 */
export function fitCard(view: RequestView): Record<string, unknown> {
  const fits = (card: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(card)) <= CARD_BUDGET_BYTES;
  const steps: Array<[0 | 1 | 2 | 3, 'lines' | 'paragraphs']> = [
    [0, 'lines'],
    [1, 'lines'],
    [1, 'paragraphs'],
    [2, 'paragraphs'],
    [3, 'paragraphs'],
  ];
  let card: Record<string, unknown> = {};
  for (const [level, payload] of steps) {
    card = bind(level ? compactView(view, level) : view, payload);
    if (fits(card)) return card;
  }
  return card;
}

export function requestCard(req: ChangeRequest, viewer: Viewer = 'all'): Record<string, unknown> {
  return fitCard(requestView(req, viewer));
}

export function noticeCard(title: string, text: string, color: 'default' | 'good' | 'warning' | 'attention' | 'accent' = 'default'): Record<string, unknown> {
  return expandCard('notice', { title: teamsText(title), text: teamsText(text), color });
}

/** Snooze lengths offered on an alert (hours). */
export const SNOOZE_CHOICES = [
  { title: '4 hours', value: '4' },
  { title: '1 day', value: '24' },
  { title: '3 days', value: '72' },
  { title: '1 week', value: '168' },
];

/**
 * A watchdog alert: what is wrong with which key, every resource that depends on it, the fix, and
 * (unless it is resolved) Acknowledge and Snooze — a snooze asks how long and why. `note` says
 * who acknowledged or snoozed it.
 */
export function alertCard(alert: AlertView, note = ''): Record<string, unknown> {
  const data = { watchId: alert.watchId, groupKey: alert.groupKey };
  const open = alert.kind !== 'resolved';
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: teamsText(alert.title), weight: 'Bolder', wrap: true, color: alert.kind === 'resolved' ? 'Good' : alert.severity === 'urgent' ? 'Attention' : 'Warning' },
      { type: 'TextBlock', text: teamsText(alert.finding), wrap: true },
      ...(alert.remedy ? [{ type: 'TextBlock', text: `**Fix:** ${teamsText(alert.remedy)}`, wrap: true }] : []),
      { type: 'TextBlock', text: `**${alert.resources.length === 1 ? 'Resource' : `${alert.resources.length} resources`}:** ${alert.resources.map((r) => teamsText(r.name)).join(', ')}`, wrap: true, size: 'Small' },
      { type: 'TextBlock', text: `Watch ${teamsText(alert.watchId)} · ${teamsText(alert.scope)}`, isSubtle: true, size: 'Small', wrap: true },
      ...(note ? [{ type: 'TextBlock', text: teamsText(note), wrap: true, color: 'Accent' }] : []),
    ],
    actions: open
      ? [
          ...(alert.fix
            ? [
                {
                  type: 'Action.Execute',
                  title: fixTitleOf(alert.fix),
                  verb: 'request.fix',
                  data: { command: alert.fix.command, values: alert.fix.values },
                  fallback: { type: 'Action.Submit', title: fixTitleOf(alert.fix), data: { verb: 'request.fix', command: alert.fix.command, values: alert.fix.values } },
                },
              ]
            : []),
          { type: 'Action.Execute', title: 'Acknowledge', verb: 'finding.ack', data, fallback: { type: 'Action.Submit', title: 'Acknowledge', data: { verb: 'finding.ack', ...data } } },
          {
            type: 'Action.ShowCard',
            title: 'Snooze…',
            card: {
              type: 'AdaptiveCard',
              body: [
                { type: 'Input.ChoiceSet', id: 'snoozeHours', label: 'For', value: '24', choices: SNOOZE_CHOICES, isRequired: true, errorMessage: 'For how long is required' },
                { type: 'Input.Text', id: 'snoozeReason', label: 'Why (recorded)', isRequired: true, errorMessage: 'A reason is required', maxLength: 500 },
              ],
              actions: [{ type: 'Action.Execute', title: 'Snooze', verb: 'finding.snooze', data, fallback: { type: 'Action.Submit', title: 'Snooze', data: { verb: 'finding.snooze', ...data } } }],
            },
          },
        ]
      : [],
  };
}
