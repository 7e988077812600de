// What the bot says about a request, as a channel-neutral view model. Teams binds it into
// cards/request.json; Slack will render it as Block Kit. No channel types here.
import { formatHead } from '../domain/audit-chain';
import { blocks, type ChangeRequest, type CheckResult, TERMINAL_STATES } from '../domain/types';
import { visibleText } from '../domain/canonical';
import { DEFAULT_TARGETS, type TargetRegistry } from '../targets';
import type { FormTarget } from '../targets/types';
import type { EvidenceRecord } from '../workflow/evidence';
import { approvalsFor, irreversibleOf, stateWords } from '../workflow/service';
import { subscriptionOf } from '../domain/resource-id';

export interface CheckLine {
  id: string;
  icon: string;
  title: string;
  finding: string;
  evidence: string;
  remedy: string;
  /** The fix as a request of its own (`new <command>`, prefilled): '' when there is none. */
  fixCommand: string;
  /** The fix button's words ("Fix this (new grant-key-access)", "Retry the failed ones"); '' when there is none. */
  fixTitle: string;
  /**
   * What *Fix this* sends back: the command, the form values, and the request it unblocks. Values
   * too large to ride on a button (a retry of many resources: Slack keeps 2,000 characters of a
   * button's value) stay with the request: `from` names it and the check ("CR-…#fleet.members"),
   * and the values sent are empty. '' when the values ride along.
   */
  fixData: { command: string; values: Record<string, string>; blockedBy: string; from: string } | null;
}

/** Fix values larger than this (as JSON) are sent as a reference to the request's check (`fixData.from`). */
const MAX_FIX_VALUES_CHARS = 1_200;

export interface RequestView {
  id: string;
  title: string;
  state: ChangeRequest['state'];
  stateLine: string;
  stateColor: 'good' | 'warning' | 'attention' | 'accent' | 'default';
  facts: Array<{ title: string; value: string }>;
  irreversible: string[];
  /** For updates: "path: from → to" per changed property. */
  changes: string[];
  failing: CheckLine[];
  warnings: CheckLine[];
  /** Passed and information-only checks: shown folded away, behind `passedLabel`. */
  passing: CheckLine[];
  /** Set instead of `passing` when the card would be too large: just the ids. */
  passingSummary: string;
  /** The passed checks counted, count first ("19 passed, 3 for information"); '' when there are none. */
  passedLabel: string;
  /** Set when problems were left off a card too large to list them all: how many, and how to see them. */
  moreProblems: string;
  checksSummary: string;
  /** The whole ARM payload, pretty-printed: never clipped (a change too large to show is refused at submission). */
  payload: string;
  /** A change across many resources: how many, where ("25 resources in 3 subscriptions"); '' for a single change. */
  membersLabel: string;
  /** Each member: its name, subscription, what its write changes and (once written) its outcome. */
  members: string[];
  /** Resources found but left out, and why. */
  skipped: string[];
  /** Every place the change touches ("role: resource id"), in full. */
  scopes: string[];
  /** A message for this person above the card (e.g. why their decision was not counted). */
  notice: string;
  /** Set when the policy was applied again and approvals dropped out. */
  policyNote: string;
  approvals: string[];
  approvalsLine: string;
  result: string;
  verification: CheckLine[];
  canDecide: boolean;
  canCancel: boolean;
  /** Whether anything about the request can still change (a finished request offers no buttons). */
  canRefresh: boolean;
  digest: string;
  digestShort: string;
  /** Channel user ids whose clients should fetch their own view of the card (Teams: ≤ 60). */
  refreshUserIds: string[];
}

/** Whose card this is: approvers get Approve/Reject, the requester Cancel, others the status; 'all' is the shared fallback. */
export type Viewer = 'all' | 'approver' | 'requester' | 'other';

export const MAX_REFRESH_USERS = 60;

const ICON: Record<CheckResult['status'], string> = { pass: '✅', warn: '⚠️', info: 'ℹ️', fail: '❌', error: '⛔' };

function safeSummary(target: FormTarget, params: Record<string, unknown>): Array<{ title: string; value: string }> {
  try {
    return target.summary(params);
  } catch {
    return [];
  }
}

