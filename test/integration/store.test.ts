// The store on embedded PGlite (one database for the file; PGlite takes seconds to start).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite, type Database } from '../../src/store/db';
import { MIGRATIONS, migrate } from '../../src/store/migrations';
import { Store, StoreConflict } from '../../src/store/store';
import type { ChangeRequest } from '../../src/domain/types';
import { changeRequest } from '../fixtures/requests';
import { testPglite } from '../helpers/pglite';
import { throwawayDatabase, type ThrowawayDatabase } from '../helpers/postgres';

let store: Store;
beforeAll(async () => {
  store = await Store.open({ kind: 'pglite', ...testPglite() });
});
afterAll(() => store.close());

function request(id: string): ChangeRequest {
  return changeRequest({ id });
}

/** The shared store's database, with each query passed through `query` (which runs it with `run`): another replica's doing, a fault, a count. */
function intercepted(query: (run: Database['query'], text: string, params?: unknown[]) => Promise<unknown[]>): Database {
  return new Proxy(store.db, {
    get(target, prop) {
      if (prop === 'query') return (text: string, params?: unknown[]) => query(target.query.bind(target), text, params);
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('store', () => {
  it('commits a state change with its audit entry, and refuses atomically', async () => {
    await store.createRequest(request('CR-AAAAAA'), [{ event: 'requested', actor: { platform: 'teams', id: 'aad-alice', name: 'Alice' } }]);
    const approved = await store.mutate('CR-AAAAAA', (cur) => ({
      next: { ...cur, state: 'approved', approvals: [{ approver: { platform: 'teams', id: 'aad-bob', name: 'Bob' }, decision: 'approved', digest: cur.digest, at: new Date().toISOString() }] },
      audit: [{ event: 'approved' }],
    }));
    expect(approved.version).toBe(2);
    const loaded = await store.getRequest('CR-AAAAAA');
    expect(loaded?.state).toBe('approved');
    expect(loaded?.approvals.map((a) => a.approver.name)).toEqual(['Bob']);

    await expect(
      store.mutate('CR-AAAAAA', (cur) => {
        if (cur.state === 'approved') throw new StoreConflict('no');
        return { next: cur, audit: [{ event: 'never' }] };
      }),
    ).rejects.toThrow('no');
    const trail = await store.auditTrail('CR-AAAAAA');
    expect(trail.map((r) => r.event)).toEqual(['requested', 'approved']);
  });

  it('serialises concurrent mutations of one request (row lock): both apply, in turn', async () => {
    await store.createRequest(request('CR-BBBBBB'), []);
    await Promise.all([1, 2, 3].map((i) => store.mutate('CR-BBBBBB', (cur) => ({ next: { ...cur, params: { ...cur.params, [`k${i}`]: i } }, audit: [{ event: `e${i}` }] }))));
    const r = await store.getRequest('CR-BBBBBB');
    expect(r?.version).toBe(4);
    expect(r?.params).toMatchObject({ k1: 1, k2: 2, k3: 3 });
  });

  it('keeps the audit log append-only and detects a tampered row', async () => {
    expect(await store.verifyAuditChain()).toMatchObject({ ok: true });
    await expect(store.db.query(`UPDATE audit_log SET event = 'approved' WHERE event = 'requested'`)).rejects.toThrow(/append-only/);
    await expect(store.db.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(store.db.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    // A rolled-back append leaves a gap in seq (sequences do not roll back): not tampering.
    await store.db
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO audit_log (request_id, at, actor, event, data, prev_hash, hash) VALUES (NULL, now(), NULL, 'x', '{}'::jsonb, 'p', 'h')`);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await store.audit({ event: 'after-a-gap' });
    expect(await store.verifyAuditChain()).toMatchObject({ ok: true });
    // Someone with owner rights turns the guard off and edits history: the chain shows it.
    await store.db.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    await store.db.query(`UPDATE audit_log SET data = '{"forged":true}'::jsonb WHERE seq = 2`);
    expect(await store.verifyAuditChain()).toMatchObject({ ok: false, brokenAt: 2, reason: 'row content does not match its hash' });
    // …and a deleted row breaks the next row's link.
    await store.db.query(`DELETE FROM audit_log WHERE seq = 1`);
    await store.db.exec(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    expect(await store.verifyAuditChain()).toMatchObject({ ok: false, brokenAt: 2, reason: expect.stringMatching(/link to the previous row is broken/) });
  });
});

describe('delivery claims', () => {
  // Long enough that the queries between the first claim and the repeat finish within it on a busy machine.
  const ABANDON_MS = 1_500;
  it('a claim never answered is taken over after the abandon time (a turn whose answer could not be recorded); an answered one stays a duplicate; without an abandon time nothing changes', async () => {
    expect(await store.claimDelivery('teams:abandoned', 60_000, ABANDON_MS)).toEqual({ kind: 'new' });
    expect(await store.claimDelivery('teams:answered', 60_000, ABANDON_MS)).toEqual({ kind: 'new' });
    await store.settleDelivery('teams:answered', 200, '{"ok":true}');
    expect(await store.claimDelivery('slack:unsettled', 60_000)).toEqual({ kind: 'new' });
    // Within the abandon time: a duplicate, still waiting for its answer.
    expect(await store.claimDelivery('teams:abandoned', 60_000, ABANDON_MS)).toEqual({ kind: 'duplicate' });
    await new Promise((r) => setTimeout(r, ABANDON_MS + 200));
    expect(await store.claimDelivery('teams:abandoned', 60_000, ABANDON_MS)).toEqual({ kind: 'new' });
    expect(await store.claimDelivery('teams:answered', 60_000, ABANDON_MS)).toEqual({ kind: 'duplicate', status: 200, response: '{"ok":true}' });
    expect(await store.claimDelivery('slack:unsettled', 60_000)).toEqual({ kind: 'duplicate' });
  });

  it('a claim older than its time to live is new again, once: taken over with a new time and none of the old answer', async () => {
    expect(await store.claimDelivery('slack:ttl', 60_000)).toEqual({ kind: 'new' });
    await store.settleDelivery('slack:ttl', 200, 'old answer');
    expect(await store.claimDelivery('slack:ttl', 60_000)).toEqual({ kind: 'duplicate', status: 200, response: 'old answer' });
    await store.db.query(`UPDATE inbound_seen SET created_at = created_at - interval '1 hour' WHERE key = 'slack:ttl'`);
    expect(await store.claimDelivery('slack:ttl', 60_000)).toEqual({ kind: 'new' });
    // Taken over in place with the time of the take-over: the same claim straight after is a duplicate, with no answer yet.
    expect(await store.claimDelivery('slack:ttl', 60_000)).toEqual({ kind: 'duplicate' });
  });

  it('a claim whose row another replica removes while it looks (expired and swept, or forgotten after a failure) is new, not a duplicate of nothing', async () => {
    // Another replica's sweep or forget, run between this claim's statements: after its insert met the row.
    let removed = 0;
    const racing = intercepted(async (run, text, params) => {
      const rows = await run(text, params);
      if (/^INSERT INTO inbound_seen/.test(text) && rows.length === 0 && removed++ === 0) await run(`DELETE FROM inbound_seen WHERE key = ANY($1::text[])`, [[params?.[0]].flat()]);
      return rows;
    });
    expect(await store.claimDelivery('slack:swept', 60_000)).toEqual({ kind: 'new' });
    await store.db.query(`UPDATE inbound_seen SET created_at = created_at - interval '1 hour' WHERE key = 'slack:swept'`);
    expect(await new Store(racing).claimDelivery('slack:swept', 60_000)).toEqual({ kind: 'new' });
    expect(removed).toBe(1);
    // Claimed for this delivery: the next one is its duplicate.
    expect(await store.claimDelivery('slack:swept', 60_000)).toEqual({ kind: 'duplicate' });
  });
});

describe('delivery claims that arrive together', () => {
  /** The store over `db`, counting the claims' inserts and the answers' updates; `fail`: each insert throws; `held`: the first insert waits for it. */
  const counting = (fail = false, held?: Promise<void>) => {
    const inserts: unknown[][] = [];
    const updates: unknown[][] = [];
    const db = intercepted(async (run, text, params) => {
      if (/^UPDATE inbound_seen AS s SET status/.test(text)) updates.push(params ?? []);
      if (/^INSERT INTO inbound_seen/.test(text)) {
        inserts.push(params ?? []);
        if (fail) throw new Error('the database went away');
        if (inserts.length === 1 && held) await held;
      }
      return run(text, params);
    });
    return { claims: new Store(db), inserts, updates };
  };

  it('are written in one statement, and each key is new exactly once: a key seen before, and a key sent twice in the batch, are duplicates', async () => {
    await store.claimDelivery('slack:together-seen', 60_000);
    const { claims, inserts } = counting();
    const keys = [...Array.from({ length: 20 }, (_, i) => `slack:together-${i}`), 'slack:together-seen', 'slack:together-3', 'slack:together-3'];
    const got = await Promise.all(keys.map((k) => claims.claimDelivery(k, 60_000)));
    expect(inserts).toHaveLength(1);
    expect(got.slice(0, 20).map((g) => g.kind)).toEqual(Array(20).fill('new'));
    expect(got.slice(20).map((g) => g.kind)).toEqual(['duplicate', 'duplicate', 'duplicate']);
  });

  it('their answers, recorded together, are one update; each repeat gets its own delivery’s answer, and a key answered twice keeps the later answer', async () => {
    const { claims, updates } = counting();
    const keys = Array.from({ length: 5 }, (_, i) => `teams:answered-together-${i}`);
    await Promise.all(keys.map((k) => claims.claimDelivery(k, 60_000)));
    await Promise.all([...keys.map((k, i) => claims.settleDelivery(k, 200, `{"n":${i}}`)), claims.settleDelivery(keys[0]!, 202, '{"n":"again"}')]);
    expect(updates).toHaveLength(1);
    const repeats = await Promise.all(keys.map((k) => claims.claimDelivery(k, 60_000)));
    expect(repeats).toEqual([{ kind: 'duplicate', status: 202, response: '{"n":"again"}' }, ...keys.slice(1).map((_, i) => ({ kind: 'duplicate', status: 200, response: `{"n":${i + 1}}` }))]);
  });

  it('handed over just before the store closes (a Teams turn records its answer after sending it) are written, not refused by a closed database', async () => {
    const own = await Store.open({ kind: 'pglite', ...testPglite() });
    expect(await own.claimDelivery('teams:at-close', 60_000)).toEqual({ kind: 'new' });
    const recorded = own.settleDelivery('teams:at-close', 200, '{"ok":true}');
    const claimed = own.claimDelivery('teams:claimed-at-close', 60_000);
    await own.close();
    await expect(recorded).resolves.toBeUndefined();
    await expect(claimed).resolves.toEqual({ kind: 'new' });
  });

  it('made while a batch is being written, go in the next one, together', async () => {
    let release!: () => void;
    const { claims, inserts } = counting(false, new Promise<void>((r) => (release = r)));
    const first = claims.claimDelivery('slack:while-a', 60_000);
    while (!inserts.length) await new Promise((r) => setImmediate(r));
    const next = ['slack:while-b', 'slack:while-c'].map((k) => claims.claimDelivery(k, 60_000));
    await new Promise((r) => setTimeout(r, 20));
    expect(inserts).toHaveLength(1);
    release();
    expect((await Promise.all([first, ...next])).map((g) => g.kind)).toEqual(['new', 'new', 'new']);
    expect(inserts).toEqual([[['slack:while-a']], [['slack:while-b', 'slack:while-c']]]);
    expect(await store.claimDelivery('slack:while-c', 60_000)).toEqual({ kind: 'duplicate' });
  });

  it('a batch the database refuses fails every claim in it (each caller answers "try again"), and stores none', async () => {
    const { claims, inserts } = counting(true);
    const got = await Promise.allSettled(['slack:refused-1', 'slack:refused-2'].map((k) => claims.claimDelivery(k, 60_000)));
    expect(got.map((g) => g.status)).toEqual(['rejected', 'rejected']);
    expect(inserts).toHaveLength(1);
    expect(await store.db.query(`SELECT key FROM inbound_seen WHERE key LIKE 'slack:refused-%'`)).toEqual([]);
    // The next claim is a new batch, on a database that answers.
    expect(await store.claimDelivery('slack:refused-1', 60_000)).toEqual({ kind: 'new' });
  });
});

// Replicas claim on one PostgreSQL database: the same delivery reaching two of them at once is new on one.
describe('delivery claims on PostgreSQL, from two replicas at once', () => {
  let database: ThrowawayDatabase | undefined;
  const stores: Store[] = [];
  beforeAll(async () => {
    database = await throwawayDatabase('cmk_claims', 'store.test');
    if (!database) return;
    stores.push(await Store.open({ kind: 'postgres', url: database.url, poolMax: 8 }));
    stores.push(await Store.open({ kind: 'postgres', url: database.url, poolMax: 8 }));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await database?.drop();
  });

  it('each new key, and each key past its time to live, is new on exactly one replica', async () => {
    if (!database) return;
    const [a, b] = stores as [Store, Store];
    const keys = Array.from({ length: 40 }, (_, i) => `slack:race-${i}`);
    const kinds = async () => {
      // In opposite orders: each replica's claims go in as one batch, and neither waits for the other in a cycle.
      const [onA, onB] = await Promise.all([Promise.all(keys.map((k) => a.claimDelivery(k, 60_000))), Promise.all([...keys].reverse().map((k) => b.claimDelivery(k, 60_000))).then((r) => r.reverse())]);
      return keys.map((_, i) => [onA[i]!.kind, onB[i]!.kind].sort().join('+'));
    };
    expect(new Set(await kinds())).toEqual(new Set(['duplicate+new']));
    // An hour older: past the time to live. One replica takes each key over; the other sees it taken.
    await a.db.query(`UPDATE inbound_seen SET created_at = created_at - interval '1 hour' WHERE key LIKE 'slack:race-%'`);
    expect(new Set(await kinds())).toEqual(new Set(['duplicate+new']));
  });
});

describe('Slack form sessions', () => {
  it('an expired session is never read, and the sweep (not each new form) removes it', async () => {
    await store.putFormSession('f-expired', { targetType: 'fluid-relay' }, 50);
    await store.putFormSession('f-live', { targetType: 'storage-cmk' }, 60_000);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.getFormSession('f-expired')).toBeUndefined();
    // A new form leaves the expired row alone: the form's path is one statement.
    await store.putFormSession('f-new', { targetType: 'chaos-experiment' }, 60_000);
    const ids = async () => (await store.db.query<{ id: string }>(`SELECT id FROM form_sessions WHERE id LIKE 'f-%' ORDER BY id`)).map((r) => r.id);
    expect(await ids()).toEqual(['f-expired', 'f-live', 'f-new']);
    await store.pruneFormSessions();
    expect(await ids()).toEqual(['f-live', 'f-new']);
    expect(await store.getFormSession('f-live')).toEqual({ targetType: 'storage-cmk' });
  });
});

describe('Slack form sessions across the upgrade that stores them as text (006)', () => {
  it('a form opened before the upgrade is still read after it, whole', async () => {
    const db = await openPglite(undefined, testPglite());
    try {
      // The schema as it was before 006, with a session written the way it was written then (jsonb).
      const before = MIGRATIONS.findIndex((m) => m.id === '006_form_sessions_text');
      expect(before).toBeGreaterThan(0);
      await migrate(db, MIGRATIONS.slice(0, before));
      const session = { channel: 'C0CMKREQ', targetType: 'fluid-relay', choices: { keys: [{ title: 'kv-cmk-rbac / fluid-cmk — “RSA 3072”', value: 'https://kv-cmk-rbac.vault.azure.net/keys/fluid-cmk' }] }, fixed: {} };
      await db.query(`INSERT INTO form_sessions (id, doc, expires_at) VALUES ($1, $2::jsonb, now() + interval '15 minutes')`, ['f-open-during-upgrade', JSON.stringify(session)]);

      expect(await migrate(db)).toEqual(MIGRATIONS.slice(before).map((m) => m.id));
      const upgraded = new Store(db);
      expect(await upgraded.getFormSession('f-open-during-upgrade')).toEqual(session);
      // And one written after it reads back the same.
      await upgraded.putFormSession('f-after', session, 60_000);
      expect(await upgraded.getFormSession('f-after')).toEqual(session);
    } finally {
      await db.close();
    }
  });
});

describe('embedded PGlite', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cmk-pglite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const sharedBuffers = (db: Database) => db.query<{ shared_buffers: string }>('SHOW shared_buffers');

  it('created by initdb (no template): runs with 16 MB of shared buffers (not PostgreSQL’s 128 MB), in memory and on a data folder, and keeps it on the next open', async () => {
    const folder = join(dir, 'pglite');
    for (const [where, created] of [
      [undefined, 'initdb'],
      [folder, 'initdb'],
      [folder, undefined],
    ] as const) {
      const db = await openPglite(where, { template: null });
      expect(db.created).toBe(created);
      expect(await sharedBuffers(db)).toEqual([{ shared_buffers: '16MB' }]);
      await db.close();
    }
  });

  it('a new data folder starts from the built template: the same settings, the bot’s tables after migrating, and from then on it is the folder’s own', async () => {
    // A copy of the run's template (made by createPgliteTemplate in test/global-setup.ts), to take away below.
    const template = join(dir, 'pgdata.tar.gz');
    copyFileSync(testPglite().template!, template);
    const folder = join(dir, 'data', 'pglite');

    const first = await openPglite(folder, { template });
    expect(first.created).toBe('template');
    expect(await sharedBuffers(first)).toEqual([{ shared_buffers: '16MB' }]);
    const store = new Store(first);
    expect(await migrate(first)).toEqual(MIGRATIONS.map((m) => m.id));
    await store.putFormSession('f-kept', { targetType: 'storage-cmk' }, 60_000);
    await store.close();

    // The template is only read to create a folder: gone now, the folder opens as it is.
    rmSync(template);
    const again = await openPglite(folder, { template });
    try {
      expect(again.created).toBeUndefined();
      expect(await migrate(again)).toEqual([]);
      expect(await new Store(again).getFormSession('f-kept')).toEqual({ targetType: 'storage-cmk' });
      expect(readdirSync(join(dir, 'data')).sort()).toEqual(['pglite', 'pglite.lock']);
    } finally {
      await again.close();
    }
  });

  it('a first start stopped while creating the folder leaves nothing that stops the next; an empty folder gives way; a folder with other files in it is refused, untouched', async () => {
    const { template } = testPglite();
    // A start killed while loading the template left its staging folder, half-written.
    const folder = join(dir, 'pglite');
    mkdirSync(`${folder}.new`);
    writeFileSync(join(`${folder}.new`, 'PG_VERSION'), '1');
    const db = await openPglite(folder, { template });
    expect(db.created).toBe('template');
    expect(await sharedBuffers(db)).toEqual([{ shared_buffers: '16MB' }]);
    await db.close();
    expect(existsSync(`${folder}.new`)).toBe(false);

    // An existing empty folder gives way to the new database.
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const made = await openPglite(empty, { template });
    expect(made.created).toBe('template');
    await made.close();
    expect(readdirSync(empty)).toContain('PG_VERSION');
    expect(existsSync(`${empty}.new`)).toBe(false);

    // DATA_DIR pointed at a folder that holds something else: no database is made over it.
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    await expect(openPglite(other, { template })).rejects.toThrow(`The database folder ${other} has files but no database in it (no PG_VERSION). Move it away or delete it, or set DATA_DIR to another folder.`);
    expect(readdirSync(other)).toEqual(['notes.txt']);
    expect(existsSync(`${other}.new`) || existsSync(`${other}.lock`)).toBe(false);
  });
});
