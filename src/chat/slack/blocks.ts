// Block Kit renderings of the channel-neutral views, inside Slack's limits (50 blocks per message,
// 100 per modal, 3000 characters per section, modal title 24, option value 150). Every string that
// can carry user input is escaped for mrkdwn so a name cannot become a mention or a link.
import type { ActionsBlock, Button, ContextBlock, KnownBlock, MrkdwnElement, ModalView, SectionBlock } from '@slack/types';
import { visibleText } from '../../domain/canonical';
import type { AlertView } from '../../workflow/alert';
import { type CheckLine, fixTitleOf, type RequestView } from '../presenter';

/** The most characters of a fleet's member list one Slack message carries (the rest: `evidence <id>`). */
const MAX_MEMBER_TEXT = 24_000;

export const LIMITS = { messageBlocks: 50, modalBlocks: 100, sectionText: 3000, modalTitle: 24, optionText: 75, optionValue: 150, options: 100, privateMetadata: 3000 } as const;

type Block = KnownBlock;

/** mrkdwn control characters: `<!channel>` or `<https://evil|bank>` must show as text; bidi and invisible characters show as `<U+202E>`. */
export function esc(s: string): string {
  return visibleText(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text in pieces of at most `max` characters, cut after `sep` where possible; nothing is dropped. */
export function chunk(s: string, max: number, sep = '\n'): string[] {
  const out: string[] = [];
  let rest = s;
  while (rest.length > max) {
    const cut = rest.lastIndexOf(sep, max);
    const at = cut > max / 2 ? cut + sep.length : max;
    out.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  if (rest) out.push(rest);
  return out;
}

export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } });

function checkText(c: CheckLine, withFix: boolean): string {
  const lines = [`${c.icon} *${esc(c.id)}* — ${esc(c.finding)}`];
  if (c.evidence) lines.push(`_Evidence:_ ${esc(c.evidence)}`);
  if (withFix && c.remedy) lines.push(`*Fix:* ${esc(c.remedy)}`);
  return lines.join('\n');
}

/**
 * Request message blocks, in reading order: where the request stands, what is wrong (each with its
 * fix), what cannot be undone, then the details approvers check (facts, changes, scopes, payload)
 * and the approvals. Passed checks are one context line, count first. Action button values carry
 * the request id and the digest the viewer saw.
 */
