// The approval policy file: who may request, who may approve what, and who may read. Validated
// at start-up (and by `npm run policy:check`, exactly alike); a bad file stops start-up naming the
// path and the offending key.
//
// The policy names *people*, each with all their chat accounts; an account the policy does not map
// is a person of its own. One human is one vote, and none of the requester's accounts may approve.
// Accounts are compared in one canonical form: `teams:<tenant id>/<Entra object id>` and
// `slack:<team or enterprise id>/<user id>`, lower-cased.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { canonicalJson } from '../domain/canonical';
import type { Actor, Platform } from '../domain/types';

/** A chat account in canonical form: `teams:<tenant>/<object id>` or `slack:<team>/<user>`, lower case. */
export function accountKey(a: Pick<Actor, 'platform' | 'id' | 'tenant'>): string {
  return `${a.platform}:${(a.tenant ?? '').trim()}/${a.id.trim()}`.toLowerCase();
}

const ACCOUNT = /^(teams|slack):[^\s/]+\/[^\s/]+$/;
const NAME = /^[\w.-]{1,64}$/;

const principal = z.string().regex(/^(\*|(teams|slack):[^\s/]+\/[^\s/]+|group:[\w.-]{1,64}|person:[\w.-]{1,64})$/, 'a principal is "*", "person:<name>", "group:<name>", "teams:<tenant id>/<Entra object id>" or "slack:<team id>/<user id>"');

const member = z.string().regex(/^((teams|slack):[^\s/]+\/[^\s/]+|person:[\w.-]{1,64}|[\w.-]{1,64})$/, 'a group member is a person\'s name, "person:<name>", "teams:<tenant id>/<object id>" or "slack:<team id>/<user id>"');

const accounts = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const personSchema = z
  .object({
    teams: accounts.optional(),
    slack: accounts.optional(),
  })
  .strict();

const ruleSchema = z
  .object({
    name: z.string().min(1).max(64),
    match: z
      .object({
        subscriptions: z.array(z.string()).default(['*']),
        resourceGroups: z.array(z.string()).default(['*']),
        targets: z.array(z.string()).default(['*']),
      })
      .strict()
      .default({ subscriptions: ['*'], resourceGroups: ['*'], targets: ['*'] }),
    requesters: z.array(principal).min(1),
    approvers: z.array(principal).min(1),
    approvalsRequired: z.number().int().min(1).max(10).default(1),
    /** Extra approvals when the change can never be undone (enabling CMK at creation). */
    irreversibleExtraApprovals: z.number().int().min(0).max(10).default(1),
    pendingHours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(24),
    /** Conversations that may host requests: "teams:<conversation id>", "slack:<channel id>" or "*". */
    conversations: z.array(z.string().regex(/^(\*|(teams|slack):\S+)$/, 'a conversation is "*", "teams:<conversation id>" or "slack:<channel id>"')).default(['*']),
  })
  .strict();

const tenantList = z.array(z.string().regex(/^(\*|[^\s/]+)$/, 'a tenant is "*" or one id')).default([]);

export const policySchema = z
  .object({
    version: z.literal(2, { message: 'version must be 2 (version 1 named accounts without their tenant; see policy/sample.policy.yaml for the people-based format)' }),
    /** Teams tenants and Slack workspaces (or Enterprise Grid orgs) whose people may use the bot at all. */
    tenants: z.object({ teams: tenantList, slack: tenantList }).strict().default({ teams: [], slack: [] }),
    people: z.record(z.string().regex(NAME, 'a person\'s name is letters, digits, ".", "_" or "-"'), personSchema).default({}),
    groups: z.record(z.string().regex(NAME, 'a group name is letters, digits, ".", "_" or "-"'), z.array(member)).default({}),
    /** People who may read every request (status, audit, evidence, list) from anywhere. */
    auditors: z.array(principal).default([]),
    /** People who may watch any scope's keys from a conversation (`watch`); approvers may watch what their rules cover. */
    watchers: z.array(principal).default([]),
    rules: z.array(ruleSchema).min(1),
  })
  .strict();

