// Passwordless PostgreSQL (Azure Database for PostgreSQL with Microsoft Entra authentication): the
// password of each new connection is an access token of the bot's Azure identity for the
// PostgreSQL resource. PostgreSQL checks it only when a connection opens, so an open connection
// outlives its token; node-postgres asks for the password again for every new connection, and
// the credential hands out its cached token until shortly before it expires, then a new one.
// learn.microsoft.com/azure/postgresql/flexible-server/how-to-configure-sign-in-azure-ad-authentication
import type { TokenCredential } from '@azure/core-auth';

/** The scope of Azure Database for PostgreSQL (and MySQL) access tokens. */
export const POSTGRES_TOKEN_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

/**
 * The password function for the pool: a current token of `credential` (the one the ARM gateway
 * uses — DefaultAzureCredential, which honours AZURE_CLIENT_ID). No token is an error, never an
 * empty password.
 */
export function postgresPassword(credential: TokenCredential): () => Promise<string> {
  return async () => {
    const t = await credential.getToken(POSTGRES_TOKEN_SCOPE);
    if (!t?.token) throw new Error(`the Azure identity returned no access token for ${POSTGRES_TOKEN_SCOPE} (DATABASE_AUTH=entra)`);
    return t.token;
  };
}
