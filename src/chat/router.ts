// One command router for every channel: a parsed command in, a reply out as a view model
// (text, a request, a review, a form, an evidence record). Teams and Slack only render the reply;
// what a command does, who may do it and what it says are decided here and in the workflow.
import { z } from 'zod';
import { canonicalJson, REQUEST_ID_PATTERN, sha256 } from '../domain/canonical';
import type { Actor, ChangeRequest } from '../domain/types';
import { resourceTypeOf, type TargetRegistry } from '../targets';
import type { FormTarget } from '../targets/types';
import type { FormCatalog, FormChoices } from '../workflow/catalog';
import type { EvidenceRecord } from '../workflow/evidence';
import { buildEvidence } from '../workflow/evidence';
import { type Place, Refusal, type Workflow } from '../workflow/service';
import type { Watchdog } from '../workflow/watchdog';
import type { Store } from '../store/store';
import { type Command, helpText } from './commands';
import { type FieldError, type FormCarry, fixedOf, formView, type FormView } from './forms';
import { auditText, listLine, requestView, type RequestView, reviewView, type Viewer } from './presenter';
import { subscriptionOf } from '../domain/resource-id';

/** A fix's values named by where they are: a request and its check ("CR-…#fleet.members"). */
export const FIX_REF_PATTERN = new RegExp(`^${REQUEST_ID_PATTERN.source.slice(1, -1)}#[A-Za-z0-9_.-]{1,80}$`);

/**
 * What a *Fix this* button carries (the presenter's fixData), read the same way in every channel:
 * a payload that is not what the bot put on the button is refused whole.
 */
const fixActionSchema = z
  .object({
    command: z.string().min(1).max(64),
    values: z.record(z.string(), z.string().max(2048)).default({}),
    blockedBy: z.string().regex(REQUEST_ID_PATTERN).or(z.literal('')).optional(),
    from: z.string().regex(FIX_REF_PATTERN).or(z.literal('')).optional(),
  })
  .passthrough();

/** A form's fixed values, as one short digest (FormCarry.fromDigest). */
function fixedDigest(fixed: Record<string, string>): string {
  return sha256(canonicalJson(fixed)).slice(0, 16);
}
/** A *Fix this* button's data, or undefined when it is not one (the router refuses it: FIX_NOT_UNDERSTOOD). */
export function fixActionOf(raw: unknown): z.infer<typeof fixActionSchema> | undefined {
  const d = fixActionSchema.safeParse(raw);
  return d.success ? d.data : undefined;
}
const FIX_NOT_UNDERSTOOD = 'That fix was not understood. Send `help new` for the fixes the bot can make.';

export type Reply =
  /** Our own markdown (help): shown as written. */
  | { kind: 'markdown'; text: string }
  /** A command that was not understood: the problem (it may quote what was typed) and the command's help to point to. */
  | { kind: 'usage'; problem: string; verb?: string }
  /** A first line of ours (markdown) and lines that may quote outside text: each shown as typed. */
  | { kind: 'lines'; head?: string; lines: string[] }
  | { kind: 'request'; request: ChangeRequest; view: RequestView }
  | { kind: 'review'; view: RequestView }
  | { kind: 'form'; target: FormTarget; form: FormView; choices: FormChoices; fixed: Record<string, string> }
  | { kind: 'evidence'; record: EvidenceRecord };

export interface RouterDeps {
  workflow: Workflow;
  /** The watchdog (`watch`, `unwatch`, `watch list`, `scan now`); absent, those commands say it is off. */
  watchdog?: Watchdog;
  catalog: FormCatalog;
  store: Store;
  targets: TargetRegistry;
}

export class CommandRouter {
  constructor(private readonly deps: RouterDeps) {}

  private request(req: ChangeRequest, actor: Actor): Reply {
    const viewer: Viewer = this.deps.workflow.roleOf(req, actor);
    return { kind: 'request', request: req, view: requestView(req, viewer, this.deps.targets) };
  }

  /** A form for a target, with the pickers of the given subscription (or the first the bot sees); `opts` as formView takes them. */
  async form(target: FormTarget, values: Record<string, unknown> = {}, errors: FieldError[] = [], opts: Parameters<typeof formView>[4] = {}): Promise<Extract<Reply, { kind: 'form' }>> {
    const sub = typeof values.subscriptionId === 'string' && values.subscriptionId ? values.subscriptionId : undefined;
    const choices = await this.deps.catalog.choices(sub);
    const form = formView(target, choices, values, errors, opts);
    return { kind: 'form', target, form, choices, fixed: fixedOf(target, Object.fromEntries(form.fields.map((f) => [f.name, f.value]))) };
  }

