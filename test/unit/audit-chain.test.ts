// Anchors as people keep them: log lines, `<seq>:<hash>` from a card, and what they prove.
import { auditRowHash, checkAnchors, GENESIS, parseAnchors, parseHead, walkChain } from '../../src/domain/audit-chain';

const h = (c: string) => c.repeat(64);

describe('anchors', () => {
  it('reads the bot’s log as it is (other lines skipped, even ones with a hash) and <seq>:<hash> lines', () => {
    const log = [
      JSON.stringify({ level: 'info', time: 't', msg: 'audit head', seq: 7, hash: h('A'), event: 'verified', request: 'CR-7KQ2MX' }),
      JSON.stringify({ level: 'info', msg: 'views.update', hash: 'slack-view-hash' }),
      JSON.stringify({ level: 'warn', msg: 'ARM call failed', status: 500 }),
      '',
      `# the card of CR-7KQ2MX`,
      `9:${h('b')}`,
    ].join('\n');
    expect(parseAnchors(log)).toEqual([
      { seq: 7, hash: h('a') },
      { seq: 9, hash: h('b') },
    ]);
    expect(() => parseAnchors(`9:${h('b')}\nnot an anchor`)).toThrow('line 2 is neither a JSON log line nor <seq>:<hash>');
    expect(() => parseAnchors(JSON.stringify({ msg: 'audit head', seq: 'x', hash: h('a') }))).toThrow('line 1 has no valid seq and hash');
    expect(parseHead(` 12:${h('C')} `)).toEqual({ seq: 12, hash: h('c') });
    expect(parseHead('12:abc')).toBeUndefined();
  });

  it('a shortened or rewritten chain still walks, and only the anchors tell', () => {
    const rows: Array<{ seq: number; requestId: null; at: string; actor: null; event: string; data: Record<string, unknown>; prevHash: string; hash: string }> = [];
    let prev = GENESIS;
    for (const [i, event] of ['a', 'b', 'c', 'd'].entries()) {
      const row = { seq: i + 1, requestId: null, at: '2026-01-01T00:00:00.000Z', actor: null, event, data: {} };
      const hash = auditRowHash(prev, row);
      rows.push({ ...row, prevHash: prev, hash });
      prev = hash;
    }
    const anchor = { seq: 4, hash: rows[3]!.hash };
    expect(checkAnchors(rows, [anchor])).toEqual({ ok: true });
    const shortened = rows.slice(0, 2);
    expect(walkChain(shortened)).toEqual({ ok: true });
    expect(checkAnchors(shortened, [anchor])).toMatchObject({ ok: false, brokenAt: 4, reason: expect.stringMatching(/removed tail/) });
    const rewritten = rows.map((r) => ({ ...r }));
    rewritten[1]!.data = { forged: true };
    let p = rewritten[0]!.hash;
    for (const r of rewritten.slice(1)) {
      r.prevHash = p;
      r.hash = auditRowHash(p, r);
      p = r.hash;
    }
    expect(walkChain(rewritten)).toEqual({ ok: true });
    expect(checkAnchors(rewritten, [{ seq: 1, hash: rows[0]!.hash }, anchor])).toMatchObject({ ok: false, brokenAt: 4, reason: expect.stringMatching(/rewritten at or before this row/) });
  });
});
