// Command text → a command, a usage reply, or nothing. The same grammar for every channel.
import { parseKeyUrl } from '../checks/key-url';
import { REQUEST_ID_PATTERN } from '../domain/canonical';
import { azureScope, isResourceId, resourceIdPattern } from '../domain/resource-id';
import { DEFAULT_TARGETS, type TargetRegistry } from '../targets';

export type Command =
  | { kind: 'help'; verb?: Verb }
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
  /**
   * `rotate-key <key url> [--version <v> | --latest] [--in <subscription or resource group id>]`:
   * the rotation form for every resource that uses the key (under the scope, if named). The key
   * without its version (as Key Vault names it), and the version to move to when one was named.
   */
  | { kind: 'rotate-key'; keyUrl: string; version?: string; scope?: string }
  /** `watch <scope>`: `all`, a subscription (id or /subscriptions/<id>) or a resource group (/subscriptions/<id>/resourceGroups/<name>). */
  | { kind: 'watch'; scope: string }
  | { kind: 'watch-list' }
  | { kind: 'unwatch'; scope: string }
  | { kind: 'scan-now' }
  /** `verb`: the command the problem is about, when known (its help is the place to read on). */
  | { kind: 'usage'; problem: string; verb?: Verb };

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

/** A watch scope in canonical form: `all`, `/subscriptions/<id>`, `/subscriptions/<id>/resourceGroups/<name>`; undefined if it is none. */
export function watchScope(arg: string): string | undefined {
  return arg.trim().toLowerCase() === 'all' ? 'all' : azureScope(arg);
}

export function parseCommand(text: string, targets: TargetRegistry = DEFAULT_TARGETS): Command {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? '').toLowerCase();
  switch (verb) {
    case '':
    case 'help':
    case '?': {
      const about = (words[1] ?? '').toLowerCase();
      if (!about) return { kind: 'help' };
      if (isVerb(about)) return { kind: 'help', verb: about };
      return { kind: 'usage', problem: `There is no command "${quote(words[1])}".` };
    }
    case 'new': {
      const word = (words[1] ?? '').toLowerCase();
      const supported = targets
        .commands()
        .map((t) => `\`new ${t}\``)
        .join(', ');
      if (!word) return { kind: 'usage', verb: 'new', problem: `\`new\` needs a target: ${supported}.` };
      const target = targets.forCommand(word);
      if (!target) return { kind: 'usage', verb: 'new', problem: `I can't create "${quote(words[1])}" yet. Supported: ${supported}.` };
      const from = target.entry.startsFrom;
      const flagged = words[2] === '--from';
      if (!words[2]) return { kind: 'new', target: target.type };
      if (!from || flagged !== (from.flag === '--from')) {
        return { kind: 'usage', verb: 'new', problem: from ? from.usage : `\`new ${word}\` takes nothing after it: a form opens.` };
      }
      const id = (flagged ? words[3] : words[2]) ?? '';
      if (!isResourceId(id, idPatternOf(from.resourceType))) return { kind: 'usage', verb: 'new', problem: from.usage };
      return { kind: 'new', target: target.type, source: id.replace(/\/+$/, '') };
    }
    case 'status': {
      const id = (words[1] ?? '').toUpperCase();
      if (!id) return { kind: 'usage', verb: 'status', problem: '`status` needs a request id, e.g. `status CR-7KQ2MX`.' };
      if (!REQUEST_ID_PATTERN.test(id)) return { kind: 'usage', verb: 'status', problem: `"${quote(words[1])}" is not a request id; they look like CR-7KQ2MX.` };
      return { kind: 'status', id };
    }
    case 'list': {
      const which = (words[1] ?? 'pending').toLowerCase();
      if (which !== 'pending' && which !== 'mine') return { kind: 'usage', verb: 'list', problem: '`list` takes `pending` (waiting for approval) or `mine` (your requests).' };
      return { kind: 'list', which };
    }
    case 'cancel':
    case 'audit':
    case 'evidence': {
      const id = (words[1] ?? '').toUpperCase();
      if (!REQUEST_ID_PATTERN.test(id)) return { kind: 'usage', verb, problem: `\`${verb}\` needs a request id, e.g. \`${verb} CR-7KQ2MX\`.` };
      return { kind: verb, id };
    }
    case 'watch': {
      const arg = words[1] ?? '';
      if (arg.toLowerCase() === 'list') return { kind: 'watch-list' };
      const scope = watchScope(arg);
      if (!scope) return { kind: 'usage', verb: 'watch', problem: arg ? `"${quote(arg)}" is not a scope to watch.` : '`watch` needs a scope.' };
      return { kind: 'watch', scope };
    }
    case 'unwatch': {
      const scope = watchScope(words[1] ?? '');
      if (!scope) return { kind: 'usage', verb: 'unwatch', problem: words[1] ? `"${quote(words[1])}" is not a watched scope.` : '`unwatch` needs the scope `watch list` shows.' };
      return { kind: 'unwatch', scope };
    }
    case 'scan': {
      if ((words[1] ?? '').toLowerCase() !== 'now') return { kind: 'usage', verb: 'scan', problem: '`scan` takes `now`: `scan now`.' };
      return { kind: 'scan-now' };
    }
    case 'rotate': {
      const arg = words[1] ?? '';
      if (!isResourceId(arg, RESOURCE_ID_PATTERN)) return { kind: 'usage', verb: 'rotate', problem: '`rotate` needs the resource id of the resource whose key should change (a Fluid Relay server, a storage account or a Chaos experiment).' };
      return { kind: 'rotate', resourceId: arg.replace(/\/+$/, '') };
    }
    case 'rotate-key': {
      const url = words[1] ?? '';
      const usage = '`rotate-key` needs the key’s URL (https://<vault>.vault.azure.net/keys/<name>), then `--version <version>` or `--latest` and `--in <subscription or resource group id>` if you like.';
      const key = url ? parseKeyUrl(url) : undefined;
      if (!key?.ok) return { kind: 'usage', verb: 'rotate-key', problem: key ? `"${quote(url)}" is not a key URL: ${key.reason}. ${usage}` : usage };
      // The key without its version; a version in the URL is the one to move to, unless a flag says otherwise.
      const keyUrl = key.ref.versionless;
      let version = key.ref.version?.toLowerCase();
      let scope: string | undefined;
      const rest = words.slice(2);
      const odd = (): Command => ({ kind: 'usage', verb: 'rotate-key', problem: `After the key URL: \`--version <32-character version>\` or \`--latest\`, and \`--in <subscription or resource group id>\`; not "${quote(rest.join(' '))}".` });
      let versionFlag = false;
      for (let i = 0; i < rest.length; i++) {
        const flag = rest[i]!.toLowerCase();
        if ((flag === '--latest' || flag === '--version') && versionFlag) return odd();
        if (flag === '--latest') [version, versionFlag] = ['latest', true];
        else if (flag === '--version' && /^[0-9a-fA-F]{32}$/.test(rest[i + 1] ?? '')) [version, versionFlag] = [rest[++i]!.toLowerCase(), true];
        else if (flag === '--in' && scope === undefined && (scope = azureScope(rest[i + 1] ?? ''))) i++;
        else return odd();
      }
      return { kind: 'rotate-key', keyUrl, ...(version ? { version } : {}), ...(scope ? { scope } : {}) };
    }
    case 'check': {
      const arg = words[1] ?? '';
      if (!arg) return { kind: 'usage', verb: 'check', problem: '`check` needs a request id (`check CR-7KQ2MX`) or a resource id (`check /subscriptions/…/fluidRelayServers/name`).' };
      if (REQUEST_ID_PATTERN.test(arg.toUpperCase())) return { kind: 'check-request', id: arg.toUpperCase() };
      if (isResourceId(arg, RESOURCE_ID_PATTERN)) return { kind: 'check-resource', resourceId: arg.replace(/\/+$/, '') };
      return { kind: 'usage', verb: 'check', problem: `"${quote(arg)}" is neither a request id (CR-7KQ2MX) nor an Azure resource id (/subscriptions/…).` };
    }
    default:
      return { kind: 'usage', problem: `I don't know "${quote(words[0])}".` };
  }
}