/** Cards have a size budget (Teams ~28 KB per card, Slack 3000 chars per section): keep each value short. */
function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `blockedBy`: the request the fix unblocks; `source`: the request the check belongs to (for a fix too large to carry). */
function line(c: CheckResult, blockedBy = '', source = ''): CheckLine {
  const evidence = Object.entries(c.evidence)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join(' · ');
  return {
    id: c.id,
    icon: ICON[c.status],
    title: c.title,
    finding: clip(c.finding, 400),
    evidence: clip(evidence, 400),
    remedy: clip(c.remedy ?? '', 500),
    fixCommand: c.fix?.command ?? '',
    fixTitle: c.fix ? fixTitleOf(c.fix) : '',
    fixData: c.fix ? fixDataOf(c, c.fix, blockedBy, source) : null,
  };
}

/** A fix button's words: the fix's own label, or "Fix this (new <command>)". */
export function fixTitleOf(fix: NonNullable<CheckResult['fix']>): string {
  return fix.label ?? `Fix this (new ${fix.command})`;
}

function fixDataOf(c: CheckResult, fix: NonNullable<CheckResult['fix']>, blockedBy: string, source: string): NonNullable<CheckLine['fixData']> {
  if (!source || JSON.stringify(fix.values).length <= MAX_FIX_VALUES_CHARS) return { command: fix.command, values: fix.values, blockedBy, from: '' };
  return { command: fix.command, values: {}, blockedBy, from: `${source}#${c.id}` };
}

/** "19 passed, 3 for information": the checks that need nothing from anyone, counted. */
function passedLabel(checks: CheckResult[]): string {
  const pass = checks.filter((c) => c.status === 'pass').length;
  const info = checks.filter((c) => c.status === 'info').length;
  return [...(pass ? [`${pass} passed`] : []), ...(info ? [`${info} for information`] : [])].join(', ');
}

export function checksSummary(checks: CheckResult[]): string {
  const n = (s: CheckResult['status']) => checks.filter((c) => c.status === s).length;
  const parts = [`${n('pass')} passed`];
  if (n('info')) parts.push(`${n('info')} for information`);
  if (n('warn')) parts.push(`${n('warn')} warning${n('warn') > 1 ? 's' : ''}`);
  if (n('fail')) parts.push(`${n('fail')} failed`);
  if (n('error')) parts.push(`${n('error')} could not be evaluated`);
  return parts.join(', ');
}

/** "1 of 2 approvals · approvers: …", or per rule when several rules apply. */
function approvalsLine(req: ChangeRequest, counted: number): string {
  const rules = req.standing ?? [];
  if (rules.length > 1) {
    return rules.map((r) => `rule "${r.rule}": ${r.counted} of ${r.required} (approvers: ${r.approvers.join(', ')})`).join(' · ');
  }
  return `${counted} of ${req.requiredApprovals} approval${req.requiredApprovals === 1 ? '' : 's'} · approvers: ${req.approvers.join(', ')}`;
}

/** How many more approvals the request needs, as the rules stand. */
function stillNeeded(req: ChangeRequest, counted: number): number {
  const rules = req.standing ?? [];
  return rules.length ? Math.max(0, ...rules.map((r) => r.required - r.counted)) : Math.max(0, req.requiredApprovals - counted);
}

/** Strings at any depth through visibleText: names, reasons, findings and payloads come from outside. */
function visibleDeep<T>(v: T): T {
  if (typeof v === 'string') return visibleText(v) as T;
  if (Array.isArray(v)) return v.map(visibleDeep) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visibleDeep(x)])) as T;
  return v;
}

/** A view as it may be shown in any channel; the ids clients act on are left exactly as they are. */
function shown(v: RequestView): RequestView {
  return withFixData({ ...visibleDeep(v), digest: v.digest, refreshUserIds: v.refreshUserIds }, v);
}

/** The values *Fix this* sends back, exactly as they were (an escaped copy of the view keeps its text, not these). */
export function withFixData(escaped: RequestView, original: RequestView): RequestView {
  const keep = (lines: CheckLine[], from: CheckLine[]) => lines.map((l, i) => ({ ...l, fixData: from[i]?.fixData ?? null }));
  return { ...escaped, failing: keep(escaped.failing, original.failing), warnings: keep(escaped.warnings, original.warnings), verification: keep(escaped.verification, original.verification) };
}

