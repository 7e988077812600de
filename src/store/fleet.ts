// A fleet's members while it is written (migration 005_fleet_members): one row per member, moved
// pending → writing → verifying → verified | failed, each step in the caller's transaction with its
// audit entry (Store.change). Plain SQL over a transaction or the pool.
import type { FleetOutcome } from '../domain/types';
import type { Sql } from './db';

export type MemberState = 'pending' | 'writing' | 'verifying' | 'verified' | 'failed';

export interface MemberRow {
  idx: number;
  resourceId: string;
  state: MemberState;
  outcome?: FleetOutcome;
}

/** The members' rows, created pending the first time (a resumed fleet finds them as they were left). */
export async function openMembers(sql: Sql, requestId: string, resourceIds: readonly string[]): Promise<MemberRow[]> {
  // One statement for every member (up to the fleet's 250), not one round trip each.
  await sql.query(
    `INSERT INTO fleet_members (request_id, idx, resource_id, state)
     SELECT $1, (m.ord - 1)::integer, m.id, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS m(id, ord)
     ON CONFLICT (request_id, idx) DO NOTHING`,
    [requestId, [...resourceIds]],
  );
  return members(sql, requestId);
}

export async function members(sql: Sql, requestId: string): Promise<MemberRow[]> {
  const rows = await sql.query<{ idx: number; resource_id: string; state: MemberState; outcome: FleetOutcome | null }>(`SELECT idx, resource_id, state, outcome FROM fleet_members WHERE request_id = $1 ORDER BY idx`, [requestId]);
  return rows.map((r) => ({ idx: r.idx, resourceId: r.resource_id, state: r.state, ...(r.outcome ? { outcome: r.outcome } : {}) }));
}

/** Move one member from `from` to `to`; false when it was not in `from` (another worker moved it). */
export async function moveMember(sql: Sql, requestId: string, idx: number, from: MemberState, to: MemberState, outcome?: FleetOutcome): Promise<boolean> {
  const rows = await sql.query<{ idx: number }>(`UPDATE fleet_members SET state = $3, outcome = $4::jsonb, updated_at = now() WHERE request_id = $1 AND idx = $2 AND state = $5 RETURNING idx`, [
    requestId,
    idx,
    to,
    outcome ? JSON.stringify(outcome) : null,
    from,
  ]);
  return rows.length === 1;
}
