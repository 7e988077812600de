// What every part of the workflow shares: its dependencies (the policy in force is swapped on a
// reload), the clock, the log, the check-run listeners, and the ports a channel implements.
import type { ArmGateway } from '../azure/port';
import { DEFAULT_TARGETS, type TargetRegistry } from '../targets';
import type { AlertView } from './alert';
import type { ChangeRequest, CheckResult, Platform } from '../domain/types';
import type { Store } from '../store/store';
import type { DurableQueue } from './durable';
import type { JobRegistry } from './job-registry';
import type { Policy } from './policy';

/** What a channel must do for the workflow: show the request card and post progress. */
export interface ChatNotifier {
  /** Update the request card in place (or post it when it has no message yet); returns its message id. */
  showRequest(req: ChangeRequest): Promise<string | undefined>;
  /** Post a message in the request's conversation (or thread). */
  post(req: ChangeRequest, text: string): Promise<void>;
  /** Post a watchdog alert in a watching conversation (with Acknowledge and Snooze). */
  postAlert?(conversation: ChangeRequest['conversation'], alert: AlertView): Promise<void>;
}

/** Where a person said something: the conversation, and whether it is their private chat with the bot. */
export interface Place {
  platform: Platform;
  conversationId: string;
  /** A one-to-one chat between the person and the bot (Teams personal scope, Slack DM). */
  personal: boolean;
}

export type WorkflowLog = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export interface WorkflowDeps {
  store: Store;
  arm: ArmGateway;
  policy: Policy;
  queue: DurableQueue;
  notifiers: Partial<Record<Platform, ChatNotifier>>;
  /**
   * Where the workflow defines its job kinds. The caller wires it to the queue once (src/app.ts);
   * without one, the workflow keeps its own and wires it to `queue` itself.
   */
  registry?: JobRegistry;
  /** The targets served (default: every built-in one; a test may add its own). */
  targets?: TargetRegistry;
  now?: () => Date;
  expiryWarningDays?: number;
  /** How often a resource still provisioning is read again while resuming (default 1 s). */
  resumePollMs?: number;
  log?: WorkflowLog;
}

export class WorkflowContext {
  private readonly listeners = new Set<(results: CheckResult[]) => void>();

  constructor(private readonly deps: WorkflowDeps) {}

  get store(): Store {
    return this.deps.store;
  }
  get arm(): ArmGateway {
    return this.deps.arm;
  }
  get targets(): TargetRegistry {
    return this.deps.targets ?? DEFAULT_TARGETS;
  }
  /** The policy in force now: a reload replaces it for every later decision and write. */
  get policy(): Policy {
    return this.deps.policy;
  }
  set policy(policy: Policy) {
    this.deps.policy = policy;
  }
  get queue(): DurableQueue {
    return this.deps.queue;
  }
  get notifiers(): Partial<Record<Platform, ChatNotifier>> {
    return this.deps.notifiers;
  }
  get expiryWarningDays(): number | undefined {
    return this.deps.expiryWarningDays;
  }
  get resumePollMs(): number {
    return this.deps.resumePollMs ?? 1000;
  }

  now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  log(level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void {
    this.deps.log?.(level, msg, data);
  }

  onChecks(listener: (results: CheckResult[]) => void): void {
    this.listeners.add(listener);
  }

  /** Every completed check run goes to the listeners (metrics). */
  checked(results: CheckResult[]): CheckResult[] {
    for (const l of this.listeners) l(results);
    return results;
  }

  /** Jobs committed with a state change: let this process's worker look now. */
  wake(): void {
    this.deps.queue.wake();
  }
}
