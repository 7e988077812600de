// Key identifiers as Key Vault and Managed HSM print them. Parsed strictly: the URL is what the
// service will dereference for the resource's whole life, so junk after it is a mistake, not a detail.

export interface KeyRef {
  kind: 'vault' | 'managedHsm';
  /** Vault or HSM name (the first DNS label). */
  vaultName: string;
  host: string;
  keyName: string;
  version?: string;
  /** The canonical form we send to ARM: no port, no trailing slash. */
  url: string;
  /** The same without its version: the key as it rotates (`https://<host>/keys/<name>`). */
  versionless: string;
}

export type KeyUrlParse = { ok: true; ref: KeyRef } | { ok: false; reason: string };

const HOSTS: Array<{ suffix: string; kind: KeyRef['kind'] }> = [
  { suffix: '.vault.azure.net', kind: 'vault' },
  { suffix: '.managedhsm.azure.net', kind: 'managedHsm' },
];

export function parseKeyUrl(input: string): KeyUrlParse {
  const raw = input.trim();
  if (raw === '') return { ok: false, reason: 'the key URL is empty' };
  if (/\s/.test(raw)) return { ok: false, reason: 'the key URL contains spaces' };
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { ok: false, reason: 'it is not a URL' };
  }
  if (u.protocol !== 'https:') return { ok: false, reason: `it must use https, not ${u.protocol.replace(':', '')}` };
  if (u.username || u.password) return { ok: false, reason: 'it must not carry credentials' };
  if (u.search || raw.includes('?')) return { ok: false, reason: 'it must not have a query string' };
  if (u.hash || raw.includes('#')) return { ok: false, reason: 'it must not have a fragment' };
  if (u.port && u.port !== '443') return { ok: false, reason: `port ${u.port} is not Key Vault's` };
  const host = u.hostname.toLowerCase();
  const match = HOSTS.find((h) => host.endsWith(h.suffix));
  if (!match) return { ok: false, reason: `the host ${host} is not a Key Vault (*.vault.azure.net) or Managed HSM (*.managedhsm.azure.net)` };
  const vaultName = host.slice(0, -match.suffix.length);
  if (!/^[a-z0-9](?:[a-z0-9-]{1,22}[a-z0-9])$/.test(vaultName) || vaultName.includes('--')) {
    return { ok: false, reason: `"${vaultName}" is not a valid vault name (3-24 letters, digits and single hyphens)` };
  }
  const parts = u.pathname.replace(/\/$/, '').split('/').slice(1);
  if (parts[0] !== 'keys' || parts.length < 2 || parts.length > 3) {
    return { ok: false, reason: 'the path must be /keys/{name} or /keys/{name}/{version}' };
  }
  const keyName = parts[1]!;
  if (!/^[a-zA-Z0-9-]{1,127}$/.test(keyName)) return { ok: false, reason: `"${keyName}" is not a valid key name` };
  const version = parts[2];
  if (version !== undefined && !/^[a-fA-F0-9]{32}$/.test(version)) {
    return { ok: false, reason: `"${version}" is not a key version (32 hexadecimal characters)` };
  }
  const versionless = `https://${host}/keys/${keyName}`;
  const url = `${versionless}${version ? `/${version}` : ''}`;
  // The URL parser forgives what the service will not see: dot segments, backslashes, a missing
  // "//", full-width dots and invisible characters in the host. The payload carries the text as
  // typed, so it must already be the key checked here (host case, :443 and a trailing slash aside).
  const written = /^https:\/\/([^/]*?)(?::443)?(\/[^?#]*?)\/?$/i.exec(raw);
  if (!written || written[1]!.toLowerCase() !== host || written[2] !== url.slice(`https://${host}`.length)) {
    return { ok: false, reason: `it must be spelled exactly as Key Vault prints it (https://<vault>.vault.azure.net/keys/<name>[/<version>]); as typed it only becomes ${url} after URL clean-up` };
  }
  return { ok: true, ref: { kind: match.kind, vaultName, host, keyName, version, url, versionless } };
}
