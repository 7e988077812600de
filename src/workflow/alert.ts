// A watchdog alert as every channel renders it (workflow/watchdog.ts builds it).
import type { CheckResult } from '../domain/types';
import type { Severity } from '../store/watches';

/** What a conversation is told about one key: channel-neutral, rendered by each channel. */
export interface AlertView {
  watchId: string;
  groupKey: string;
  kind: 'new' | 'worse' | 'again' | 'resolved';
  severity: Severity;
  /** e.g. "Key kv-cmk-rbac/fluid-cmk is disabled — 3 resources depend on it". */
  title: string;
  /** The problem, as the check found it. */
  finding: string;
  remedy: string;
  /** The dependent resources (names), and their ids. */
  resources: Array<{ name: string; id: string }>;
  scope: string;
  /** *Fix this*: the remediation request the worst finding names, when it names one. */
  fix?: CheckResult['fix'];
}
