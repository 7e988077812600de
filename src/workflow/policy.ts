// The approval policy file: who may request and who may approve what. Validated at start-up;
// a bad file stops start-up naming the path and the offending key.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Actor } from '../domain/types';

const principal = z
  .string()
  .regex(/^(\*|(teams|slack):[^\s]+|group:[\w.-]+)$/, 'a principal is "*", "teams:<aad object id>", "slack:<user id>" or "group:<name>"');

const ruleSchema = z.object({
  name: z.string().min(1),
  match: z
    .object({
      subscriptions: z.array(z.string()).default(['*']),
      resourceGroups: z.array(z.string()).default(['*']),
      targets: z.array(z.string()).default(['*']),
    })
    .default({ subscriptions: ['*'], resourceGroups: ['*'], targets: ['*'] }),
  requesters: z.array(principal).min(1),
  approvers: z.array(principal).min(1),
  approvalsRequired: z.number().int().min(1).max(10).default(1),
  /** Extra approvals when the change can never be undone (enabling CMK at creation). */
  irreversibleExtraApprovals: z.number().int().min(0).max(10).default(1),
  pendingHours: z.number().positive().max(24 * 30).default(24),
  /** Conversations that may host requests: "teams:<conversation id>", "slack:<channel id>" or "*". */
  conversations: z.array(z.string().regex(/^(\*|(teams|slack):\S+)$/, 'a conversation is "*", "teams:<conversation id>" or "slack:<channel id>"')).default(['*']),
});

export const policySchema = z.object({
  version: z.literal(1),
  groups: z.record(z.string(), z.array(principal)).default({}),
  rules: z.array(ruleSchema).min(1),
});

export type PolicyDoc = z.infer<typeof policySchema>;
export type PolicyRule = z.infer<typeof ruleSchema>;

export class PolicyError extends Error {
  readonly code = 'policy_invalid';
}

export function parsePolicy(text: string, source: string): Policy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new PolicyError(`${source}: not valid YAML or JSON: ${(e as Error).message}`);
  }
  // A group called __proto__ would silently vanish (it is the prototype, not a key, once assigned).
  const groups = (raw as { groups?: unknown } | null | undefined)?.groups;
  if (groups && typeof groups === 'object' && Object.hasOwn(groups, '__proto__')) {
    throw new PolicyError(`${source}: groups.__proto__: "__proto__" cannot be a group name; choose another`);
  }
  const r = policySchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new PolicyError(`${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  for (const [gi, rule] of r.data.rules.entries()) {
    for (const p of [...rule.requesters, ...rule.approvers]) {
      if (p.startsWith('group:') && !Object.hasOwn(r.data.groups, p.slice(6))) {
        throw new PolicyError(`${source}: rules.${gi}: group "${p.slice(6)}" is not defined under groups`);
      }
    }
  }
  return new Policy(r.data);
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

export interface Scope {
  subscriptionId: string;
  resourceGroup: string;
  targetType: string;
}

export class Policy {
  constructor(readonly doc: PolicyDoc) {}

  ruleFor(scope: Scope): PolicyRule | undefined {
    return this.doc.rules.find(
      (r) =>
        r.match.subscriptions.some((p) => glob(p, scope.subscriptionId)) &&
        r.match.resourceGroups.some((p) => glob(p, scope.resourceGroup)) &&
        r.match.targets.some((p) => glob(p, scope.targetType)),
    );
  }

  private expand(principals: string[]): string[] {
    return principals.flatMap((p) => {
      if (!p.startsWith('group:')) return [p];
      // Own groups only: `group:constructor` must not expand to Object's constructor.
      const name = p.slice(6);
      return Object.hasOwn(this.doc.groups, name) ? (this.doc.groups[name] ?? []) : [];
    });
  }

  /** Does this list of principals include the actor? */
  includes(principals: string[], actor: Pick<Actor, 'platform' | 'id'>): boolean {
    const me = `${actor.platform}:${actor.id}`.toLowerCase();
    return this.expand(principals).some((p) => p === '*' || p.toLowerCase() === me);
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

  /** Named approvers (for the card), groups expanded; "*" shown as "anyone else". */
  describeApprovers(rule: PolicyRule): string[] {
    return this.expand(rule.approvers).map((p) => (p === '*' ? 'anyone else in the conversation' : p));
  }
}
