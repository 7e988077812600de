// Command text → a command, a usage reply, or nothing. The same grammar for every channel.
import { REQUEST_ID_PATTERN } from '../domain/canonical';
import { isResourceId, resourceIdPattern } from '../domain/resource-id';

export type Command =
  | { kind: 'help' }
  | { kind: 'new'; target: string; from?: string; resourceId?: string }
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
const EXPERIMENT_ID_PATTERN = resourceIdPattern('Microsoft\\.Chaos', 'experiments');
const STORAGE_ID_PATTERN = resourceIdPattern('Microsoft\\.Storage', 'storageAccounts', undefined, '\\/?');

/** A word of the user's echoed back in a usage answer: short, so a pasted megabyte stays out of the chat. */
function quote(word: string | undefined): string {
  const chars = [...(word ?? '')];
  return chars.length <= 60 ? chars.join('') : `${chars.slice(0, 59).join('')}…`;
}

export const SUPPORTED_TARGETS = ['fluid-relay', 'chaos-experiment', 'storage-cmk'] as const;

export function parseCommand(text: string): Command {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? '').toLowerCase();
  switch (verb) {
    case '':
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'new': {
      const target = (words[1] ?? '').toLowerCase();
      if (!target) return { kind: 'usage', problem: `\`new\` needs a target: ${SUPPORTED_TARGETS.map((t) => `\`new ${t}\``).join(', ')}.` };
      if (!(SUPPORTED_TARGETS as readonly string[]).includes(target)) {
        return { kind: 'usage', problem: `I can't create "${quote(words[1])}" yet. Supported: ${SUPPORTED_TARGETS.map((t) => `\`new ${t}\``).join(', ')}.` };
      }
      if (words[2] === '--from') {
        const from = words[3] ?? '';
        if (target !== 'chaos-experiment') return { kind: 'usage', problem: '`--from` copies an existing Chaos Studio experiment: `new chaos-experiment --from <experiment id>`.' };
        if (!isResourceId(from, EXPERIMENT_ID_PATTERN)) return { kind: 'usage', problem: '`--from` needs the resource id of an existing experiment (/subscriptions/…/providers/Microsoft.Chaos/experiments/<name>).' };
        return { kind: 'new', target, from };
      }
      if (target === 'storage-cmk' && words[2]) {
        if (!isResourceId(words[2], STORAGE_ID_PATTERN)) return { kind: 'usage', problem: '`new storage-cmk` takes the resource id of a storage account (or nothing, to pick one).' };
        return { kind: 'new', target, resourceId: words[2].replace(/\/+$/, '') };
      }
      return { kind: 'new', target };
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