  /**
   * *Fix this* on a failing check: the remediation's form, filled in with what the check found, and
   * a note of the request it unblocks. The fix is a request like any other (checks, approvals, audit).
   */
  async fix(actor: Actor, button: unknown, place: Place): Promise<Extract<Reply, { kind: 'form' }>> {
    const fix = fixActionOf(button);
    if (!fix) throw new Refusal(FIX_NOT_UNDERSTOOD);
    const { command, blockedBy = '' } = fix;
    this.deps.workflow.admit(actor);
    const target = this.deps.targets.forCommand(command);
    if (!target) throw new Refusal(`There is no \`new ${command}\` to fix this with.`);
    // Values too large for the button stayed with the request: read them from the check that offers the fix.
    const values = fix.from ? await this.fixValuesOf(fix.from, command, actor, place) : fix.values;
    const known = new Set(target.fields.map((f) => f.name));
    const prefill = Object.fromEntries(Object.entries(values).filter(([k, v]) => known.has(k) && typeof v === 'string'));
    return this.form(target, prefill, [], { carry: { ...(blockedBy ? { unblocks: blockedBy } : {}), ...(fix.from ? { from: fix.from, fromDigest: fixedDigest(fixedOf(target, prefill)) } : {}) } });
  }

  /**
   * A form's values as it comes back. One filled in from a request's check (`carry.from`,
   * "CR-…#<check id>") comes back without its fixed values (a Teams card carries the reference,
   * not a retry's resource list): they are read from the check again, for someone who may see that
   * request from here, over whatever the submission says of them. `submitted`: they must be the
   * values the form showed (its `fromDigest`); a form drawn again (reload) shows them as they are
   * now, with a new digest. Without `from`, the values are the submission's.
   */
  async withFixedFrom(target: FormTarget, carry: FormCarry, data: Record<string, unknown>, actor: Actor, place: Place, submitted: boolean): Promise<{ values: Record<string, unknown>; carry: FormCarry }> {
    if (!carry.from) return { values: data, carry };
    const fixed = fixedOf(target, await this.fixValuesOf(carry.from, target.entry.command ?? '', actor, place));
    const digest = fixedDigest(fixed);
    if (submitted && carry.fromDigest !== digest) {
      const id = carry.from.split('#')[0];
      throw new Refusal(`What this form names from ${id} has changed since it was opened: nothing was submitted. Open the fix again from ${id} (\`status ${id}\`).`);
    }
    return { values: { ...data, ...fixed }, carry: { ...carry, fromDigest: digest } };
  }

  /** The values of the fix `ref` ("CR-…#<check id>") names, as its request holds them now — for someone who may see it from here. */
  private async fixValuesOf(ref: string, command: string, actor: Actor, place: Place): Promise<Record<string, string>> {
    if (!FIX_REF_PATTERN.test(ref)) throw new Refusal(FIX_NOT_UNDERSTOOD);
    const [id = '', checkId] = ref.split('#');
    const req = await this.deps.workflow.view(id, actor, place);
    const check = [...(req.result?.verification ?? []), ...req.checks].find((c) => c.id === checkId && c.fix?.command === command);
    if (!check?.fix) throw new Refusal(`${req.id} no longer offers this fix: open the request (\`status ${req.id}\`) for what it offers now.`);
    return check.fix.values;
  }

  /** A form that starts from an existing resource: the target's prefill, read for people the policy names. */
  private async formFrom(target: FormTarget, resourceId: string, actor: Actor): Promise<Reply> {
    const { values, note } = await this.deps.workflow.readExisting(resourceId, target.type, actor);
    return this.form(target, { subscriptionId: subscriptionOf(resourceId), ...values }, [], { note });
  }

  private watchdog(actor: Actor): Watchdog {
    this.deps.workflow.admit(actor);
    if (!this.deps.watchdog) throw new Refusal('The watchdog is not running on this bot.');
    return this.deps.watchdog;
  }

  /**
   * Whether `run(cmd)` makes its form from memory: a new request's empty form (not one that starts
   * from an existing resource) while the catalog holds the pickers it is drawn with. Nothing else is
   * read for it, so a channel may make it at once instead of after its answer.
   */
  formFromMemory(cmd: Command): boolean {
    return cmd.kind === 'new' && !cmd.source && !!this.deps.targets.find(cmd.target) && this.deps.catalog.cached();
  }

