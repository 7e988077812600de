// A throwaway database on the machine's PostgreSQL (127.0.0.1:5432, trust auth; CMK_TEST_PG_ADMIN_URL
// names another server), for tests of several stores or replicas on one database. Not the tests that
// stop and start a server: those have their own (test/helpers/pg-cluster.ts).
import { Client } from 'pg';

const ADMIN_URL = process.env.CMK_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

/** SQL on the server's admin database (a plain client: the bot's tables are never made there). */
async function admin(text: string): Promise<void> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/**
 * A new database named `<prefix>_<unique>`. Where PostgreSQL is not reachable: undefined, said
 * loudly, on a developer's machine; in CI (which has it) the test fails.
 */
export async function throwawayDatabase(prefix: string, who: string): Promise<ThrowawayDatabase | undefined> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (e) {
    if (process.env.CI) throw e;
    console.warn(`${who}: PostgreSQL not reachable at ${ADMIN_URL} (${(e as Error).message}); skipped`);
    return undefined;
  }
  return {
    url: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
