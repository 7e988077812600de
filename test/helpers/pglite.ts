// Where tests open embedded PGlite: from the template test/global-setup.ts made for this run, as a
// built bot opens a new data folder from the build's (src/store/db.ts). Tests of initdb itself pass
// `template: null`.
import type { PgliteOpenOptions } from '../../src/store/db';

export function testPglite(): PgliteOpenOptions {
  const template = process.env.CMK_TEST_PGLITE_TEMPLATE;
  if (!template) throw new Error('CMK_TEST_PGLITE_TEMPLATE is not set: run the tests through jest.config.js (its globalSetup makes the template)');
  return { template };
}
