// Once per `npm test`, before any test file: the empty database a new embedded PGlite starts from,
// made the way `npm run build` makes it for production (src/store/db.ts). Test files that open a
// store through `testPglite` (test/helpers/pglite.ts) load it instead of running initdb each time
// (1–3 s each on two cores). Jest's workers start after this and inherit the variable.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgliteTemplate } from '../src/store/db';

export default async function globalSetup(): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'cmk-test-pglite-')), 'pgdata.tar.gz');
  await createPgliteTemplate(file);
  process.env.CMK_TEST_PGLITE_TEMPLATE = file;
}