export type PolicyDoc = z.infer<typeof policySchema>;
export type PolicyRule = z.infer<typeof ruleSchema>;

export class PolicyError extends Error {
  readonly code = 'policy_invalid';
}

/** One finding of `policy:check` that is not fatal (e.g. a wildcard tenant). */
export interface PolicyWarning {
  path: string;
  message: string;
}

export function parsePolicy(text: string, source: string): Policy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new PolicyError(`${source}: not valid YAML or JSON: ${(e as Error).message}`);
  }
  // A key called __proto__ would silently vanish (it is the prototype, not a key, once assigned).
  for (const section of ['groups', 'people'] as const) {
    const v = (raw as Record<string, unknown> | null | undefined)?.[section];
    if (v && typeof v === 'object' && Object.hasOwn(v, '__proto__')) {
      throw new PolicyError(`${source}: ${section}.__proto__: "__proto__" cannot be a name; choose another`);
    }
  }
  const r = policySchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new PolicyError(`${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  const policy = new Policy(r.data, sha256(canonicalJson(r.data)));
  const problem = policy.problems()[0];
  if (problem) throw new PolicyError(`${source}: ${problem.path}: ${problem.message}`);
  return policy;
}

export function loadPolicy(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PolicyError(`${path}: cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Set POLICY_FILE to a policy file; see policy/sample.policy.yaml.`);
  }
  return parsePolicy(text, path);
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** One character as a case-insensitive (non-unicode) RegExp compares it. */
function fold(c: string): string {
  const u = c.toUpperCase();
  return u.length === 1 && !(c.charCodeAt(0) >= 128 && u.charCodeAt(0) < 128) ? u : c;
}

/**
 * `*` is any run of characters, everything else itself, any letter case. Matched in linear time
 * (greedy with one backtrack point): a translation to `.*` regexes backtracks exponentially on
 * patterns with many stars, and the value (a resource group name) is the requester's choice.
 */
function glob(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = v;
    } else if (p < pattern.length && fold(pattern[p]!) === fold(value[v]!)) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** A place a change touches, for the policy: a resource, a resource group or a whole subscription. */
export interface PolicyScope {
  subscriptionId: string;
  /** Empty for a subscription-wide scope (e.g. a Chaos query selector): then every resource group of it. */
  resourceGroup: string;
  targetType: string;
}

/** The set of people a list of principals names. `any` when it includes "*". */
interface PeopleSet {
  any: boolean;
  people: Set<string>;
}

/** Where a rule stands for one request: who counted, how many it needs. */
export interface RuleStanding {
  rule: string;
  required: number;
  /** Person keys whose approval counts for this rule. */
  counted: string[];
  /** The approvers the rule names, for the card. */
  approvers: string[];
}

export interface Standing {
  rules: RuleStanding[];
  satisfied: boolean;
  /** Approvals (by account key) that count for no rule that applies now. */
  dropped: string[];
}

export class Policy {
  /** account key → person key ("person:<name>") */
  private readonly owner = new Map<string, string>();

  constructor(
    readonly doc: PolicyDoc,
    /** SHA-256 over the canonical policy: a request records the policy it was made under. */
    readonly hash: string = sha256(canonicalJson(doc)),
  ) {
    for (const [name, p] of Object.entries(doc.people)) {
      for (const platform of ['teams', 'slack'] as const) {
        for (const acct of p[platform] ?? []) this.owner.set(`${platform}:${acct}`.toLowerCase(), `person:${name.toLowerCase()}`);
      }
    }
  }

  /** Inconsistencies that make a policy unusable: the first one stops start-up. */
  problems(): PolicyWarning[] {
    const out: PolicyWarning[] = [];
    const d = this.doc;
    const seenAccounts = new Map<string, string>();
    const personNames = new Set(Object.keys(d.people).map((n) => n.toLowerCase()));
    for (const [name, p] of Object.entries(d.people)) {
      for (const platform of ['teams', 'slack'] as const) {
        for (const [i, acct] of (p[platform] ?? []).entries()) {
          const key = `${platform}:${acct}`.toLowerCase();
          if (!ACCOUNT.test(key)) out.push({ path: `people.${name}.${platform}.${i}`, message: `"${acct}" is not an account: write ${platform === 'teams' ? '"<tenant id>/<Entra object id>"' : '"<team or enterprise id>/<user id>"'}` });
          const other = seenAccounts.get(key);
          if (other && other !== name) out.push({ path: `people.${name}.${platform}.${i}`, message: `${key} is also listed under ${other}: an account belongs to one person` });
          seenAccounts.set(key, name);
        }
      }
      if (!p.teams?.length && !p.slack?.length) out.push({ path: `people.${name}`, message: 'a person needs at least one account (teams or slack)' });
    }
    const checkRef = (p: string, path: string) => {
      if (p.startsWith('group:') && !Object.hasOwn(d.groups, p.slice(6))) out.push({ path, message: `group "${p.slice(6)}" is not defined under groups` });
      if (p.startsWith('person:') && !personNames.has(p.slice(7).toLowerCase())) out.push({ path, message: `person "${p.slice(7)}" is not defined under people` });
    };
    for (const [g, members] of Object.entries(d.groups)) {
      members.forEach((m, i) => {
        if (!m.includes(':') && !personNames.has(m.toLowerCase())) out.push({ path: `groups.${g}.${i}`, message: `person "${m}" is not defined under people` });
        else checkRef(m, `groups.${g}.${i}`);
      });
    }
    d.auditors.forEach((p, i) => checkRef(p, `auditors.${i}`));
    d.watchers.forEach((p, i) => checkRef(p, `watchers.${i}`));
    const names = new Map<string, number>();
    for (const [ri, rule] of d.rules.entries()) {
      const prev = names.get(rule.name.toLowerCase());
      if (prev !== undefined) out.push({ path: `rules.${ri}.name`, message: `rule name "${rule.name}" is already used by rules.${prev}: names must be unique (decisions refer to rules by name)` });
      names.set(rule.name.toLowerCase(), ri);
      rule.requesters.forEach((p, i) => checkRef(p, `rules.${ri}.requesters.${i}`));
      rule.approvers.forEach((p, i) => checkRef(p, `rules.${ri}.approvers.${i}`));
    }
    if (out.length) return out;
    // Satisfiability: with the requester excluded, enough distinct people must remain.
    for (const [ri, rule] of d.rules.entries()) {
      const approvers = this.peopleIn(rule.approvers);
      if (approvers.any) continue;
      const requesters = this.peopleIn(rule.requesters);
      const requesterMayApprove = requesters.any || [...requesters.people].some((p) => approvers.people.has(p));
      const eligible = approvers.people.size - (requesterMayApprove ? 1 : 0);
      const worst = rule.approvalsRequired + rule.irreversibleExtraApprovals;
      if (eligible < worst) {
        out.push({
          path: `rules.${ri}`,
          message: `rule "${rule.name}" can never be satisfied: it needs ${worst} distinct approvers${rule.irreversibleExtraApprovals ? ` for an irreversible change (${rule.approvalsRequired} + ${rule.irreversibleExtraApprovals})` : ''}, but only ${eligible} people it names can approve when ${requesterMayApprove ? 'one of them is the requester' : 'the requester is excluded'}`,
        });
      }
    }
    return out;
  }

  /** Findings that do not stop start-up but deserve a look (policy:check prints them). */
  warnings(): PolicyWarning[] {
    const out: PolicyWarning[] = [];
    for (const platform of ['teams', 'slack'] as const) {
      if (this.doc.tenants[platform].includes('*')) out.push({ path: `tenants.${platform}`, message: `"*" admits every ${platform === 'teams' ? 'Teams tenant' : 'Slack workspace'}: name yours for real use` });
      if (!this.doc.tenants[platform].length) out.push({ path: `tenants.${platform}`, message: `no ${platform === 'teams' ? 'Teams tenant' : 'Slack workspace'} is listed: nobody on ${platform} can use the bot` });
    }
    this.doc.rules.forEach((r, i) => {
      if (r.approvers.includes('*')) out.push({ path: `rules.${i}.approvers`, message: `"*" lets anyone but the requester approve under rule "${r.name}"` });
    });
    return out;
  }

  /** The person an account belongs to: the policy's person, or the account itself. */
  personOf(actor: Pick<Actor, 'platform' | 'id' | 'tenant'>): string {
    const key = accountKey(actor);
    return this.owner.get(key) ?? key;
  }

  /** The person's display name in the policy, or undefined for an unmapped account. */
  personName(actor: Pick<Actor, 'platform' | 'id' | 'tenant'>): string | undefined {
    const p = this.owner.get(accountKey(actor));
    return p?.slice(7);
  }

  /** Is this Teams tenant / Slack workspace one the policy admits? */
  admitsTenant(platform: Platform, tenant: string | undefined): boolean {
    const t = (tenant ?? '').trim().toLowerCase();
    return this.doc.tenants[platform].some((x) => x === '*' || (t !== '' && x.toLowerCase() === t));
  }

  private peopleIn(principals: string[]): PeopleSet {
    const set: PeopleSet = { any: false, people: new Set() };
    const add = (p: string) => {
      if (p === '*') set.any = true;
      else if (p.startsWith('person:')) set.people.add(p.toLowerCase());
      else if (p.startsWith('group:')) {
        const name = p.slice(6);
        for (const m of Object.hasOwn(this.doc.groups, name) ? (this.doc.groups[name] ?? []) : []) add(m.includes(':') ? m : `person:${m}`);
      } else {
        const key = p.toLowerCase();
        set.people.add(this.owner.get(key) ?? key);
      }
    };
    principals.forEach(add);
    return set;
  }

  /** Does this list of principals include the actor's person? `named` ignores "*". */
  includes(principals: string[], actor: Pick<Actor, 'platform' | 'id' | 'tenant'>, opts: { named?: boolean } = {}): boolean {
    if (!actor.id.trim()) return false;
    const set = this.peopleIn(principals);
    return (set.any && !opts.named) || set.people.has(this.personOf(actor));
  }

  private matches(rule: PolicyRule, scope: PolicyScope): boolean {
    return (
      rule.match.subscriptions.some((p) => glob(p, scope.subscriptionId)) && (scope.resourceGroup === '' || rule.match.resourceGroups.some((p) => glob(p, scope.resourceGroup))) && rule.match.targets.some((p) => glob(p, scope.targetType))
    );
  }

  /** Every rule whose match fits the scope. */
  rulesFor(scope: PolicyScope): PolicyRule[] {
    return this.doc.rules.filter((r) => this.matches(r, scope));
  }

  /** The first rule whose match fits (kept for callers that want one). */
  ruleFor(scope: PolicyScope): PolicyRule | undefined {
    return this.rulesFor(scope)[0];
  }

  /** Every rule that applies to a change touching these scopes, in policy order. */
  rulesForAll(scopes: PolicyScope[]): PolicyRule[] {
    return this.doc.rules.filter((r) => scopes.some((s) => this.matches(r, s)));
  }

  rule(name: string): PolicyRule | undefined {
    return this.doc.rules.find((r) => r.name === name);
  }

  /** May this conversation host requests under the rule? Teams ids are compared without the ;messageid= suffix. */
  allowsConversation(rule: PolicyRule, platform: string, conversationId: string): boolean {
    const me = `${platform}:${conversationId.split(';')[0]}`.toLowerCase();
    return rule.conversations.some((c) => c === '*' || c.toLowerCase() === me);
  }

  /** Approvals a change needs under the rule. */
  approvalsNeeded(rule: PolicyRule, irreversible: boolean): number {
    return rule.approvalsRequired + (irreversible ? rule.irreversibleExtraApprovals : 0);
  }

  /** Named approvers (for the card), groups expanded to people; "*" shown as "anyone else". */
  describeApprovers(rule: PolicyRule): string[] {
    const set = this.peopleIn(rule.approvers);
    return [...[...set.people].map((p) => (p.startsWith('person:') ? p.slice(7) : p)), ...(set.any ? ['anyone but the requester'] : [])];
  }

  /** The approvers a rule names (groups expanded to people), without "*" and without `except`'s person. */
  namedApprovers(rule: PolicyRule, except?: Pick<Actor, 'platform' | 'id' | 'tenant'>): string[] {
    const skip = except ? this.personOf(except) : undefined;
    return [...this.peopleIn(rule.approvers).people].filter((p) => p !== skip).map((p) => (p.startsWith('person:') ? p.slice(7) : p));
  }

  /** May this person request anything at all (some rule, for some change type, names them a requester)? */
  mayRequestSome(actor: Pick<Actor, 'platform' | 'id' | 'tenant'>, targetTypes: string[]): boolean {
    return this.doc.rules.some((r) => this.includes(r.requesters, actor) && targetTypes.some((t) => r.match.targets.some((p) => glob(p, t))));
  }

  /**
   * May this person watch a scope's keys (`watch`, `unwatch`, `scan now`)? The policy's watchers and
   * auditors may watch anything; an approver may watch what a rule naming them covers — a
   * subscription or resource group its match includes, or `all` when the rule matches every subscription.
   */
  mayWatch(actor: Pick<Actor, 'platform' | 'id' | 'tenant'>, scope: { subscriptionId?: string; resourceGroup?: string }): boolean {
    if (this.includes(this.doc.watchers, actor, { named: true }) || this.isAuditor(actor)) return true;
    return this.doc.rules.some((r) => {
      if (!this.includes(r.approvers, actor)) return false;
      const { subscriptions: subs, resourceGroups: rgs } = r.match;
      if (!scope.subscriptionId) return subs.includes('*') && rgs.includes('*');
      if (!subs.some((p) => glob(p, scope.subscriptionId!))) return false;
      return rgs.includes('*') || (!!scope.resourceGroup && rgs.some((p) => glob(p, scope.resourceGroup!)));
    });
  }

  /** May this person read every request (status, audit, evidence, lists) from anywhere? */
  isAuditor(actor: Pick<Actor, 'platform' | 'id' | 'tenant'>): boolean {
    return this.includes(this.doc.auditors, actor, { named: true });
  }

  /**
   * Where a request stands under the rules named, *as the policy is now*: approvals count per
   * person, only for rules that name that person as an approver, never the requester's.
   */
  standing(ruleNames: string[], irreversible: boolean, requester: Pick<Actor, 'platform' | 'id' | 'tenant'>, approvals: Array<{ approver: Pick<Actor, 'platform' | 'id' | 'tenant'> }>): Standing {
    const requesterPerson = this.personOf(requester);
    const used = new Set<string>();
    const rules: RuleStanding[] = ruleNames.map((name) => {
      const rule = this.rule(name);
      if (!rule) return { rule: name, required: 1, counted: [], approvers: [] }; // a rule that no longer exists cannot be satisfied
      const counted = new Set<string>();
      for (const a of approvals) {
        const person = this.personOf(a.approver);
        if (person === requesterPerson || !this.includes(rule.approvers, a.approver)) continue;
        counted.add(person);
        used.add(accountKey(a.approver));
      }
      return { rule: name, required: this.approvalsNeeded(rule, irreversible), counted: [...counted], approvers: this.describeApprovers(rule) };
    });
    return {
      rules,
      satisfied: rules.length > 0 && rules.every((r) => r.counted.length >= r.required),
      dropped: approvals.map((a) => accountKey(a.approver)).filter((k) => !used.has(k)),
    };
  }
}