export function requestBlocks(v: RequestView): Block[] {
  const head: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`🔐 ${v.title}`, 150) } },
    ...(v.notice ? [section(`:no_entry: *${esc(v.notice)}*`)] : []),
    section(`*${esc(v.stateLine)}*`),
    ...(v.policyNote ? [section(`:warning: ${esc(v.policyNote)}`)] : []),
    ...(v.result ? [section(`*${esc(v.result)}*`)] : []),
    ...v.verification.map((c) => section(checkText(c, false))),
    { type: 'divider' },
    section(`*Prerequisite checks:* ${esc(v.checksSummary)}`),
  ];
  const problems = [...v.failing.map((c) => checkText(c, true)), ...v.warnings.map((c) => checkText(c, true))];
  const passed: ContextBlock[] =
    v.passedLabel && (v.passing.length || v.passingSummary)
      ? [
          {
            type: 'context',
            elements: [{ type: 'mrkdwn', text: clip(`✅ ${esc(v.passedLabel)}: ${v.passing.length ? v.passing.map((c) => `${c.icon === '✅' ? '' : `${c.icon} `}${esc(c.id)}`).join(' · ') : esc(v.passingSummary)}`, LIMITS.sectionText) }],
          },
        ]
      : [];
  const details: Block[] = [];
  if (v.irreversible.length) details.push(section(`:warning: *Cannot be undone*\n${v.irreversible.map((i) => `• ${esc(i)}`).join('\n')}`));
  const facts = v.facts.map((f): MrkdwnElement => ({ type: 'mrkdwn', text: clip(`*${esc(f.title)}*\n${esc(f.value)}`, 2000) }));
  for (let i = 0; i < facts.length; i += 10) details.push({ type: 'section', fields: facts.slice(i, i + 10) });
  if (v.changes.length) details.push(section(`*What changes*\n${v.changes.map((c) => `• \`${esc(c)}\``).join('\n')}`));
  // A fleet: every member with what its write changes (Slack has no toggle: the list, over as many sections as it needs).
  if (v.membersLabel) {
    // Up to MAX_MEMBER_TEXT characters of members (a message stays well inside Slack's size); past it, where the rest are.
    const lines = v.members.map((m) => `• ${esc(m)}`);
    let room = MAX_MEMBER_TEXT;
    const listed = lines.filter((l) => (room -= l.length + 1) >= 0);
    if (listed.length < lines.length) listed.push(`…and ${lines.length - listed.length} more: \`evidence ${esc(v.id)}\` lists every one.`);
    for (const [i, c] of chunk(listed.join('\n'), LIMITS.sectionText - 200, '\n').entries()) {
      details.push(section(`${i === 0 ? `*Resources: ${esc(v.membersLabel)}*\n` : ''}${c}`));
    }
    if (v.skipped.length) details.push(section(clip(`*Found but left out*\n${v.skipped.map((x) => `• ${esc(x)}`).join('\n')}`, LIMITS.sectionText)));
  }
  if (v.scopes.length) {
    for (const [i, c] of chunk(v.scopes.map((x) => `• \`${esc(x)}\``).join('\n'), LIMITS.sectionText - 200, '\n').entries()) {
      details.push(section(`${i === 0 ? '*Where this change reaches* (the policy applies to each)\n' : ''}${c}`));
    }
  }
  // The payload is what is approved: shown whole and indented, over as many sections as it needs (never clipped).
  if (v.payload) {
    const chunks = chunk(esc(v.payload), LIMITS.sectionText - 200);
    chunks.forEach((c, i) =>
      details.push(
        section(`${i === 0 ? `*ARM payload* (digest \`${esc(v.digestShort)}…\`)${chunks.length > 1 ? ` — part 1 of ${chunks.length}` : ''}` : `*ARM payload, part ${i + 1} of ${chunks.length}*`}\n\`\`\`\n${c.replace(/\n$/, '')}\n\`\`\``),
      ),
    );
  }
  if (v.approvalsLine) details.push(section([`*Approvals:* ${esc(v.approvalsLine)}`, ...v.approvals.map(esc)].join('\n')));
  const actions = requestActions(v);
  // Problems fill the room the rest leaves; past it they are counted, with where to see them all.
  const room = Math.max(2, LIMITS.messageBlocks - head.length - passed.length - details.length - actions.length - 1);
  // *Fix this* for the problems that have a fix as a request of its own (the buttons' values carry the
  // form's values; action ids are unique within a block, so each button has its own).
  const fixes: Button[] = [...v.verification, ...v.failing, ...v.warnings]
    .filter((c) => c.fixData && JSON.stringify(c.fixData).length <= 1900)
    .slice(0, 5)
    .map((c, i) => ({
      type: 'button',
      action_id: `request.fix.${i}`,
      // Several buttons side by side: the default words name the check each one fixes; a fix's own label stays.
      text: { type: 'plain_text', text: clip(c.fixTitle === fixTitleOf({ command: c.fixCommand, values: {} }) ? `Fix ${c.id} (new ${c.fixCommand})` : c.fixTitle, 75) },
      value: JSON.stringify(c.fixData),
    }));
  const fixBlock: ActionsBlock[] = fixes.length ? [{ type: 'actions', block_id: 'request_fixes', elements: fixes }] : [];
  const shown = [...problems.slice(0, room - fixBlock.length).map(section), ...fixBlock];
  const hidden = problems.length - (shown.length - fixBlock.length);
  const more = hidden ? [section(`…and ${hidden} more problem${hidden > 1 ? 's' : ''}: use \`/cmk check ${esc(v.id)}\`.`)] : [];
  return [...head, ...shown, ...more, ...passed, ...details, ...actions].slice(0, LIMITS.messageBlocks);
}

/** Only the buttons that can do something now, for this viewer. */
function requestActions(v: RequestView): ActionsBlock[] {
  const value = (extra: Record<string, string> = {}) => JSON.stringify({ requestId: v.id, digest: v.digest, ...extra });
  const buttons: Button[] = [];
  if (v.canDecide) {
    buttons.push(
      {
        type: 'button',
        action_id: 'request.approve',
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value: value(),
        confirm: {
          title: { type: 'plain_text', text: 'Approve this change?' },
          text: { type: 'mrkdwn', text: clip(`The bot will apply exactly the payload shown.${v.irreversible.length ? ' It cannot be undone.' : ''}`, 300) },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Back' },
        },
      },
      { type: 'button', action_id: 'request.reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: value() },
    );
  }
  if (v.canCancel) buttons.push({ type: 'button', action_id: 'request.cancel', text: { type: 'plain_text', text: 'Cancel request' }, value: value() });
  if (v.canRefresh && v.id) buttons.push({ type: 'button', action_id: 'request.refresh', text: { type: 'plain_text', text: 'Refresh' }, value: value() });
  return buttons.length ? [{ type: 'actions', block_id: 'request_actions', elements: buttons }] : [];
}

/** Notification text that goes with the blocks (shown in notifications and by screen readers). */
export function requestFallbackText(v: RequestView): string {
  return clip(`${v.title} — ${v.id}: ${v.stateLine}`, 3000);
}

/** A modal that opens at once (trigger ids live 3 s) and is filled when the ARM reads are back. */
export function loadingModal(callbackId: string, title: string): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: { type: 'plain_text', text: clip(title, LIMITS.modalTitle) },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [section('⏳ Reading your subscriptions, identities and keys from Azure…')],
  };
}

