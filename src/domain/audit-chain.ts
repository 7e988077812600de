// The audit log's hash chain as pure functions: how a row's hash is computed, how a run of rows is
// walked, and how anchors (heads kept outside the database: log lines, cards, tickets) are checked
// against it. The store, `npm run audit:verify` and offline evidence bundles all use these, so a
// row hashes the same way everywhere.
import { canonicalJson, sha256 } from './canonical';

/** prev_hash of the first row. */
export const GENESIS = '0'.repeat(64);

/** A point of the chain: a row's seq and its hash. The newest one is the head. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** What a row's hash covers (besides the previous row's hash). */
export interface AuditRowContent {
  requestId: string | null;
  at: string;
  actor: unknown;
  event: string;
  data: Record<string, unknown>;
}

export interface ChainedRow extends AuditRowContent {
  seq: number;
  prevHash: string;
  hash: string;
}

/** hash = sha256(prev_hash + canonical_json({requestId, at, actor, event, data})). */
export function auditRowHash(prevHash: string, row: AuditRowContent): string {
  const body = { requestId: row.requestId ?? null, at: row.at, actor: row.actor ?? null, event: row.event, data: row.data ?? {} };
  return sha256(prevHash + canonicalJson(body));
}

export type ChainVerdict = { ok: true } | { ok: false; brokenAt: number; reason: string };

/**
 * Walk the whole chain from the first row: each row must link to the one before and match its own
 * hash. Gaps in seq are not evidence (sequences skip after a rollback or a crash); a removed row
 * shows as a broken link. A removed *tail* leaves a shorter chain that still holds: only an anchor
 * (see checkAnchors) shows it.
 */
export function walkChain(rows: ChainedRow[]): ChainVerdict {
  let prev = GENESIS;
  for (const r of rows) {
    if (r.prevHash !== prev) return { ok: false, brokenAt: r.seq, reason: 'link to the previous row is broken (a row before it was removed or changed)' };
    if (auditRowHash(prev, r) !== r.hash) return { ok: false, brokenAt: r.seq, reason: 'row content does not match its hash' };
    prev = r.hash;
  }
  return { ok: true };
}

/**
 * Anchors against the chain as it is now: every anchored row must still be there with the same
 * hash (a rewritten chain — a row changed and every later row re-hashed — changes the anchored
 * hash), and no anchor may lie beyond the chain's end (a removed tail).
 */
export function checkAnchors(rows: Array<Pick<ChainedRow, 'seq' | 'hash'>>, anchors: AuditHead[]): ChainVerdict {
  const bySeq = new Map(rows.map((r) => [r.seq, r.hash]));
  const end = rows.at(-1)?.seq ?? 0;
  for (const a of [...anchors].sort((x, y) => y.seq - x.seq)) {
    const hash = bySeq.get(a.seq);
    if (a.seq > end) {
      return { ok: false, brokenAt: a.seq, reason: `anchored head seq ${a.seq} is beyond the chain's end (seq ${end}): the newest rows were removed (a removed tail)` };
    }
    if (hash === undefined) return { ok: false, brokenAt: a.seq, reason: `anchored row seq ${a.seq} is missing from the chain: it was removed` };
    if (hash !== a.hash) {
      return { ok: false, brokenAt: a.seq, reason: `row ${a.seq} has hash ${hash.slice(0, 12)}… but ${a.hash.slice(0, 12)}… was anchored: the chain was rewritten at or before this row` };
    }
  }
  return { ok: true };
}

/** `<seq>:<hash>` as `--expect` takes it and the card shows it. */
export function parseHead(text: string): AuditHead | undefined {
  const m = /^\s*(\d+):([0-9a-f]{64})\s*$/i.exec(text);
  return m ? { seq: Number(m[1]), hash: m[2]!.toLowerCase() } : undefined;
}

export function formatHead(h: AuditHead): string {
  return `${h.seq}:${h.hash}`;
}

/**
 * Anchors from a file: JSON lines (the bot's `audit head` log lines, or `{"seq":…,"hash":…}`) or
 * `<seq>:<hash>` lines. Other log lines are skipped, so a whole log file can be given; a line that
 * looks like an anchor but is malformed is an error naming the line.
 */
export function parseAnchors(text: string): AuditHead[] {
  const out: AuditHead[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    if (t.startsWith('{')) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(t) as Record<string, unknown>;
      } catch {
        throw new Error(`line ${i + 1} is not valid JSON`);
      }
      // Another log line (a log line with a message is an anchor only when it is an `audit head` one).
      if ((o.msg !== undefined && o.msg !== 'audit head') || (o.seq === undefined && o.hash === undefined)) return;
      const seq = Number(o.seq);
      const hash = String(o.hash ?? '');
      if (!Number.isSafeInteger(seq) || seq < 1 || !/^[0-9a-f]{64}$/i.test(hash)) throw new Error(`line ${i + 1} has no valid seq and hash`);
      out.push({ seq, hash: hash.toLowerCase() });
      return;
    }
    const h = parseHead(t);
    if (!h) throw new Error(`line ${i + 1} is neither a JSON log line nor <seq>:<hash>`);
    out.push(h);
  });
  return out;
}