export function requestView(req: ChangeRequest, viewer: Viewer = 'all', targets: TargetRegistry = DEFAULT_TARGETS): RequestView {
  const target = targets.find(req.targetType);
  const p = req.params as Record<string, string>;
  const counted = approvalsFor(req);
  const name = req.resourceId.split('/').pop() ?? req.resourceId;
  const stateColor: RequestView['stateColor'] =
    req.state === 'succeeded' ? 'good' : ['failed', 'rejected', 'expired', 'cancelled'].includes(req.state) ? 'attention' : req.state === 'checked' ? 'attention' : req.state === 'pending_approval' ? 'warning' : 'accent';
  const blocked = req.checks.some(blocks);
  const stateLine =
    viewer === 'approver' && req.state === 'pending_approval'
      ? `Your approval is requested: ${stillNeeded(req, counted.length)} more needed.`
      : req.state === 'checked' && blocked && req.waitingFor?.length
        ? `Blocked: waiting for ${req.waitingFor.join(', ')} (the fix); this request is checked again by itself when that is done.`
        : req.state === 'checked' && blocked
          ? 'Blocked: fix the failing checks below (Fix this, where offered), or `check` it again once they are fixed.'
          : req.state === 'pending_approval'
            ? `Waiting for ${stillNeeded(req, counted.length)} more approval${stillNeeded(req, counted.length) === 1 ? '' : 's'}.`
            : `This request is ${stateWords(req)}.`;
  const failing = req.checks.filter(blocks).map((c) => line(c, req.id, req.id));
  const payload = payloadOf(req);
  return shown({
    id: req.id,
    title: target?.cardTitle ?? `${target?.displayName ?? req.targetType} with a customer-managed key`,
    state: req.state,
    stateLine,
    stateColor,
    facts: [
      { title: 'Request', value: req.id },
      { title: 'Requested by', value: req.requester.name },
      { title: 'Resource', value: name },
      { title: 'Resource group', value: p.resourceGroup ?? '' },
      { title: 'Subscription', value: p.subscriptionId ?? '' },
      ...(target ? safeSummary(target, req.params) : []),
      { title: 'Operation', value: operationOf(req) },
      { title: 'Expires', value: ['pending_approval', 'checked'].includes(req.state) ? `${req.expiresAt.replace('T', ' ').slice(0, 16)} UTC` : '' },
      // A finished request shows where the audit chain stood when it ended: kept in the chat, it is
      // an anchor outside the database (`npm run audit:verify -- --expect <seq>:<hash>`).
      ...(TERMINAL_STATES.has(req.state) && req.auditHead
        ? [
            { title: 'Audit head', value: `seq ${req.auditHead.seq} · ${req.auditHead.hash.slice(0, 12)}` },
            { title: 'Audit anchor', value: formatHead(req.auditHead) },
          ]
        : []),
    ].filter((f) => f.value),
    irreversible: irreversibleOf(targets, target, req.params, req.fleet),
    changes: (req.changes ?? []).map((c) => clip(`${c.path}: ${c.from} → ${c.to}`, 400)),
    failing,
    warnings: req.checks.filter((c) => c.status === 'warn').map((c) => line(c, req.id, req.id)),
    passing: req.checks.filter((c) => c.status === 'pass' || c.status === 'info').map((c) => line(c)),
    passingSummary: '',
    passedLabel: passedLabel(req.checks),
    moreProblems: '',
    checksSummary: checksSummary(req.checks),
    payload,
    ...fleetLines(req, payload),
    // A fleet's members are listed with their changes; the scopes name what they rely on.
    scopes: [...new Set((req.scopes ?? []).filter((sc) => !req.fleet || sc.role !== 'resource').map((sc) => `${sc.role}: ${sc.id}`))],
    notice: '',
    policyNote: req.policyNote ?? '',
    approvals: req.approvals.map((a) => `${a.decision === 'approved' ? '👍' : '👎'} ${a.approver.name} ${a.decision}${a.digest !== req.digest ? ' (an earlier version — no longer counts)' : ''}${a.reason ? `: ${a.reason}` : ''}`),
    // A blocked request cannot be approved: do not suggest that anyone could.
    approvalsLine: req.state === 'checked' && blocked && !req.approvals.length ? '' : approvalsLine(req, counted.length),
    result: req.result ? `${req.result.status === 'succeeded' ? '🔐' : '❌'} ${req.result.message}${req.result.correlationId ? ` (correlation id ${req.result.correlationId})` : ''}` : '',
    verification: (req.result?.verification ?? []).map((c) => line(c, '', req.id)),
    canDecide: req.state === 'pending_approval' && (viewer === 'all' || viewer === 'approver'),
    // Cancelling stops something that could still run: a blocked request never will (it waits for
    // nobody and expires), and once running it is too late.
    canCancel: ['pending_approval', 'approved'].includes(req.state) && (viewer === 'all' || viewer === 'requester'),
    canRefresh: !TERMINAL_STATES.has(req.state),
    digest: req.digest,
    digestShort: req.digest.slice(0, 12),
    refreshUserIds: TERMINAL_STATES.has(req.state) ? [] : [...new Set([req.requester, ...req.approvals.map((a) => a.approver)].map((a) => a.channelUserId).filter((x): x is string => !!x))].slice(0, MAX_REFRESH_USERS),
  });
}

