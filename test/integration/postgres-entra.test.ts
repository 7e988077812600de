// DATABASE_AUTH=entra against a real PostgreSQL server that checks passwords (scram-sha-256): the
// bot's role accepts only the access token our fake Azure identity currently issues, as Azure
// Database for PostgreSQL accepts only a current Entra token. The token rotates: a connection
// opened afterwards logs in with the new one, without restarting anything. Our own server
// (test/helpers/pg-cluster.ts): the machine's shared PostgreSQL trusts every login.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { Client } from 'pg';
import { POSTGRES_TOKEN_SCOPE, postgresPassword } from '../../src/azure/postgres-token';
import { openStore } from '../../src/azure/open-store';
import { openPostgres, type Database } from '../../src/store/db';
import { describeWithPostgres, startPgCluster, type PgCluster } from '../helpers/pg-cluster';

/** An Azure identity that issues the token it holds now, and says which scopes it was asked for. */
class RotatingCredential implements TokenCredential {
  asked: string[] = [];
  constructor(public token: string) {}
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    this.asked.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: this.token, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

// A token-shaped password (an Entra access token is a JWT of this alphabet, much longer).
const tokenLike = (n: number) => `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${Buffer.from(`token-${n}-${Math.random()}`).toString('base64url')}.${'s'.repeat(300)}`;

describeWithPostgres('postgres-entra.test', 'DATABASE_AUTH=entra: the pool logs in with the identity’s current token', () => {
  let pg: PgCluster;
  let db: Database | undefined;
  const lost: string[] = [];

  beforeAll(async () => {
    pg = await startPgCluster();
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await pg?.destroy();
  }, 60_000);

  it('a new connection asks for the token again and logs in with the rotated one', async () => {
    const first = tokenLike(1);
    await pg.admin(`CREATE ROLE "id-cmk-chatops" LOGIN PASSWORD '${first}'`);
    const credential = new RotatingCredential(first);
    // The URL carries no password, as the template deploys it.
    db = await openPostgres(pg.url({ user: 'id-cmk-chatops', password: undefined }), { max: 2, password: postgresPassword(credential), onConnectionError: (e) => lost.push(e.message) });
    const who = await db.query<{ u: string }>('SELECT current_user AS u');
    expect(who[0]!.u).toBe('id-cmk-chatops');
    expect(credential.asked).toEqual([POSTGRES_TOKEN_SCOPE]);

    // The identity's token rotates; the server now accepts only the new one.
    const second = tokenLike(2);
    await pg.admin(`ALTER ROLE "id-cmk-chatops" PASSWORD '${second}'`);
    credential.token = second;
    const stale = new Client({ connectionString: pg.url({ user: 'id-cmk-chatops', password: first }) });
    await expect(stale.connect()).rejects.toThrow(/password authentication failed/);
    // The open connection stays usable (the token is checked only at login)…
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(credential.asked).toHaveLength(1);
    // …until the server drops it; the next query opens a new connection with the current token.
    await pg.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'id-cmk-chatops'`);
    for (let i = 0; i < 500 && !lost.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lost.length).toBe(1);
    expect(await db.query<{ u: string }>('SELECT current_user AS u')).toEqual([{ u: 'id-cmk-chatops' }]);
    expect(credential.asked).toEqual([POSTGRES_TOKEN_SCOPE, POSTGRES_TOKEN_SCOPE]);
    const sessions = await pg.admin<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'id-cmk-chatops'`);
    expect(Number(sessions[0]!.n)).toBe(1);
  }, 60_000);

  it('the operator scripts open the database as the bot does: DATABASE_AUTH=entra logs in with the identity’s token', async () => {
    const token = tokenLike(3);
    await pg.admin(`CREATE ROLE "id-cmk-operator" LOGIN PASSWORD '${token}'`);
    // Opening the store migrates the schema, as the bot's identity (the Entra administrator) may.
    await pg.admin(`GRANT USAGE, CREATE ON SCHEMA public TO "id-cmk-operator"`);
    const credential = new RotatingCredential(token);
    // What `npm run audit:verify` / `audit:export` call with the loaded configuration.
    const store = await openStore({ kind: 'postgres', url: pg.url({ user: 'id-cmk-operator', password: undefined }), poolMax: 1, auth: 'entra' }, { credential });
    try {
      expect(await store.db.query<{ u: string }>('SELECT current_user AS u')).toEqual([{ u: 'id-cmk-operator' }]);
      expect(credential.asked).toEqual([POSTGRES_TOKEN_SCOPE]);
    } finally {
      await store.close();
    }
    // With DATABASE_AUTH=password the URL's (absent) password is used, and the server refuses it.
    await expect(openStore({ kind: 'postgres', url: pg.url({ user: 'id-cmk-operator', password: undefined }), poolMax: 1, auth: 'password' }, { credential })).rejects.toThrow(/password/);
  }, 60_000);

  it('an identity that issues no token is an error, never a login with an empty password', async () => {
    const none: TokenCredential = { getToken: async () => null };
    await expect(openPostgres(pg.url({ user: 'id-cmk-chatops', password: undefined }), { max: 1, password: postgresPassword(none) })).rejects.toThrow(/returned no access token for https:\/\/ossrdbms-aad\.database\.windows\.net\/\.default/);
  }, 30_000);
});
