// Command text → a command, a usage reply, or nothing. The same grammar for every channel.
import { REQUEST_ID_PATTERN } from '../domain/canonical';
import { isResourceId, resourceIdPattern } from '../domain/resource-id';
import { DEFAULT_TARGETS, type TargetRegistry } from '../targets';

export type Command =
  | { kind: 'help' }
  /** `new <command> [<resource id> | --from <resource id>]`: `source` is the resource the form starts from. */
  | { kind: 'new'; target: string; source?: string }
  | { kind: 'status'; id: string }
  | { kind: 'check-request'; id: string }
  | { kind: 'check-resource'; resourceId: string }
  | { kind: 'list'; which: 'pending' | 'mine' }
  | { kind: 'cancel'; id: string }
  | { kind: 'audit'; id: string }
  | { kind: 'evidence'; id: string }
  | { kind: 'rotate'; resourceId: string }
  | { kind: 'usage'; problem: string };

// Segments as ARM names allow them (see domain/resource-id.ts): nothing a URL would rewrite.
const RESOURCE_ID_PATTERN = resourceIdPattern(undefined, undefined, undefined, '\\/?');

/** The pattern of a resource id of one type, e.g. Microsoft.Storage/storageAccounts. */
function idPatternOf(resourceType: string): RegExp {
  const [provider, type] = resourceType.split('/');
  return resourceIdPattern((provider ?? '').replace(/\./g, '\\.'), type ?? '', undefined, '\\/?');
}

/** A word of the user's echoed back in a usage answer: short, so a pasted megabyte stays out of the chat. */
function quote(word: string | undefined): string {
  const chars = [...(word ?? '')];
  return chars.length <= 60 ? chars.join('') : `${chars.slice(0, 59).join('')}…`;
}

export function parseCommand(text: string, targets: TargetRegistry = DEFAULT_TARGETS): Command {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? '').toLowerCase();
  switch (verb) {
    case '':
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'new': {
      const word = (words[1] ?? '').toLowerCase();
      const supported = targets.commands().map((t) => `\`new ${t}\``).join(', ');
      if (!word) return { kind: 'usage', problem: `\`new\` needs a target: ${supported}.` };
      const target = targets.forCommand(word);
      if (!target) return { kind: 'usage', problem: `I can't create "${quote(words[1])}" yet. Supported: ${supported}.` };
      const from = target.entry.startsFrom;
      const flagged = words[2] === '--from';
      if (!words[2]) return { kind: 'new', target: target.type };
      if (!from || flagged !== (from.flag === '--from')) {
        return { kind: 'usage', problem: from ? from.usage : `\`new ${word}\` takes nothing after it: a form opens.` };
      }
      const id = (flagged ? words[3] : words[2]) ?? '';
      if (!isResourceId(id, idPatternOf(from.resourceType))) return { kind: 'usage', problem: from.usage };
      return { kind: 'new', target: target.type, source: id.replace(/\/+$/, '') };
    }
    case 'status': {
      const id = (words[1] ?? '').toUpperCase();
      if (!id) return { kind: 'usage', problem: '`status` needs a request id, e.g. `status CR-7KQ2MX`.' };
      if (!REQUEST_ID_PATTERN.test(id)) return { kind: 'usage', problem: `"${quote(words[1])}" is not a request id; they look like CR-7KQ2MX.` };
      return { kind: 'status', id };
    }
    case 'list': {
      const which = (words[1] ?? 'pending').toLowerCase();
      if (which !== 'pending' && which !== 'mine') return { kind: 'usage', problem: '`list` takes `pending` (waiting for approval) or `mine` (your requests).' };
      return { kind: 'list', which };
    }
    case 'cancel':
    case 'audit':
    case 'evidence': {
      const id = (words[1] ?? '').toUpperCase();
      if (!REQUEST_ID_PATTERN.test(id)) return { kind: 'usage', problem: `\`${verb}\` needs a request id, e.g. \`${verb} CR-7KQ2MX\`.` };
      return { kind: verb, id };
    }
    case 'rotate': {
      const arg = words[1] ?? '';
      if (!isResourceId(arg, RESOURCE_ID_PATTERN)) return { kind: 'usage', problem: '`rotate` needs the resource id of the resource whose key should change (a Fluid Relay server, a storage account or a Chaos experiment).' };
      return { kind: 'rotate', resourceId: arg.replace(/\/+$/, '') };
    }
    case 'check': {
      const arg = words[1] ?? '';
      if (!arg) return { kind: 'usage', problem: '`check` needs a request id (`check CR-7KQ2MX`) or a resource id (`check /subscriptions/…/fluidRelayServers/name`).' };
      if (REQUEST_ID_PATTERN.test(arg.toUpperCase())) return { kind: 'check-request', id: arg.toUpperCase() };
      if (isResourceId(arg, RESOURCE_ID_PATTERN)) return { kind: 'check-resource', resourceId: arg.replace(/\/+$/, '') };
      return { kind: 'usage', problem: `"${quote(arg)}" is neither a request id (CR-7KQ2MX) nor an Azure resource id (/subscriptions/…).` };
    }
    default:
      return { kind: 'usage', problem: `I don't know "${quote(words[0])}".` };
  }
}

export const HELP_LINES = [
  '**cmk-chatops** turns on customer-managed keys (CMK) on Azure resources, with checks and approvals.',
  '',
  '- `new fluid-relay` — request a new Azure Fluid Relay server encrypted with your key (a form opens)',
  '- `new storage-cmk [<storage account id>]` — switch an existing storage account to a customer-managed key',
  '- `new chaos-experiment` — request a Chaos Studio experiment whose data is kept in your CMK storage account (from a template or pasted JSON); `new chaos-experiment --from <experiment id>` makes a CMK copy of an existing one',
  '- `rotate <resource id>` — change the key, key version or CMK identity of a resource (never removes CMK)',
  '- `status <request id>` — show a request and where it stands',
  '- `check <request id>` — run the prerequisite checks of a waiting request again (read-only)',
  '- `check <resource id>` — review an existing Fluid Relay server, storage account or Chaos Studio experiment: is CMK on, is its key healthy, will it keep working (read-only)',
  '- `list pending` / `list mine` — requests waiting for approval / your requests',
  '- `cancel <request id>` — cancel your own request before it runs',
  '- `audit <request id>` — the request’s audit trail (who did what, ARM correlation ids)',
  '- `evidence <request id>` — one JSON record of the change (checks, payload, digest, approvals, ARM calls, audit rows with hashes) to keep or verify offline',
  '- `help` — this text',
  '',
  'Every request runs the CMK prerequisite checks (key type, state and operations, vault recovery and firewall, identity access and tenant, region, the bot’s own rights), then waits for an approver named by the policy — never the requester — before anything changes in Azure.',
];

export function helpText(): string {
  return HELP_LINES.join('\n');
}

export function usageText(problem: string): string {
  return `${problem}\n\n${helpText()}`;
}