/** "PATCH 2025-06-01", or for a fleet each method and api-version with how many writes use it. */
function operationOf(req: ChangeRequest): string {
  if (req.plan) return `${req.plan.method} ${req.plan.apiVersion}`;
  const counts = new Map<string, number>();
  for (const m of req.fleet?.members ?? []) counts.set(`${m.plan.method} ${m.plan.apiVersion}`, (counts.get(`${m.plan.method} ${m.plan.apiVersion}`) ?? 0) + 1);
  return [...counts].map(([op, n]) => `${op} × ${n}`).join(', ');
}

/** A fleet's writes are shown whole on the card up to this many characters (each one is always in `evidence`). */
const MAX_FLEET_PAYLOAD_CHARS = 12_000;

/** The payload shown whole: a single write's, or a fleet's writes when they fit on a card (each one is always in `evidence`). */
function payloadOf(req: ChangeRequest): string {
  if (req.plan) return JSON.stringify(req.plan.body, null, 2);
  const all = JSON.stringify(
    (req.fleet?.members ?? []).map((m) => ({ [`${m.plan.method} ${m.resourceId}`]: m.plan.body })),
    null,
    2,
  );
  return all.length <= MAX_FLEET_PAYLOAD_CHARS ? all : '';
}

const OUTCOME_ICON: Record<string, string> = { verified: '✅', failed: '❌' };

/** A fleet's members as the card lists them: name, kind, subscription and group, what its write changes, and its outcome once written. */
function fleetLines(req: ChangeRequest, payload: string): Pick<RequestView, 'membersLabel' | 'members' | 'skipped'> {
  if (!req.fleet) return { membersLabel: '', members: [], skipped: [] };
  const outcomes = new Map((req.result?.members ?? []).map((o) => [o.resourceId.toLowerCase(), o]));
  const subs = new Set(req.fleet.members.map((m) => subscriptionOf(m.resourceId).toLowerCase()));
  const n = req.fleet.members.length;
  const inFull = payload ? '' : ` — every write in full: \`evidence ${req.id}\``;
  return {
    membersLabel: `${n} resource${n === 1 ? '' : 's'} in ${subs.size} subscription${subs.size === 1 ? '' : 's'}${inFull}`,
    members: req.fleet.members.map((m) => {
      const seg = m.resourceId.split('/');
      const o = outcomes.get(m.resourceId.toLowerCase());
      const change = m.changes.map((c) => `${c.path.split('.').pop()}: ${c.from} → ${c.to}`).join('; ');
      const failure = o?.status === 'failed' ? ` · ${o.code ?? 'error'}: ${o.message}` : '';
      return clip(`${o ? `${OUTCOME_ICON[o.status]} ` : ''}${seg[8] ?? m.resourceId} (${seg[7] ?? ''} in ${seg[4] ?? ''}, subscription ${seg[2] ?? ''}) · ${change || 'no change read'}${failure}`, 600);
    }),
    skipped: req.fleet.skipped.map((x) => clip(`${x.resourceId.split('/').pop()} ${x.reason}`, 300)),
  };
}

/** A fleet's members a card lists at most, at the most compact rendering (every one is in `evidence`). */
const MAX_LISTED_MEMBERS = 40;

/**
 * Smaller renderings of the same view for when a card would be too large, from gentle to severe:
 * 1 passing checks as ids only; 2 no evidence lines; 3 at most `keep` problems listed, the rest counted
 * in `moreProblems`.
 */
