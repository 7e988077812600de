// Forward-only migrations, applied in order inside one transaction under an advisory lock so
// several replicas starting together migrate once.
import type { Database } from './db';

export const MIGRATIONS: Array<{ id: string; sql: string }> = [
  {
    id: '001_initial',
    sql: `
      CREATE TABLE change_requests (
        id text PRIMARY KEY,
        target_type text NOT NULL,
        resource_id text NOT NULL,
        state text NOT NULL,
        digest text NOT NULL,
        requester_platform text NOT NULL,
        requester_id text NOT NULL,
        doc jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        version integer NOT NULL
      );
      CREATE INDEX change_requests_state ON change_requests (state);
      CREATE INDEX change_requests_requester ON change_requests (requester_platform, requester_id);

      CREATE TABLE approvals (
        request_id text NOT NULL REFERENCES change_requests(id),
        approver_platform text NOT NULL,
        approver_id text NOT NULL,
        approver_name text NOT NULL,
        decision text NOT NULL CHECK (decision IN ('approved', 'rejected')),
        digest text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (request_id, approver_platform, approver_id, digest)
      );

      CREATE TABLE audit_log (
        seq bigserial PRIMARY KEY,
        request_id text,
        at timestamptz NOT NULL,
        actor jsonb,
        event text NOT NULL,
        data jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
      );
      CREATE INDEX audit_log_request ON audit_log (request_id, seq);

      -- Append-only: the database itself refuses to change or delete audit rows.
      CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END;
      $$ LANGUAGE plpgsql;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

    `,
  },
  {
    // Durable work shared by every replica: leased claims (FOR UPDATE SKIP LOCKED), a lane per
    // conversation so chat posts go out in order and within the platform's rate limits, and the
    // inbound deliveries already seen (Teams redeliveries, Slack retries) for every replica.
    id: '002_jobs_dedupe_forms',
    sql: `
      CREATE TABLE jobs (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        key text NOT NULL,
        lane text,
        payload jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
        run_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL,
        locked_by text,
        lease_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL,
        finished_at timestamptz
      );
      -- One queued job per key: a newer card update replaces the queued one (the latest state wins).
      CREATE UNIQUE INDEX jobs_queued_key ON jobs (key) WHERE state = 'queued';
      CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state IN ('queued', 'running');
      CREATE INDEX jobs_lane ON jobs (lane, id) WHERE lane IS NOT NULL;

      CREATE TABLE inbound_seen (
        key text PRIMARY KEY,
        status integer,
        response text,
        created_at timestamptz NOT NULL
      );
      CREATE INDEX inbound_seen_age ON inbound_seen (created_at);

      -- TRUNCATE skips row triggers: refuse it too.
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

      CREATE TABLE form_sessions (
        id text PRIMARY KEY,
        doc jsonb NOT NULL,
        expires_at timestamptz NOT NULL
      );
    `,
  },
  {
    // People, not accounts: an approval names the tenant (Teams) or workspace (Slack) of the account
    // that made it, and the channel's own user id (for per-user card refresh).
    id: '003_approvals_tenant',
    sql: `
      ALTER TABLE approvals ADD COLUMN approver_tenant text NOT NULL DEFAULT '';
      ALTER TABLE approvals ADD COLUMN approver_channel_user_id text;
      ALTER TABLE approvals DROP CONSTRAINT approvals_pkey;
      ALTER TABLE approvals ADD PRIMARY KEY (request_id, approver_platform, approver_tenant, approver_id, digest);
    `,
  },
  {
    // The watchdog (issue 15): what each conversation watches, and the findings of the scans, so a
    // scan tells a channel only what is new, worse or resolved since the last one.
    id: '004_watches',
    sql: `
      CREATE TABLE watches (
        id text PRIMARY KEY,
        platform text NOT NULL,
        conversation_id text NOT NULL,
        conversation jsonb NOT NULL,
        scope text NOT NULL,
        created_by jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        active boolean NOT NULL DEFAULT true
      );
      CREATE UNIQUE INDEX watches_active_scope ON watches (platform, lower(conversation_id), lower(scope)) WHERE active;
      CREATE TABLE findings (
        watch_id text NOT NULL REFERENCES watches(id),
        key text NOT NULL,
        group_key text NOT NULL,
        severity text NOT NULL,
        doc jsonb NOT NULL,
        state text NOT NULL DEFAULT 'open',
        first_seen timestamptz NOT NULL,
        last_seen timestamptz NOT NULL,
        acked_by jsonb,
        snoozed_until timestamptz,
        snooze_reason text,
        PRIMARY KEY (watch_id, key)
      );
      CREATE INDEX findings_group ON findings (watch_id, group_key);
    `,
  },
  {
    // Fleet rotation (issue 16): where each member of a change across many resources stands while it
    // is written — one row each, changed in its own transaction with its audit entry, so a fleet
    // resumed after a kill knows which writes were sent and never sends one twice.
    id: '005_fleet_members',
    sql: `
      CREATE TABLE fleet_members (
        request_id text NOT NULL REFERENCES change_requests(id),
        idx integer NOT NULL,
        resource_id text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'writing', 'verifying', 'verified', 'failed')),
        outcome jsonb,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, idx)
      );
    `,
  },
  {
    // A Slack form's session is written once per modal, on the path that fills it, and only ever read
    // back whole (never queried inside): stored as its JSON text, uncompressed. As jsonb (parsed into
    // PostgreSQL's binary form, then pglz-compressed past 2 kB) the write of the seeded form's 9.5 kB
    // session cost 0.80–0.92 ms of CPU on embedded PGlite; as text, uncompressed, 0.51–0.54 ms
    // (`npm run bench -- sessions`, docs/benchmarks.md).
    // On a PostgreSQL server the session is stored uncompressed too: about 10 kB of table and WAL
    // per form for its 15 minutes, against the CPU it saves on every form.
    // A replica of a version before this reads every session as expired (docs/operations.md §8).
    id: '006_form_sessions_text',
    sql: `
      ALTER TABLE form_sessions ALTER COLUMN doc TYPE text USING doc::text;
      ALTER TABLE form_sessions ALTER COLUMN doc SET STORAGE EXTERNAL;
    `,
  },
];

/** Applies the migrations not applied yet (`migrations`: tests stop at an earlier schema). */
export async function migrate(db: Database, migrations = MIGRATIONS): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(727274)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ id: string }>(`SELECT id FROM schema_migrations`)).map((r) => r.id));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await tx.exec(m.sql);
      await tx.query(`INSERT INTO schema_migrations (id) VALUES ($1)`, [m.id]);
      applied.push(m.id);
    }
    return applied;
  });
}