/**
 * What each command is for: `usage` are its lines in the full help, `more` what `help <verb>` adds
 * (an example, what happens next). One table, so the full help and the per-command help agree.
 */
const VERB_HELP = {
  new: {
    // One line per target `new` opens, from the targets themselves (newLines).
    usage: [],
    more: [
      'A form opens with pickers read from Azure. When you submit it, the bot runs the prerequisite checks and posts the request; approvers named by the policy approve it on the card, and only then does anything change in Azure.',
      'e.g. `new fluid-relay`, `new storage-cmk /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<name>`',
    ],
  },
  rotate: {
    usage: ['- `rotate <resource id>` — change the key, key version or CMK identity of a resource (never removes CMK)'],
    more: ['A form opens with the resource’s current key; the change is checked and approved like a new request.', 'e.g. `rotate /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.FluidRelay/fluidRelayServers/<name>`'],
  },
  'rotate-key': {
    usage: ['- `rotate-key <key url> [--version <v> | --latest] [--in <scope>]` — move every Fluid Relay server and storage account that uses a key to one version (or to follow the newest), in one request'],
    more: [
      'The bot finds the resources with Azure Resource Graph in every subscription it can read, plans one write each, runs each one’s checks, and posts one request that lists them all; the policy applies at every place they touch. Once approved it writes them a few at a time within ARM’s write budget and verifies each; the card ends done, or partly done with each one’s outcome and *Retry the failed ones*.',
      '`--latest` (the default) makes them follow the key as it rotates; `--version` pins them to one version. `--in /subscriptions/<id>` or `--in /subscriptions/<id>/resourceGroups/<name>` takes only the resources there (one request takes at most 250: a key used by more is rotated in parts). A watchdog alert about resources pinned to an old version offers this request filled in.',
      'e.g. `rotate-key https://contoso-kv.vault.azure.net/keys/cmk --version 0123456789abcdef0123456789abcdef`',
    ],
  },
  status: {
    usage: ['- `status <request id>` — show a request and where it stands'],
    more: ['Request ids are on every request card and in `list mine`.', 'e.g. `status CR-7KQ2MX`'],
  },
  check: {
    usage: [
      '- `check <request id>` — run the prerequisite checks of a waiting request again (read-only)',
      '- `check <resource id>` — review an existing Fluid Relay server, storage account or Chaos Studio experiment: is CMK on, is its key healthy, will it keep working (read-only)',
    ],
    more: ['Nothing changes in Azure; each problem found comes with its fix.', 'e.g. `check CR-7KQ2MX`, `check /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.FluidRelay/fluidRelayServers/<name>`'],
  },
  list: {
    usage: ['- `list pending` / `list mine` — requests waiting for approval / your requests'],
    more: ['`list` alone is `list pending`.', 'e.g. `list mine`'],
  },
  cancel: {
    usage: ['- `cancel <request id>` — cancel your own request before it runs'],
    more: ['Only the requester can cancel, and only while the request waits for approval or to run.', 'e.g. `cancel CR-7KQ2MX`'],
  },
  audit: {
    usage: ['- `audit <request id>` — the request’s audit trail (who did what, ARM correlation ids)'],
    more: ['Entries are hash-chained, oldest first.', 'e.g. `audit CR-7KQ2MX`'],
  },
  evidence: {
    usage: ['- `evidence <request id>` — one JSON record of the change (checks, payload, digest, approvals, ARM calls, audit rows with hashes) to keep or verify offline'],
    more: ['Save it as a file and verify it with `npm run audit:verify -- --bundle <file>`.', 'e.g. `evidence CR-7KQ2MX`'],
  },
  watch: {
    usage: [
      '- `watch <scope>` — watch the customer-managed keys of every Fluid Relay server, Chaos experiment and storage account in `all`, a subscription or a resource group; this conversation gets the alerts. `watch list` — what this conversation watches',
    ],
    more: [
      'Each scan finds the resources through Azure Resource Graph and checks their keys, vaults and identities; the conversation hears only what is new, worse or resolved, one alert per key, with Acknowledge and Snooze.',
      'e.g. `watch all`, `watch /subscriptions/<id>/resourceGroups/<rg>`',
    ],
  },
  unwatch: {
    usage: ['- `unwatch <scope>` — stop watching a scope here'],
    more: ['The scope as `watch list` shows it.', 'e.g. `unwatch all`'],
  },
  scan: {
    usage: ['- `scan now` — scan this conversation’s watched scopes now instead of at the next interval'],
    more: ['The results come as alerts, like a scheduled scan’s.', 'e.g. `scan now`'],
  },
  help: {
    usage: ['- `help` — this text; `help <command>` — how to use one command'],
    more: ['e.g. `help new`'],
  },
} satisfies Record<string, { usage: readonly string[]; more: string[] }>;

