// Key checks (prerequisites.md "Key"): the URL, the key's type, state and lifetime.
import { defineCheck, fail, pass, warn } from '../types';
import type { KeyFact } from '../facts';

const DAY = 86_400;
const iso = (unixSeconds: number | undefined) => (unixSeconds === undefined ? null : new Date(unixSeconds * 1000).toISOString());
const keyLabel = (name: string, version?: string) => (version ? `${name} (version ${version})` : name);

export const keyUrlFormat = defineCheck({
  id: 'key.url-format',
  title: 'Key URL is a Key Vault key identifier',
  needs: ['keyRef', 'keyRefProblem'],
  evaluate: ({ keyRef, keyRefProblem }, { subject }) => {
    if (!keyRef) {
      return fail(
        `The key URL is not usable: ${keyRefProblem ?? 'unknown problem'}.`,
        'Copy the key identifier from the portal (Key vault → Keys → your key → Key Identifier), e.g. https://myvault.vault.azure.net/keys/mykey or …/mykey/<32-hex version>.',
        { keyUrl: subject.keyUrl },
      );
    }
    return pass(keyRef.version ? `Pinned to version ${keyRef.version} of ${keyRef.keyName}.` : `Versionless URL for ${keyRef.keyName} (auto-rotation).`, {
      keyUrl: keyRef.url,
      vault: keyRef.vaultName,
      version: keyRef.version ?? 'latest',
    });
  },
});

/** The key material the resource will use: the pinned version, else the current one. */
function effective(key: KeyFact | null, version: KeyFact | null): KeyFact | null {
  return version ?? key;
}

const keyMissing = (keyRef: { keyName: string; vaultName: string; version?: string } | null, vaultId: string | null) =>
  !keyRef
    ? fail('No key to inspect: the key URL is not usable.', 'Fix the key URL first (see key.url-format).')
    : !vaultId
      ? fail(
          `Vault ${keyRef.vaultName} was not found in this subscription.`,
          `Check the vault name, or that it is in the subscription you chose: az keyvault show --name ${keyRef.vaultName}`,
          { vault: keyRef.vaultName },
        )
      : fail(
          `Key ${keyLabel(keyRef.keyName, keyRef.version)} was not found in vault ${keyRef.vaultName}.`,
          `List the keys and versions: az keyvault key list-versions --vault-name ${keyRef.vaultName} --name ${keyRef.keyName}`,
          { vault: keyRef.vaultName, key: keyRef.keyName, version: keyRef.version ?? 'latest' },
        );

export const keyType = defineCheck({
  id: 'key.type',
  title: 'Key is RSA (2048, 3072 or 4096 bits)',
  needs: ['keyRef', 'vaultId', 'key', 'keyVersion'],
  evaluate: ({ keyRef, vaultId, key, keyVersion }) => {
    const k = effective(key, keyVersion);
    if (!k || (keyRef?.version && !keyVersion)) return keyMissing(keyRef, vaultId);
    const kty = k.properties.kty ?? key?.properties.kty ?? 'unknown';
    const size = k.properties.keySize ?? key?.properties.keySize;
    const evidence = { kty, keySize: size ?? null, curveName: k.properties.curveName ?? null };
    if (kty !== 'RSA' && kty !== 'RSA-HSM') {
      return fail(
        `Key ${keyRef!.keyName} is ${kty}; customer-managed keys need RSA because ${kty} keys cannot wrap and unwrap.`,
        `Create an RSA key and use it instead: az keyvault key create --vault-name ${keyRef!.vaultName} --name <new-key> --kty RSA --size 3072`,
        evidence,
      );
    }
    if (size !== undefined && ![2048, 3072, 4096].includes(size)) {
      return fail(`Key size ${size} is not supported; use 2048, 3072 or 4096 bits.`, `Create a new RSA key of 2048, 3072 or 4096 bits.`, evidence);
    }
    return pass(`${kty} key${size ? ` of ${size} bits` : ''}.`, evidence);
  },
});

export const keyEnabled = defineCheck({
  id: 'key.enabled',
  title: 'Key is enabled and already active',
  needs: ['keyRef', 'vaultId', 'key', 'keyVersion'],
  evaluate: ({ keyRef, vaultId, key, keyVersion }, { now }) => {
    if (!key || (keyRef?.version && !keyVersion)) return keyMissing(keyRef, vaultId);
    const nowS = Math.floor(now.getTime() / 1000);
    const candidates: Array<[string, KeyFact]> = [['key', key]];
    if (keyVersion) candidates.push([`version ${keyRef!.version}`, keyVersion]);
    for (const [label, k] of candidates) {
      const a = k.properties.attributes ?? {};
      const evidence = { which: label, enabled: a.enabled ?? null, nbf: iso(a.nbf) };
      if (a.enabled === false) {
        return fail(
          `The ${label} of ${keyRef!.keyName} is disabled; the service could not wrap or unwrap with it.`,
          `Enable it: az keyvault key set-attributes --vault-name ${keyRef!.vaultName} --name ${keyRef!.keyName}${label.startsWith('version') ? ` --version ${keyRef!.version}` : ''} --enabled true`,
          evidence,
        );
      }
      if (a.nbf !== undefined && a.nbf > nowS) {
        return fail(
          `The ${label} of ${keyRef!.keyName} is not active until ${iso(a.nbf)}.`,
          'Wait until the activation date, or choose a key version that is already active.',
          evidence,
        );
      }
    }
    return pass(`Enabled${keyVersion ? ' (key and pinned version)' : ''}.`, { enabled: true });
  },
});

export const keyNotExpired = defineCheck({
  id: 'key.not-expired',
  title: 'Key has not expired and is not about to',
  needs: ['keyRef', 'vaultId', 'key', 'keyVersion'],
  evaluate: ({ keyRef, vaultId, key, keyVersion }, { now, expiryWarningDays }) => {
    const k = effective(key, keyVersion);
    if (!k || (keyRef?.version && !keyVersion)) return keyMissing(keyRef, vaultId);
    const exp = k.properties.attributes?.exp;
    const nowS = Math.floor(now.getTime() / 1000);
    if (exp === undefined) return pass('No expiry date is set.', { exp: null });
    const evidence = { exp: iso(exp), daysLeft: Math.floor((exp - nowS) / DAY) };
    if (exp <= nowS) {
      return fail(
        `Key ${keyLabel(keyRef!.keyName, keyRef!.version)} expired on ${iso(exp)}; the service would lose access to your data.`,
        keyRef!.version
          ? `Use a current version (az keyvault key list-versions --vault-name ${keyRef!.vaultName} --name ${keyRef!.keyName}) or rotate the key.`
          : `Rotate the key (az keyvault key rotate --vault-name ${keyRef!.vaultName} --name ${keyRef!.keyName}) or extend its expiry.`,
        evidence,
      );
    }
    if (exp - nowS <= expiryWarningDays * DAY) {
      return warn(
        `Key expires on ${iso(exp)}, within ${expiryWarningDays} days.`,
        `Rotate it or extend the expiry before then: az keyvault key set-attributes --vault-name ${keyRef!.vaultName} --name ${keyRef!.keyName} --expires <date>`,
        evidence,
      );
    }
    return pass(`Expires on ${iso(exp)}.`, evidence);
  },
});