  /** `conversation` is where the command was said, as the channel posts to it (alerts of a `watch` go there). */
  async run(cmd: Command, actor: Actor, place: Place, conversation?: ChangeRequest['conversation']): Promise<Reply> {
    const wf = this.deps.workflow;
    switch (cmd.kind) {
      case 'watch': {
        if (!conversation) throw new Refusal('`watch` works in a conversation the bot can post to.');
        const { watch, created } = await this.watchdog(actor).watch(actor, place, conversation, cmd.scope);
        return {
          kind: 'lines',
          lines: [
            created
              ? `👀 This conversation now watches ${watch.scope} (${watch.id}): the keys, vaults and identities of every Fluid Relay server, Chaos experiment and storage account with a customer-managed key there. The first scan runs now; alerts come here.`
              : `This conversation already watches ${watch.scope} (${watch.id}).`,
          ],
        };
      }
      case 'unwatch': {
        const watch = await this.watchdog(actor).unwatch(actor, place, cmd.scope);
        return { kind: 'lines', lines: [`This conversation no longer watches ${watch.scope} (${watch.id}).`] };
      }
      case 'watch-list': {
        const watches = await this.watchdog(actor).list(place);
        if (!watches.length) return { kind: 'lines', lines: ['This conversation watches nothing yet. `watch <scope>` starts (`help watch`).'] };
        return {
          kind: 'lines',
          head: '**Watched here**',
          lines: watches.map(({ watch, open }) => {
            const urgent = open.filter((f) => f.severity === 'urgent').length;
            return `- ${watch.scope} (${watch.id}) · ${open.length ? `${open.length} open finding${open.length === 1 ? '' : 's'}${urgent ? `, ${urgent} urgent` : ''}` : 'nothing wrong found'} · since ${watch.createdAt.slice(0, 10)} by ${watch.createdBy.name}`;
          }),
        };
      }
      case 'scan-now': {
        const watches = await this.watchdog(actor).scanNow(actor, place);
        return { kind: 'lines', lines: [`🔎 Scanning ${watches.map((w) => w.scope).join(', ')} now; what is new, worse or resolved comes here.`] };
      }
      case 'help':
        return { kind: 'markdown', text: helpText(cmd.verb, this.deps.targets) };
      case 'usage':
        return { kind: 'usage', problem: cmd.problem, verb: cmd.verb };
      case 'status':
        return this.request(await wf.view(cmd.id, actor, place), actor);
      case 'check-request':
        return this.request(await wf.recheck(cmd.id, actor, place), actor);
      case 'check-resource': {
        const { target, resource, checks, keyUrl } = await wf.review(cmd.resourceId, actor);
        return { kind: 'review', view: reviewView(target.displayName, resource.id, resource.location, keyUrl, checks) };
      }
      case 'list': {
        const reqs = await wf.list(actor, cmd.which, place);
        if (!reqs.length) return { kind: 'lines', lines: [cmd.which === 'pending' ? 'No request is waiting for approval.' : `You have no requests yet. Start one with \`new ${this.deps.targets.commands()[0] ?? ''}\`.`] };
        return { kind: 'lines', head: cmd.which === 'pending' ? '**Waiting for approval**' : '**Your requests**', lines: reqs.map((r) => listLine(r, this.deps.targets)) };
      }
      case 'cancel':
        return this.request(await wf.cancel(cmd.id, actor), actor);
      case 'audit': {
        const { request, rows } = await wf.trail(cmd.id, actor, place);
        const [head, ...lines] = auditText(request, rows).split('\n');
        return { kind: 'lines', head, lines };
      }
      case 'evidence': {
        const req = await wf.view(cmd.id, actor, place);
        const record = await buildEvidence(this.deps.store, req.id);
        if (!record) throw new Refusal(`There is no request ${cmd.id}.`);
        return { kind: 'evidence', record };
      }
      case 'rotate': {
        const type = resourceTypeOf(cmd.resourceId);
        const target = this.deps.targets.forRotate(type);
        if (!target) {
          const known = this.deps.targets.rotatable().map((t) => this.deps.targets.forRotate(t)!.displayName.replace(/ (key|identity) change$/, ''));
          throw new Refusal(`I can change the keys of ${known.join(', ')}; ${type || 'this'} is none of them.`);
        }
        return this.formFrom(target, cmd.resourceId, actor);
      }
      case 'rotate-key': {
        wf.admit(actor);
        const target = this.deps.targets.forCommand('rotate-key');
        if (!target) throw new Refusal('This bot does not rotate keys across resources.');
        return this.form(target, { keyUrl: cmd.keyUrl, keyVersion: cmd.version ?? 'latest', ...(cmd.scope ? { scope: cmd.scope } : {}) });
      }
      case 'new': {
        const target = this.deps.targets.find(cmd.target);
        if (!target) throw new Refusal(`I can't create "${cmd.target}". Supported: ${this.deps.targets.commands().join(', ')}.`);
        if (cmd.source) return this.formFrom(target, cmd.source, actor);
        wf.admit(actor);
        return this.form(target);
      }
    }
  }
}