/** `- \`new <command> [<resource id>]\` — …`: a line per target that `new` opens, as each target says it. */
function newLines(targets: TargetRegistry): string[] {
  return targets.all.filter((t) => t.entry.command).map((t) => `- \`new ${t.entry.command}${t.entry.startsFrom && !t.entry.startsFrom.flag ? ' [<resource id>]' : ''}\` — ${t.entry.help}`);
}

function usageLines(verb: Verb, targets: TargetRegistry): readonly string[] {
  return verb === 'new' ? newLines(targets) : VERB_HELP[verb].usage;
}

export type Verb = keyof typeof VERB_HELP;

export function isVerb(word: string): word is Verb {
  return Object.hasOwn(VERB_HELP, word);
}

/** The full help: every command, `new`'s lines from the targets served. */
export function helpLines(targets: TargetRegistry = DEFAULT_TARGETS): string[] {
  return [
    '**cmk-chatops** turns on customer-managed keys (CMK) on Azure resources, with checks and approvals.',
    '',
    ...(Object.keys(VERB_HELP) as Verb[]).flatMap((v) => usageLines(v, targets)),
    '',
    'Every request runs the CMK prerequisite checks (key type, state and operations, vault recovery and firewall, identity access and tenant, region, the bot’s own rights), then waits for an approver named by the policy — never the requester — before anything changes in Azure.',
  ];
}

/** The full help of the built-in targets. */
export const HELP_LINES = helpLines();

/** How to use one command (`help <verb>`); the full help for a word that is not a command. */
export function helpFor(verb: string, targets: TargetRegistry = DEFAULT_TARGETS): string {
  if (!isVerb(verb)) return helpText(undefined, targets);
  return [...usageLines(verb, targets), '', ...VERB_HELP[verb].more].join('\n');
}

/** The full help, or one command's when `verb` is given (`help <verb>`). */
export function helpText(verb?: string, targets: TargetRegistry = DEFAULT_TARGETS): string {
  return verb ? helpFor(verb, targets) : helpLines(targets).join('\n');
}

/** A usage answer: the cause in one line, then where to read on — never the whole help, which would push the cause off screen. */
export function usageText(problem: string, verb?: string): string {
  return `${problem}\n\n${verb && isVerb(verb) ? `Send \`help ${verb}\` for how to use it.` : 'Send `help` for the list of commands.'}`;
}
