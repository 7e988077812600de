// The audit chain anchored outside the database. A database owner can turn the append-only
// triggers off and delete the newest rows, or rewrite a row and re-hash every row after it: the
// chain then still walks cleanly from inside. A head kept outside (the JSON log's `audit head`
// lines, a finished card's anchor) is what shows it — through `npm run audit:verify` itself.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditHead, auditRowHash, formatHead } from '../../src/domain/audit-chain';
import type { ChangeRequest } from '../../src/domain/types';
import { createLog } from '../../src/log';
import { Store } from '../../src/store/store';
import { changeRequest } from '../fixtures/requests';
import { runCli } from '../helpers/cli';
import { testPglite } from '../helpers/pglite';

function request(id: string): ChangeRequest {
  return changeRequest({ id });
}

/** A request through submission, approval and its end: six audit rows. */
async function lifecycle(store: Store, id: string) {
  await store.createRequest(request(id), [{ event: 'requested' }, { event: 'checked' }]);
  await store.mutate(id, (cur) => ({ next: { ...cur, state: 'approved' }, audit: [{ event: 'approved', data: { digest: 'd1' } }] }));
  await store.mutate(id, (cur) => ({ next: { ...cur, state: 'executing' }, audit: [{ event: 'executing' }, { event: 'arm_call' }] }));
  return store.mutate(id, (cur) => ({ next: { ...cur, state: 'succeeded' }, audit: [{ event: 'verified', data: { ok: true } }] }));
}

/** What a database owner can do: rewrite row `seq` and re-hash every row after it, consistently. */
async function rewriteFrom(store: Store, seq: number, data: Record<string, unknown>) {
  await store.db.exec(`SET session_replication_role = replica`); // triggers off for this session
  await store.db.query(`UPDATE audit_log SET data = $2::jsonb WHERE seq = $1`, [seq, JSON.stringify(data)]);
  const rows = await store.db.query<{ seq: string; request_id: string | null; at: Date; actor: unknown; event: string; data: Record<string, unknown>; hash: string }>(`SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq`, [seq]);
  let prev = (await store.db.query<{ hash: string }>(`SELECT hash FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1`, [seq]))[0]?.hash ?? '0'.repeat(64);
  for (const r of rows) {
    const hash = auditRowHash(prev, { requestId: r.request_id, at: new Date(r.at).toISOString(), actor: r.actor, event: r.event, data: r.data });
    await store.db.query(`UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1`, [r.seq, prev, hash]);
    prev = hash;
  }
  await store.db.exec(`SET session_replication_role = origin`);
}