export function compactView(v: RequestView, level: 1 | 2 | 3 = 1, keep = 8): RequestView {
  // The payload and the scopes are what is approved: they are never shortened.
  let out: RequestView = { ...v, passing: [], passingSummary: v.passing.map((p) => p.id).join(', ') };
  if (level >= 2) out = { ...out, failing: out.failing.map((c) => ({ ...c, evidence: '' })), warnings: out.warnings.map((c) => ({ ...c, evidence: '', remedy: '' })) };
  if (level >= 3) {
    const hidden = Math.max(0, out.failing.length - keep) + Math.max(0, out.warnings.length - keep);
    out = {
      ...out,
      failing: out.failing.slice(0, keep),
      warnings: out.warnings.slice(0, keep),
      moreProblems: hidden ? `…and ${hidden} more problem${hidden > 1 ? 's' : ''} not shown: ${v.id ? `use \`check ${v.id}\`` : 'run `check` with the resource id again'}.` : '',
      // A fleet too large for one card: the first members, then where the rest are.
      members: v.members.length > MAX_LISTED_MEMBERS ? [...v.members.slice(0, MAX_LISTED_MEMBERS), `…and ${v.members.length - MAX_LISTED_MEMBERS} more: \`evidence ${v.id}\` lists every one.`] : v.members,
    };
  }
  return out;
}

/** A read-only review of an existing resource (`check <resource id>`), shaped like a request card without approvals. */
export function reviewView(displayName: string, resourceId: string, location: string | undefined, keyUrl: string, checks: CheckResult[]): RequestView {
  const failing = checks.filter(blocks).map((c) => line(c));
  const warnings = checks.filter((c) => c.status === 'warn').map((c) => line(c));
  return shown({
    id: '',
    title: `Review of ${displayName} ${resourceId.split('/').pop()}`,
    state: 'checked',
    stateLine: failing.length
      ? `${failing.length} problem${failing.length > 1 ? 's' : ''} found — see the fixes below.`
      : warnings.length
        ? 'Customer-managed key is on and working, with warnings below.'
        : 'Customer-managed key is on and healthy.',
    stateColor: failing.length ? 'attention' : warnings.length ? 'warning' : 'good',
    facts: [
      { title: 'Resource', value: resourceId },
      { title: 'Region', value: location ?? '' },
      { title: 'Key', value: keyUrl || '(no customer-managed key)' },
    ].filter((f) => f.value),
    irreversible: [],
    changes: [],
    failing,
    warnings,
    passing: checks.filter((c) => c.status === 'pass' || c.status === 'info').map((c) => line(c)),
    passingSummary: '',
    passedLabel: passedLabel(checks),
    moreProblems: '',
    checksSummary: checksSummary(checks),
    payload: '',
    membersLabel: '',
    members: [],
    skipped: [],
    scopes: [],
    notice: '',
    policyNote: '',
    approvals: [],
    approvalsLine: '',
    result: '',
    verification: [],
    canDecide: false,
    canCancel: false,
    canRefresh: false,
    digest: '',
    digestShort: '',
    refreshUserIds: [],
  });
}

/** One line per request for `list`. */
export function listLine(req: ChangeRequest, targets: TargetRegistry = DEFAULT_TARGETS): string {
  const counted = approvalsFor(req).length;
  return visibleText(
    `- ${req.id} · ${targets.find(req.targetType)?.displayName ?? req.targetType} ${req.resourceId.split('/').pop()} · ${stateWords(req)}${req.state === 'pending_approval' ? ` (${counted}/${req.requiredApprovals} approvals)` : ''} · by ${req.requester.name}`,
  );
}

