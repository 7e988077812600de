// `npm run audit:export -- <request id> [--out <file>]`: one JSON record of the change — checks with
// evidence, payload, digest, approvals, ARM calls with correlation ids, verification, and the
// request's audit rows with their hashes — that `npm run audit:verify -- --bundle <file>` verifies
// offline. Exit 0 written, 1 no such request, 2 cannot run.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { REQUEST_ID_PATTERN } from '../domain/canonical';
import { buildEvidence } from '../workflow/evidence';
import { runCli, withStore } from './run';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
  const id = (positionals[0] ?? '').toUpperCase();
  if (positionals.length !== 1 || !REQUEST_ID_PATTERN.test(id)) {
    process.stderr.write('usage: npm run audit:export -- <request id, e.g. CR-7KQ2MX> [--out <file>]\n');
    return 2;
  }
  return withStore(async (store) => {
    const record = await buildEvidence(store, id);
    if (!record) {
      process.stderr.write(`there is no request ${id}\n`);
      return 1;
    }
    const text = `${JSON.stringify(record, null, 2)}\n`;
    if (values.out) {
      writeFileSync(values.out, text);
      process.stderr.write(`evidence of ${id} written to ${values.out} (${record.auditRows.length} audit rows; chain head ${record.chainHead ? `${record.chainHead.seq}:${record.chainHead.hash}` : 'none'})\n`);
    } else process.stdout.write(text);
    return 0;
  });
}

runCli('audit:export', main);
