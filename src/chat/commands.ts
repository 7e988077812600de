// Command text → a command, a usage reply, or nothing. The same grammar for every channel.
import { REQUEST_ID_PATTERN } from '../domain/canonical';

export type Command =
  | { kind: 'help' }
  | { kind: 'new'; target: string }
  | { kind: 'status'; id: string }
  | { kind: 'usage'; problem: string };

export const SUPPORTED_TARGETS = ['fluid-relay'] as const;

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
        return { kind: 'usage', problem: `I can't create "${words[1]}" yet. Supported: ${SUPPORTED_TARGETS.map((t) => `\`new ${t}\``).join(', ')}.` };
      }
      return { kind: 'new', target };
    }
    case 'status': {
      const id = (words[1] ?? '').toUpperCase();
      if (!id) return { kind: 'usage', problem: '`status` needs a request id, e.g. `status CR-7KQ2MX`.' };
      if (!REQUEST_ID_PATTERN.test(id)) return { kind: 'usage', problem: `"${words[1]}" is not a request id; they look like CR-7KQ2MX.` };
      return { kind: 'status', id };
    }
    default:
      return { kind: 'usage', problem: `I don't know "${words[0]}".` };
  }
}

export const HELP_LINES = [
  '**cmk-chatops** turns on customer-managed keys (CMK) on Azure resources, with checks and approvals.',
  '',
  '- `new fluid-relay` — request a new Azure Fluid Relay server encrypted with your key (a form opens)',
  '- `status <request id>` — show a request and where it stands',
  '- `help` — this text',
  '',
  'Every request runs the CMK prerequisite checks (key type and state, identity access, region), then waits for an approver named by the policy — never the requester — before anything changes in Azure.',
];

export function helpText(): string {
  return HELP_LINES.join('\n');
}

export function usageText(problem: string): string {
  return `${problem}\n\n${helpText()}`;
}