describe('audit anchors (store)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open({ kind: 'pglite', ...testPglite() });
  });
  afterAll(() => store.close());

  it('reports every append with the new head once committed, and a request keeps the head its last change ended at', async () => {
    const heads: Array<AuditHead & { event: string; requestId: string | null }> = [];
    const stop = store.onAuditAppend((h) => heads.push(h));
    const done = await lifecycle(store, 'CR-AAAAAA');
    // A refused change appends nothing and reports nothing.
    await expect(store.mutate('CR-AAAAAA', () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    stop();
    await store.audit({ event: 'after-unsubscribe' });

    const rows = await store.db.query<{ seq: string; hash: string; event: string }>(`SELECT seq, hash, event FROM audit_log WHERE event <> 'after-unsubscribe' ORDER BY seq`);
    expect(heads).toEqual(rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, event: r.event, requestId: 'CR-AAAAAA' })));
    const last = (await store.auditTrail('CR-AAAAAA')).at(-1)!;
    expect(done.auditHead).toEqual({ seq: last.seq, hash: last.hash });
    expect((await store.getRequest('CR-AAAAAA'))?.auditHead).toEqual({ seq: last.seq, hash: last.hash });
    // A change without audit entries (a card's message id) keeps the head.
    await store.mutate('CR-AAAAAA', (cur) => ({ next: { ...cur, cardMessageId: 'm1' }, audit: [] }));
    expect((await store.getRequest('CR-AAAAAA'))?.auditHead).toEqual({ seq: last.seq, hash: last.hash });
    expect(await store.auditHead()).toEqual({ seq: last.seq + 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('detects a removed tail: the walk from inside says intact, the anchor does not', async () => {
    await lifecycle(store, 'CR-BBBBBB');
    const anchor = (await store.auditHead())!;
    expect(await store.verifyAuditChain([anchor])).toMatchObject({ ok: true, head: anchor });
    await store.db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL`);
    await store.db.query(`DELETE FROM audit_log WHERE seq > $1`, [anchor.seq - 3]);
    await store.db.exec(`ALTER TABLE audit_log ENABLE TRIGGER ALL`);

    expect(await store.verifyAuditChain()).toMatchObject({ ok: true }); // what was reported: "intact"
    expect(await store.verifyAuditChain([anchor])).toMatchObject({ ok: false, brokenAt: anchor.seq, reason: expect.stringMatching(/beyond the chain's end .*removed tail/) });
    // New rows appended after the deletion hide the shortened end, not the missing anchored row.
    for (let i = 0; i < 4; i++) await store.audit({ event: `later-${i}` });
    expect(await store.verifyAuditChain()).toMatchObject({ ok: true });
    expect(await store.verifyAuditChain([anchor])).toMatchObject({ ok: false, brokenAt: anchor.seq, reason: expect.stringMatching(/missing from the chain: it was removed/) });
  });

  it('detects a chain rewritten and re-hashed consistently from an earlier row', async () => {
    await lifecycle(store, 'CR-CCCCCC');
    const trail = await store.auditTrail('CR-CCCCCC');
    const anchor = (await store.auditHead())!;
    const older = { seq: trail[0]!.seq - 1, hash: (await store.db.query<{ hash: string }>(`SELECT hash FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1`, [trail[0]!.seq]))[0]!.hash };
    const approved = trail.find((r) => r.event === 'approved')!;
    await rewriteFrom(store, approved.seq, { digest: 'forged' });

    expect(await store.verifyAuditChain()).toMatchObject({ ok: true });
    expect(await store.verifyAuditChain([older, anchor])).toMatchObject({ ok: false, brokenAt: anchor.seq, reason: expect.stringMatching(/the chain was rewritten at or before this row/) });
    // An anchor older than the rewrite still holds: anchor often.
    expect(await store.verifyAuditChain([{ seq: older.seq, hash: older.hash }])).toMatchObject({ ok: true });
  });

  it('finds requests that have no audit rows', async () => {
    expect(await store.requestsWithoutAudit()).toEqual([]);
    await store.createRequest(request('CR-DDDDDD'), [{ event: 'requested' }]);
    await store.db.exec(`ALTER TABLE audit_log DISABLE TRIGGER ALL`);
    await store.db.query(`DELETE FROM audit_log WHERE request_id = 'CR-DDDDDD'`);
    await store.db.exec(`ALTER TABLE audit_log ENABLE TRIGGER ALL`);
    expect(await store.requestsWithoutAudit()).toEqual(['CR-DDDDDD']);
  });
});

describe('npm run audit:verify with anchors', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cmk-anchors-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const open = () => Store.open({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  const run = (...args: string[]) => runCli('src/cli/audit-verify.ts', args, { DATA_DIR: dataDir }).then(({ code, out, err }) => ({ code, out: out + err }));

  it('passes with the anchors it logged, then names a removed tail, a rewritten chain and a request without rows', async () => {
    // The bot's JSON log, as app.ts wires it: one `audit head` line per append.
    const logLines: string[] = [];
    let store = await open();
    const log = createLog('info', (l) => logLines.push(l));
    store.onAuditAppend((h) => log('info', 'audit head', { seq: h.seq, hash: h.hash, event: h.event, request: h.requestId }));
    await lifecycle(store, 'CR-EEEEEE');
    log('info', 'some other line', { count: 3 });
    const head = (await store.auditHead())!;
    await store.close();
    const anchorsFile = join(dataDir, 'bot.log');
    writeFileSync(anchorsFile, logLines.join(''));
    expect(logLines[0]).toMatch(/"msg":"audit head"/);

    expect(await run()).toEqual({ code: 0, out: `audit log intact: ${head.seq} rows, hash chain verified\n` });
    expect(await run('--anchors', anchorsFile)).toEqual({ code: 0, out: `audit log intact: ${head.seq} rows, hash chain verified; ${head.seq} anchors hold (newest seq ${head.seq}); head ${formatHead(head)}\n` });

    // The owner removes the two newest rows with the triggers off.
    store = await open();
    await store.db.exec(`SET session_replication_role = replica`);
    await store.db.query(`DELETE FROM audit_log WHERE seq > $1`, [head.seq - 2]);
    await store.close();
    expect(await run()).toEqual({ code: 0, out: `audit log intact: ${head.seq - 2} rows, hash chain verified\n` });
    const tail = await run('--expect', formatHead(head));
    expect(tail).toEqual({ code: 1, out: `audit log TAMPERED: row ${head.seq}: anchored head seq ${head.seq} is beyond the chain's end (seq ${head.seq - 2}): the newest rows were removed (a removed tail) (${head.seq - 2} rows read)\n` });

    // …then rewrites the first row and re-hashes the rest: the newest surviving anchor shows it.
    store = await open();
    await rewriteFrom(store, 1, { forged: true });
    await store.close();
    const surviving = logLines.map((l) => JSON.parse(l) as { seq?: number; hash?: string }).find((l) => l.seq === head.seq - 2)!;
    expect(await run('--expect', `${surviving.seq}:${surviving.hash}`)).toEqual({
      code: 1,
      out: expect.stringMatching(new RegExp(`row ${head.seq - 2}: row ${head.seq - 2} has hash [0-9a-f]{12}… but ${surviving.hash!.slice(0, 12)}… was anchored: the chain was rewritten at or before this row`)),
    });

    // A request whose rows were all removed is named, even on a plain run.
    store = await open();
    await store.createRequest(request('CR-FFFFFF'), [{ event: 'requested' }]);
    await store.db.exec(`SET session_replication_role = replica`);
    await store.db.query(`DELETE FROM audit_log WHERE request_id = 'CR-FFFFFF'`);
    await store.close();
    expect(await run()).toEqual({ code: 1, out: `audit log intact: ${head.seq - 2} rows, hash chain verified\naudit log INCOMPLETE: 1 request has no audit rows (removed): CR-FFFFFF\n` });

    // A malformed anchor is a usage error (exit 2), not a verdict.
    expect(await run('--expect', '12:nothex')).toMatchObject({ code: 2, out: expect.stringMatching(/--expect takes <seq>:<sha256 hash>/) });
  }, 120_000);
});
