// Where tests open embedded PGlite: from the template test/global-setup.ts made for this run, as a
// built bot opens a new data folder from the build's (src/store/db.ts). Tests of initdb itself pass
// `template: null`. Outside jest (scripts/walkthrough-samples.ts, which plays the walkthrough through
// these helpers) there is no template: a new database is created by initdb, as `npm start` does.
import type { PgliteOpenOptions } from '../../src/store/db';

export function testPglite(): PgliteOpenOptions {
  const template = process.env.CMK_TEST_PGLITE_TEMPLATE;
  if (template) return { template };
  if (process.env.JEST_WORKER_ID) throw new Error('CMK_TEST_PGLITE_TEMPLATE is not set: run the tests through jest.config.js (its globalSetup makes the template)');
  return {};
}