export const REJECT_CALLBACK = 'cmk_reject';

export function rejectModal(requestId: string, digest: string, channel: string, messageTs: string): ModalView {
  return {
    type: 'modal',
    callback_id: REJECT_CALLBACK,
    private_metadata: JSON.stringify({ requestId, digest, channel, messageTs }),
    title: { type: 'plain_text', text: clip(`Reject ${requestId}`, LIMITS.modalTitle) },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Why? (the requester sees this)' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, min_length: 3, max_length: 500 },
      },
    ],
  };
}

/** A watchdog alert: the key, what is wrong, the fix, every dependent resource; Acknowledge and Snooze unless resolved. */
export function alertBlocks(alert: AlertView, note = ''): KnownBlock[] {
  const value = JSON.stringify({ watchId: alert.watchId, groupKey: alert.groupKey });
  const names = alert.resources.map((r) => `\`${esc(r.name)}\``).join(', ');
  const blocks: KnownBlock[] = [
    section(`*${esc(alert.title)}*\n${esc(alert.finding)}${alert.remedy ? `\n*Fix:* ${esc(alert.remedy)}` : ''}`),
    section(`*${alert.resources.length === 1 ? 'Resource' : `${alert.resources.length} resources`}:* ${names}`),
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`Watch ${esc(alert.watchId)} · ${esc(alert.scope)}${note ? ` · ${esc(note)}` : ''}`, LIMITS.sectionText) }] },
  ];
  if (alert.kind !== 'resolved') {
    blocks.push({
      type: 'actions',
      block_id: 'alert_actions',
      elements: [
        ...(alert.fix && JSON.stringify(alert.fix).length <= 1900
          ? [
              {
                type: 'button' as const,
                action_id: 'request.fix.0',
                text: { type: 'plain_text' as const, text: clip(fixTitleOf(alert.fix), 75) },
                value: JSON.stringify({ command: alert.fix.command, values: alert.fix.values, blockedBy: '' }),
              },
            ]
          : []),
        { type: 'button', action_id: 'finding.ack', text: { type: 'plain_text', text: 'Acknowledge' }, value },
        { type: 'button', action_id: 'finding.snooze', text: { type: 'plain_text', text: 'Snooze…' }, value },
      ],
    });
  }
  return blocks;
}

export const SNOOZE_CALLBACK = 'cmk_snooze';

/** How long and why: a snooze is recorded with its reason. */
export function snoozeModal(watchId: string, groupKey: string, channel: string, messageTs: string): ModalView {
  const hours = [
    { text: { type: 'plain_text' as const, text: '4 hours' }, value: '4' },
    { text: { type: 'plain_text' as const, text: '1 day' }, value: '24' },
    { text: { type: 'plain_text' as const, text: '3 days' }, value: '72' },
    { text: { type: 'plain_text' as const, text: '1 week' }, value: '168' },
  ];
  return {
    type: 'modal',
    callback_id: SNOOZE_CALLBACK,
    private_metadata: JSON.stringify({ watchId, groupKey, channel, messageTs }),
    title: { type: 'plain_text', text: 'Snooze this alert' },
    submit: { type: 'plain_text', text: 'Snooze' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      { type: 'input', block_id: 'hours', label: { type: 'plain_text', text: 'For' }, element: { type: 'static_select', action_id: 'value', options: hours, initial_option: hours[1]! } },
      { type: 'input', block_id: 'reason', label: { type: 'plain_text', text: 'Why? (recorded in the audit log)' }, element: { type: 'plain_text_input', action_id: 'value', min_length: 3, max_length: 500 } },
    ],
  };
}
