// Every sentence the workflow says to people: refusals (shown verbatim), posts in the request's
// conversation, and the result lines on the card. One function per sentence, with typed parameters.
import type { Actor, ChangeRequest, CheckResult } from '../domain/types';

/** Outside text echoed in a refusal: short. */
export function clip(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('')}…`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const accountOf = (a: Pick<Actor, 'platform' | 'id' | 'tenant'>) => `${a.platform}:${a.tenant ?? ''}/${a.id}`;
const lastSegment = (id: string) => id.split('/').pop() ?? id;
const REQUEST_ID_HINT = 'Request ids look like CR-7KQ2MX; `list mine` and `list pending` show yours and those waiting.';

export function stateWords(req: Pick<ChangeRequest, 'state'> & { result?: ChangeRequest['result'] }): string {
  // A fleet that wrote some of its members: not failed as a whole.
  if (req.state === 'failed' && req.result?.members?.some((m) => m.status === 'verified')) return 'partly done';
  switch (req.state) {
    case 'draft':
      return 'a draft';
    case 'checked':
      return 'blocked by failing checks';
    case 'pending_approval':
      return 'waiting for approval';
    case 'approved':
      return 'approved and about to run';
    case 'executing':
      return 'being applied in Azure';
    case 'verifying':
      return 'being verified';
    case 'succeeded':
      return 'done';
    case 'failed':
      return 'failed';
    case 'rejected':
      return 'rejected';
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
  }
}

// ── Who may ask, from where ──────────────────────────────────────────────────────────────────

export const texts = {
  unknownTarget: (type: string, supported: string[]) => `Unknown target "${clip(type, 40)}". Supported: ${supported.join(', ')}.`,
  noSignedId: () => 'I cannot tell who you are: the message carries no signed user id (Entra object id in Teams). Nothing was changed.',
  tenantNotAdmitted: (actor: Pick<Actor, 'platform' | 'tenant'>) =>
    `Your ${actor.platform === 'teams' ? 'Teams tenant' : 'Slack workspace'} (${clip(actor.tenant || 'unknown', 60)}) is not one this bot's policy admits. Ask the platform team to add it to the policy's tenants.`,
  noRuleCovers: (targetName: string, resourceGroup: string, subscriptionId: string) =>
    `No approval policy rule covers ${targetName} requests in resource group ${resourceGroup} of subscription ${subscriptionId}, so the bot cannot take it. Ask the platform team to add a rule to the policy file.`,
  mayNotRequestAny: (what: string) => `No policy rule lets you request a ${what.toLowerCase()} or any change it would make. Ask the platform team to add you as a requester. Nothing was read or changed.`,
  notARequester: (rule: string, where: string[], actor: Actor) => `Policy rule "${rule}" (it covers ${where.join(', ')}) does not list you (${accountOf(actor)}) as a requester. Ask the platform team to add you, or ask a listed requester.`,
  conversationNotAllowed: (rule: string, platform: string, conversationId: string, allowed: string[]) =>
    `Policy rule "${rule}" does not allow requests from this conversation (${platform}:${conversationId}). Make the request in one of: ${allowed.join(', ')}.`,

  // ── Submission ─────────────────────────────────────────────────────────────────────────────
  pleaseFix: (errors: Array<{ label: string; message: string }>) => `Please fix: ${errors.map((e) => `${e.label} — ${e.message}`).join('; ')}.`,
  payloadTooLarge: (shown: number, max: number) =>
    `This change is too large to show in full on a card (its ARM payload is ${shown.toLocaleString('en-US')} characters; at most ${max.toLocaleString('en-US')}), and approvers must see everything they approve. Split it into smaller changes (e.g. fewer steps or selectors per experiment).`,
  tooManyScopes: (count: number, max: number) => `This change touches ${count} places (at most ${max} can be listed on a card), and approvers must see every one. Split it into smaller changes.`,
  /**
   * The approval notice posted when a request waits. In a private chat nobody else is there: it
   * says where approvers decide instead (their own private chat with the bot, when the policy
   * names them), rather than "from: anyone".
   */
  approvalRequested: (p: { id: string; required: number; irreversible: boolean; extraForIrreversible: number; approvers: string[]; namedApprovers: string[]; requesterName: string; personal: boolean }) => {
    const undoable = !p.irreversible ? '' : p.extraForIrreversible > 0 ? ` (${p.extraForIrreversible === 1 ? 'one' : p.extraForIrreversible} more than usual: it can never be undone)` : ' (it can never be undone)';
    const needs = `🔔 ${p.id} needs ${plural(p.required, 'approval')}${undoable}`;
    if (!p.personal) return `${needs} from: ${p.approvers.join(', ')}. ${p.requesterName} cannot approve their own request.`;
    const here = `${p.requesterName} cannot approve their own request, and nobody else is in this private chat`;
    if (!p.namedApprovers.length) {
      return `${needs}. ${here}. The policy names no approver by name for it (only "anyone"), and such approvers can decide only in the conversation where a request was made: make the request in a channel the policy allows instead, or cancel this one.`;
    }
    const who = p.namedApprovers.join(', ');
    return `${needs}. ${here}: ${who} decide${p.namedApprovers.length === 1 ? 's' : ''} from their own private chat with the bot (\`status ${p.id}\`), where the policy names them.`;
  },

  fixRequestedPost: (id: string, fix: string, what: string) => `🛠️ ${id} waits for ${fix} (${what}), which fixes what blocks it; when that is done, ${id} is checked again by itself.`,
  fixDonePost: (id: string, fix: string, still: string[]) =>
    still.length ? `🔁 ${fix} is done and ${id} was checked again: still blocked by ${still.join(', ')}.` : `🔁 ${fix} is done and ${id} was checked again: nothing blocks it now; it waits for approval.`,

  // ── Looking things up ──────────────────────────────────────────────────────────────────────
  noSuchRequest: (id: string) => `There is no request ${clip(id, 40)}. ${REQUEST_ID_HINT}`,
  notVisible: (id: string) => `You cannot see ${id} from here: ask in the conversation where it was requested. Elsewhere, only its requester, its approvers and the policy's auditors can see it.`,
  notCovered: (resourceId: string) => `You can look at ${clip(lastSegment(resourceId), 80)} through the bot only where the policy names you as a requester or approver for it (or as an auditor).`,
  onlyWaitingRechecked: (req: Pick<ChangeRequest, 'id' | 'state'>) => `Request ${req.id} is ${stateWords(req)}; only waiting requests can be checked again.`,
  reviewUnsupported: (resourceTypes: string[], given: string) => `I can review ${resourceTypes.join(', ')} resources; ${given || 'this'} is not one of them.`,
  resourceNotFound: (resourceId: string) => `${resourceId} was not found (or the bot cannot read it).`,

  // ── Decisions ──────────────────────────────────────────────────────────────────────────────
  notDecidableNow: (req: Pick<ChangeRequest, 'id' | 'state'>, decision: 'approved' | 'rejected') => `Request ${req.id} is ${stateWords(req)}; it cannot be ${decision} now.`,
  ownRequest: (id: string, actor: Actor, verb: 'approve' | 'reject', approvers: string[]) =>
    `You requested ${id} (the policy counts ${accountOf(actor)} as the same person as the requester), so you cannot ${verb} it. One of the approvers must decide: ${approvers.join(', ')}.`,
  notAnApprover: (id: string, rules: string[], approvers: string[]) => `You are not an approver for ${id} under policy rule${rules.length > 1 ? 's' : ''} ${rules.map((n) => `"${n}"`).join(', ')}. Approvers: ${approvers.join(', ')}.`,
  decideFromPrivateNeedsName: (id: string) => `You can decide on ${id} in its own conversation. Deciding from a private chat with the bot needs the policy to name you as an approver (not only "*").`,
  decideWhereRequested: (id: string, named: boolean) => `Decisions on ${id} are made in the conversation where it was requested${named ? ', or in your private chat with the bot' : ''}, not here.`,
  decisionWithoutDigest: (id: string, verb: 'approve' | 'reject') =>
    `Your ${verb === 'approve' ? 'approval' : 'rejection'} did not say which version of ${id} you saw, so it was not counted. Here is the request as it is now: review it and decide again.`,
  changedSinceSeen: (id: string, verb: 'approve' | 'reject') =>
    `${id} changed after you looked at it (the payload or the evidence it was checked against is different now), so your ${verb === 'approve' ? 'approval' : 'rejection'} was not counted. Review the updated card, then decide again.`,
  alreadyDecided: (id: string, asOtherAccount?: Pick<Actor, 'platform' | 'id' | 'tenant'>) =>
    `You have already decided on ${id}${asOtherAccount ? ` (as ${accountOf(asOtherAccount)}, which the policy counts as you)` : ''}; each approver counts once — one vote per person.`,
  rejectedPost: (id: string, by: string, reason?: string) => `❌ ${id} was rejected by ${by}${reason ? `: ${reason}` : ''}.`,
  approvedPost: (id: string, names: string[]) => `✅ ${id} approved by ${names.join(', ')}. Executing now.`,
  approvalCountedPost: (by: string, id: string, counted: number, required: number) => `👍 ${by} approved ${id} (${counted} of ${required}).`,

  // ── Cancel and expiry ──────────────────────────────────────────────────────────────────────
  onlyRequesterCancels: (req: Pick<ChangeRequest, 'id' | 'requester'>) => `Only the requester (${req.requester.name}) can cancel ${req.id}; approvers can reject it instead.`,
  cannotCancel: (req: Pick<ChangeRequest, 'id' | 'state'>) => `${req.id} is ${stateWords(req)}; it can no longer be cancelled.`,
  cancelledPost: (id: string, by: string) => `🚫 ${id} was cancelled by ${by}. Nothing was changed in Azure.`,
  expiredPost: (id: string, at: string) => `⌛ ${id} expired at ${at} without enough approvals. Submit a new request if it is still needed.`,

  // ── Execution ──────────────────────────────────────────────────────────────────────────────
  checksNowFail: (failing: CheckResult[]) => `checks now fail: ${failing.map((c) => `${c.id} (${c.finding})`).join('; ')}`,
  evidenceChanged: () => 'the evidence the approvals were bound to changed (key version or identity)',
  stoppedBeforeWrite: (why: string) => `Stopped before the write: ${why}.`,
  voidedPost: (id: string, why: string) => `⛔ ${id}: nothing was changed in Azure — ${why}. Earlier approvals no longer count.`,
  noRuleAnyMore: () => 'no rule of the policy in force covers it any more',
  noLongerRequester: (rule: string, requester: string) => `policy rule "${rule}" no longer lists ${requester} as a requester`,
  policyRefusedPost: (id: string, why: string) => `⛔ ${id}: nothing was changed in Azure — ${why}.`,
  ruleShortOf: (rule: string, counted: number, required: number) => `"${rule}" has ${counted} of ${required}`,
  policyChangedNote: (dropped: string[], missing: string[]) => `The policy changed before the write: ${dropped.length ? `approvals by ${dropped.join(', ')} no longer count; ` : ''}${missing.join('; ')}.`,
  waitsAgainPost: (id: string, note: string) => `⏸️ ${id}: nothing was changed in Azure yet. ${note} It waits for approval again.`,
  operationAcceptedPost: (id: string) => `⏳ ${id}: Azure accepted the change and is applying it (long-running operation); this card updates when it is done.`,
  azureProgress: (status: string, polls: number) => `Azure reports ${status} (check ${polls})…`,
  azureRefused: (described: string) => `Azure refused the change: ${described}`,
  notSent: (message: string) => `The change could not be sent: ${message}`,
  fleetNoneUse: (key: string, subscriptions: number, within?: string) =>
    `No Fluid Relay server or storage account ${within ? `under ${clip(within, 300)}` : `in the ${plural(subscriptions, 'subscription')} the bot can read`} uses ${clip(key, 200)}. Check the key URL${within ? ' and the scope' : ''} (\`check <resource id>\` shows the key a resource uses).`,
  fleetNothingToDo: (key: string, skipped: Array<{ resourceId: string; reason: string }>) =>
    `Nothing to change: every resource that uses ${clip(key, 200)} is where this would take it (${skipped
      .slice(0, 5)
      .map((x) => `${lastSegment(x.resourceId)} ${x.reason}`)
      .join('; ')}${skipped.length > 5 ? `; and ${skipped.length - 5} more` : ''}).`,
  fleetTooLarge: (n: number, max: number, within?: string) =>
    `${n} resources use this key${within ? ` under ${clip(within, 300)}` : ''}; one request takes at most ${max}. Rotate them in parts: \`rotate-key <key url> --in <${within ? 'a resource group in it' : 'subscription or resource group id'}>\` takes only the resources there.`,
  fleetProgress: (done: number, total: number, failed: number) => `Written and verified ${done} of ${total}${failed ? ` (${failed} failed)` : ''}…`,
  fleetDone: (verified: number, total: number, failed: Array<{ resourceId: string; code?: string }>) =>
    failed.length
      ? `${verified} of ${total} verified; ${failed.length} failed: ${failed
          .slice(0, 5)
          .map((f) => `${lastSegment(f.resourceId)} (${f.code ?? 'error'})`)
          .join(', ')}${failed.length > 5 ? ` and ${failed.length - 5} more` : ''}. *Retry the failed ones* makes a new request for just those.`
      : `All ${total} verified.`,
  fleetDonePost: (id: string, message: string, partly: boolean, none: boolean) => `${none ? '❌' : partly ? '⚠️' : '🔐'} ${id} ${none ? 'failed' : partly ? 'partly done' : 'done'}: ${message}`,
  failedPost: (id: string, message: string) => `❌ ${id} failed: ${message}`,
  readBackFailed: (described: string) => `Could not read the resource back: ${described}`,
  readBackRemedy: () => 'Run `status` again shortly; if it persists, open the resource in the portal.',
  donePost: (id: string, targetName: string, resourceId: string, done: string) => `🔐 ${id} done: ${targetName} ${lastSegment(resourceId)} — ${done}`,
  verificationFailedPost: (id: string, finding: string) => `⚠️ ${id}: the write landed but verification failed — ${finding}`,
} as const;
