// The watchdog's tables (migration 004_watches): what each conversation watches, and the findings
// of the scans with their acknowledgements and snoozes. Plain SQL over a transaction or the pool.
import type { Actor } from '../domain/types';
import type { Sql } from './db';

export interface Watch {
  id: string;
  platform: 'teams' | 'slack';
  conversationId: string;
  /** Where alerts go: the conversation reference the channel posts with. */
  conversation: { platform: 'teams' | 'slack'; ref: unknown };
  /** `all`, `/subscriptions/<id>` or `/subscriptions/<id>/resourceGroups/<name>`. */
  scope: string;
  createdBy: Actor;
  createdAt: string;
}

export type Severity = 'urgent' | 'warning';

export interface StoredFinding {
  watchId: string;
  key: string;
  groupKey: string;
  severity: Severity;
  doc: Record<string, unknown>;
  state: 'open' | 'resolved';
  firstSeen: string;
  lastSeen: string;
  ackedBy?: Actor;
  snoozedUntil?: string;
  snoozeReason?: string;
}

type WatchRow = { id: string; platform: 'teams' | 'slack'; conversation_id: string; conversation: Watch['conversation']; scope: string; created_by: Actor; created_at: Date | string };
type FindingRow = {
  watch_id: string;
  key: string;
  group_key: string;
  severity: Severity;
  doc: Record<string, unknown>;
  state: 'open' | 'resolved';
  first_seen: Date | string;
  last_seen: Date | string;
  acked_by: Actor | null;
  snoozed_until: Date | string | null;
  snooze_reason: string | null;
};

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

const toWatch = (r: WatchRow): Watch => ({ id: r.id, platform: r.platform, conversationId: r.conversation_id, conversation: r.conversation, scope: r.scope, createdBy: r.created_by, createdAt: iso(r.created_at) });

const toFinding = (r: FindingRow): StoredFinding => ({
  watchId: r.watch_id,
  key: r.key,
  groupKey: r.group_key,
  severity: r.severity,
  doc: r.doc,
  state: r.state,
  firstSeen: iso(r.first_seen),
  lastSeen: iso(r.last_seen),
  ...(r.acked_by ? { ackedBy: r.acked_by } : {}),
  ...(r.snoozed_until ? { snoozedUntil: iso(r.snoozed_until) } : {}),
  ...(r.snooze_reason ? { snoozeReason: r.snooze_reason } : {}),
});

/** The active watch of this conversation on this scope, if any. */
export async function findWatch(sql: Sql, platform: string, conversationId: string, scope: string): Promise<Watch | undefined> {
  const rows = await sql.query<WatchRow>(`SELECT * FROM watches WHERE active AND platform = $1 AND lower(conversation_id) = lower($2) AND lower(scope) = lower($3)`, [platform, conversationId, scope]);
  return rows[0] ? toWatch(rows[0]) : undefined;
}

export async function insertWatch(sql: Sql, w: Watch): Promise<void> {
  await sql.query(`INSERT INTO watches (id, platform, conversation_id, conversation, scope, created_by, created_at) VALUES ($1,$2,$3,$4::jsonb,$5,$6::jsonb,$7)`, [
    w.id,
    w.platform,
    w.conversationId,
    JSON.stringify(w.conversation),
    w.scope,
    JSON.stringify(w.createdBy),
    w.createdAt,
  ]);
}

export async function deactivateWatch(sql: Sql, id: string): Promise<boolean> {
  return (await sql.query(`UPDATE watches SET active = false WHERE id = $1 AND active RETURNING id`, [id])).length > 0;
}

export async function activeWatches(sql: Sql, where: { platform?: string; conversationId?: string } = {}): Promise<Watch[]> {
  const rows = where.platform
    ? await sql.query<WatchRow>(`SELECT * FROM watches WHERE active AND platform = $1 AND lower(conversation_id) = lower($2) ORDER BY created_at`, [where.platform, where.conversationId ?? ''])
    : await sql.query<WatchRow>(`SELECT * FROM watches WHERE active ORDER BY created_at`);
  return rows.map(toWatch);
}

export async function getWatch(sql: Sql, id: string): Promise<Watch | undefined> {
  const rows = await sql.query<WatchRow>(`SELECT * FROM watches WHERE id = $1 AND active`, [id]);
  return rows[0] ? toWatch(rows[0]) : undefined;
}

export async function findingsOf(sql: Sql, watchId: string, opts: { forUpdate?: boolean } = {}): Promise<StoredFinding[]> {
  const rows = await sql.query<FindingRow>(`SELECT * FROM findings WHERE watch_id = $1 ORDER BY key${opts.forUpdate ? ' FOR UPDATE' : ''}`, [watchId]);
  return rows.map(toFinding);
}

/** Store the findings seen now (open), and mark those no longer seen resolved. */
export async function saveScan(sql: Sql, watchId: string, seen: Array<{ key: string; groupKey: string; severity: Severity; doc: Record<string, unknown> }>, resolved: string[], at: string, unsnooze: string[] = []): Promise<void> {
  for (const f of seen) {
    await sql.query(
      `INSERT INTO findings (watch_id, key, group_key, severity, doc, state, first_seen, last_seen) VALUES ($1,$2,$3,$4,$5::jsonb,'open',$6,$6)
       ON CONFLICT (watch_id, key) DO UPDATE SET group_key = EXCLUDED.group_key, severity = EXCLUDED.severity, doc = EXCLUDED.doc, last_seen = EXCLUDED.last_seen,
         first_seen = CASE WHEN findings.state = 'resolved' THEN EXCLUDED.first_seen ELSE findings.first_seen END,
         acked_by = CASE WHEN findings.state = 'resolved' THEN NULL ELSE findings.acked_by END,
         state = 'open'`,
      [watchId, f.key, f.groupKey, f.severity, JSON.stringify(f.doc), at],
    );
  }
  for (const key of resolved) await sql.query(`UPDATE findings SET state = 'resolved', last_seen = $3, snoozed_until = NULL, snooze_reason = NULL WHERE watch_id = $1 AND key = $2`, [watchId, key, at]);
  // A snooze that has ended (and been told about again) is cleared.
  for (const key of unsnooze) await sql.query(`UPDATE findings SET snoozed_until = NULL, snooze_reason = NULL WHERE watch_id = $1 AND key = $2`, [watchId, key]);
}

/** Acknowledge or snooze every open finding of one alert (a key's group). Returns how many. */
export async function markGroup(sql: Sql, watchId: string, groupKey: string, mark: { ackedBy: Actor } | { snoozedUntil: string; reason: string }): Promise<number> {
  const rows =
    'ackedBy' in mark
      ? await sql.query(`UPDATE findings SET acked_by = $3::jsonb WHERE watch_id = $1 AND group_key = $2 AND state = 'open' RETURNING key`, [watchId, groupKey, JSON.stringify(mark.ackedBy)])
      : await sql.query(`UPDATE findings SET snoozed_until = $3, snooze_reason = $4 WHERE watch_id = $1 AND group_key = $2 AND state = 'open' RETURNING key`, [watchId, groupKey, mark.snoozedUntil, mark.reason]);
  return rows.length;
}