/** `audit <id>`: the trail as text, oldest first. */
export function auditText(req: ChangeRequest, rows: Array<{ seq: number; at: string; actor: unknown; event: string; data: Record<string, unknown> }>): string {
  const who = (a: unknown) => (a && typeof a === 'object' ? ((a as { name?: string; system?: string }).name ?? `bot (${(a as { system?: string }).system ?? 'system'})`) : 'bot');
  const detail = (r: { event: string; data: Record<string, unknown> }) => {
    const d = r.data;
    if (r.event === 'arm_call') return `${d.method} → ${d.ok ? d.status : `failed ${d.code}`} · correlation ${d.correlationId ?? 'n/a'}`;
    if (r.event === 'checked') {
      const sum = (d.summary ?? {}) as Record<string, number | string[]>;
      const failing = Array.isArray(sum.failing) && sum.failing.length ? ` (${sum.failing.join(', ')})` : '';
      return `${(d.moment as string) ?? ''}: ${sum.pass ?? 0} passed, ${sum.warn ?? 0} warnings, ${sum.fail ?? 0} failed${failing}, ${sum.error ?? 0} errors · ${Array.isArray(d.armCalls) ? d.armCalls.length : 0} ARM reads`;
    }
    if (r.event === 'approved' || r.event === 'rejected') return `digest ${String(d.digest ?? '').slice(0, 12)}…${d.reason ? ` · “${d.reason}”` : ''}`;
    if (r.event === 'decision_refused' || r.event === 'voided') return String(d.reason ?? '');
    if (r.event === 'verified') return String(d.finding ?? '');
    return '';
  };
  return [`**Audit trail of ${req.id}** (${rows.length} entries, hash-chained)`, ...rows.map((r) => visibleText(`${r.seq}. ${r.at.replace('T', ' ').slice(0, 19)} · ${r.event} · ${who(r.actor)}${detail(r) ? ` · ${detail(r)}` : ''}`))].join(
    '\n',
  );
}

/**
 * `evidence <id>`: the record as a JSON code block when `fits` (the channel's message limit, as
 * the channel measures it), indented if that fits, else on one line; otherwise a summary of it and
 * the command that exports the whole record.
 */
export function evidenceText(rec: EvidenceRecord, fits: (text: string) => boolean, fence = 'json'): string {
  const id = rec.request.id;
  const head = rec.request.auditHead ? ` · request head ${formatHead(rec.request.auditHead)}` : '';
  const intro = `**Evidence of ${id}** (${rec.auditRows.length} audit rows${head}). Save the JSON below as a file and verify it offline with \`npm run audit:verify -- --bundle <file>\`.`;
  for (const json of [JSON.stringify(rec, null, 2), JSON.stringify(rec)]) {
    const text = `${intro}\n\`\`\`${fence}\n${json}\n\`\`\``;
    if (fits(text)) return text;
  }
  const size = Math.ceil(Buffer.byteLength(JSON.stringify(rec)) / 1024);
  const writes = rec.armCalls.filter((c) => c.event === 'arm_call' || c.event === 'operation_started');
  const verification = rec.result?.verification?.[0];
  const rows = rec.auditRows;
  const lines = [
    `**Evidence of ${id}** is ${size} KB, more than one chat message can carry; a summary follows. The whole record: \`npm run audit:export -- ${id} --out ${id}.json\` where the bot runs, then \`npm run audit:verify -- --bundle ${id}.json\`.`,
    `- ${stateWords({ state: rec.request.state as ChangeRequest['state'], result: rec.result ?? undefined })} · ${rec.change ? `${rec.change.method} ${rec.change.apiVersion} ${rec.change.resourceId}` : `${rec.fleet?.members.length ?? 0} writes over the resources that use ${rec.request.resourceId}`}`,
    `- digest ${rec.digest}`,
    ...rec.approvals.map((a) => `- ${a.decision} by ${a.who} (${a.platform}:${a.tenant ? `${a.tenant}/` : ''}${a.id}) at ${a.at} · digest ${a.digest.slice(0, 12)}…${a.digest === rec.digest ? '' : ' (an earlier version)'}`),
    ...writes.map((c) => `- ARM ${c.method} ${c.status ?? ''} · correlation ${c.correlationId ?? 'n/a'} (audit row ${c.seq})`.replace(/ {2,}/g, ' ')),
    ...(verification ? [`- verification ${verification.id}: ${verification.status} — ${clip(verification.finding, 300)}`] : []),
    `- checks: ${checksSummary(rec.checks)}; ${rec.armCalls.length} ARM calls recorded`,
    rows.length ? `- audit rows seq ${rows[0]!.seq}–${rows.at(-1)!.seq} (${rows.length})${head}${rec.chainHead ? ` · chain head ${formatHead(rec.chainHead)}` : ''}` : '- no audit rows',
  ];
  return lines.join('\n');
}
