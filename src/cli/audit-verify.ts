// `npm run audit:verify`: walks the whole audit log and checks its hash chain. Exit 0 when intact,
// 1 when a row was changed or removed (naming the first broken row), 2 when it cannot run.
//
//   --expect <seq>:<hash>   a head kept outside the database (a card's "Audit anchor", a log line):
//                           the row must still be there with that hash (repeatable)
//   --anchors <file>        many of them: JSON lines (the bot's `audit head` log lines, a whole log
//                           file will do) or <seq>:<hash> lines
//   --bundle <file>         verify an evidence record (`npm run audit:export`) offline, no database
//
// Anchors detect what no walk from inside can: a removed tail, or a chain rewritten and re-hashed
// consistently. Every run also reports requests that have no audit rows at all.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type AuditHead, formatHead, parseAnchors, parseHead } from '../domain/audit-chain';
import { verifyEvidence } from '../workflow/evidence';
import { runCli, withStore } from './run';

class UsageError extends Error {}

function verifyBundle(file: string): number {
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the bundle ${file}: ${(e as Error).message}`);
  }
  const id = (record as { request?: { id?: unknown } } | null)?.request?.id ?? '?';
  const v = verifyEvidence(record);
  const notes = v.notes.map((n) => `  note: ${n}\n`).join('');
  if (v.ok) {
    process.stdout.write(`evidence bundle ${String(id)} verified: ${v.rows} audit rows, their hashes, the payload, the digest and the approvals hold\n${notes}`);
    return 0;
  }
  process.stdout.write(`evidence bundle ${String(id)} FAILS verification:\n${v.problems.map((p) => `  - ${p}\n`).join('')}${notes}`);
  return 1;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { expect: { type: 'string', multiple: true }, anchors: { type: 'string' }, bundle: { type: 'string' } }, allowPositionals: false });
  if (values.bundle) return verifyBundle(values.bundle);

  const anchors: AuditHead[] = [];
  for (const e of values.expect ?? []) {
    const h = parseHead(e);
    if (!h) throw new UsageError(`--expect takes <seq>:<sha256 hash>, e.g. --expect 42:${'0'.repeat(64)}; got "${e.slice(0, 80)}"`);
    anchors.push(h);
  }
  if (values.anchors) {
    let text: string;
    try {
      text = readFileSync(values.anchors, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the anchors file ${values.anchors}: ${(e as Error).message}`);
    }
    try {
      const found = parseAnchors(text);
      if (!found.length) throw new Error('it holds no anchors (no `audit head` log lines, no <seq>:<hash> lines)');
      anchors.push(...found);
    } catch (e) {
      throw new UsageError(`anchors file ${values.anchors}: ${(e as Error).message}`);
    }
  }

  return withStore(async (store) => {
    const r = await store.verifyAuditChain(anchors);
    const orphans = await store.requestsWithoutAudit();
    let code = 0;
    if (r.ok) {
      const newest = anchors.reduce<AuditHead | undefined>((a, b) => (!a || b.seq > a.seq ? b : a), undefined);
      const anchored = anchors.length ? `; ${anchors.length} anchor${anchors.length > 1 ? 's' : ''} hold (newest seq ${newest!.seq}); head ${r.head ? formatHead(r.head) : 'none'}` : '';
      process.stdout.write(`audit log intact: ${r.rows} rows, hash chain verified${anchored}\n`);
    } else {
      process.stdout.write(`audit log TAMPERED: row ${r.brokenAt}: ${r.reason} (${r.rows} rows read)\n`);
      code = 1;
    }
    if (orphans.length) {
      const shown = orphans.slice(0, 20).join(', ') + (orphans.length > 20 ? `, and ${orphans.length - 20} more` : '');
      process.stdout.write(`audit log INCOMPLETE: ${orphans.length} request${orphans.length > 1 ? 's have' : ' has'} no audit rows (removed): ${shown}\n`);
      code = 1;
    }
    return code;
  });
}

runCli('audit:verify', main);
