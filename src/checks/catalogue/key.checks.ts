// Key checks (prerequisites.md "Key"): the URL, the key's type, state and lifetime.
import { defineCheck, fail, hsmUnverifiable, info, pass, warn, type Change } from '../types';
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
      ? fail(`Vault ${keyRef.vaultName} was not found in any subscription the bot can read.`, `Check the vault name, and that the bot can read its subscription: az keyvault show --name ${keyRef.vaultName}`, { vault: keyRef.vaultName })
      : fail(`Key ${keyLabel(keyRef.keyName, keyRef.version)} was not found in vault ${keyRef.vaultName}.`, `List the keys and versions: az keyvault key list-versions --vault-name ${keyRef.vaultName} --name ${keyRef.keyName}`, {
          vault: keyRef.vaultName,
          key: keyRef.keyName,
          version: keyRef.version ?? 'latest',
        });

export const keyType = defineCheck({
  id: 'key.type',
  title: 'Key is RSA (2048, 3072 or 4096 bits)',
  needs: ['keyRef', 'vaultId', 'key', 'keyVersion'],
  evaluate: ({ keyRef, vaultId, key, keyVersion }) => {
    const hsm = hsmUnverifiable(keyRef, 'the key type');
    if (hsm) return hsm;
    const k = effective(key, keyVersion);
    if (!k || (keyRef?.version && !keyVersion)) return keyMissing(keyRef, vaultId);
    const kty = k.properties.kty ?? key?.properties.kty ?? 'unknown';
    const size = k.properties.keySize ?? key?.properties.keySize;
    const evidence = { kty, keySize: size ?? null, curveName: k.properties.curveName ?? null };
    if (kty !== 'RSA' && kty !== 'RSA-HSM') {
      return fail(
        `Key ${keyRef!.keyName} is ${kty}; customer-managed keys need RSA because ${kty} keys cannot wrap and unwrap.`,
        `Create an RSA key and use it instead: az keyvault key create --vault-name ${keyRef!.vaultName} --name ${keyRef!.keyName}-rsa --kty RSA --size 3072`,
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
    const hsm = hsmUnverifiable(keyRef, 'that the key is enabled');
    if (hsm) return hsm;
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
        return fail(`The ${label} of ${keyRef!.keyName} is not active until ${iso(a.nbf)}.`, 'Wait until the activation date, or choose a key version that is already active.', evidence);
      }
    }
    // The version the service will actually use: the pinned one, else the current one. Approvals bind to it.
    const inUse = keyRef!.version ?? (key.properties.keyUriWithVersion ?? '').split('/').pop() ?? null;
    return pass(`Enabled${keyVersion ? ' (key and pinned version)' : ''}.`, { enabled: true, keyVersion: inUse });
  },
});

export const keyNotExpired = defineCheck({
  id: 'key.not-expired',
  title: 'Key has not expired and is not about to',
  needs: ['keyRef', 'vaultId', 'key', 'keyVersion'],
  evaluate: ({ keyRef, vaultId, key, keyVersion }, { now, expiryWarningDays }) => {
    const hsm = hsmUnverifiable(keyRef, 'the key’s expiry');
    if (hsm) return hsm;
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
        `Rotate it or extend the expiry before then: az keyvault key set-attributes --vault-name ${keyRef!.vaultName} --name ${keyRef!.keyName} --expires ${new Date(now.getTime() + 365 * DAY * 1000).toISOString().slice(0, 10)}T00:00:00Z`,
        evidence,
      );
    }
    return pass(`Expires on ${iso(exp)}.`, evidence);
  },
});

export const keyVaultFound = defineCheck({
  id: 'key.vault-found',
  title: 'The key’s vault exists and the bot can read it',
  needs: ['keyRef', 'vaultId', 'vault'],
  evaluate: ({ keyRef, vaultId, vault }, { subject }) => {
    if (!keyRef) return fail('No vault to look for: the key URL is not usable.', 'Fix the key URL first (see key.url-format).');
    if (keyRef.kind === 'managedHsm') {
      return warn(
        `${keyRef.host} is a Managed HSM: its keys and role assignments live in the HSM's own data plane, which ARM cannot read, so the bot cannot verify the key's type, state or the identity's access.`,
        `Check them yourself: az keyvault key show --hsm-name ${keyRef.vaultName} --name ${keyRef.keyName}; az keyvault role assignment list --hsm-name ${keyRef.vaultName}`,
        { hsm: keyRef.vaultName },
      );
    }
    if (!vaultId || !vault) {
      return fail(
        `Vault ${keyRef.vaultName} was not found in subscription ${subject.subscriptionId} or any other subscription the bot can read.`,
        `Check the name (az keyvault show --name ${keyRef.vaultName}), and give the bot Reader on the vault's subscription or resource group.`,
        { vault: keyRef.vaultName, subscription: subject.subscriptionId },
      );
    }
    return pass(`Vault ${vault.name} (${vault.location}).`, { vaultId: vault.id, location: vault.location });
  },
});

export const keyOps = defineCheck({
  id: 'key.ops',
  title: 'Key allows wrapKey and unwrapKey',
  needs: ['keyRef', 'vaultId', 'key', 'keyVersion'],
  evaluate: ({ keyRef, vaultId, key, keyVersion }) => {
    const hsm = hsmUnverifiable(keyRef, 'the key’s operations');
    if (hsm) return hsm;
    const k = effective(key, keyVersion);
    if (!k || (keyRef?.version && !keyVersion)) return keyMissing(keyRef, vaultId);
    const ops = k.properties.keyOps ?? key?.properties.keyOps;
    const kty = k.properties.kty ?? key?.properties.kty ?? '';
    if (kty && !kty.startsWith('RSA')) {
      // Allowing wrapKey cannot help: the key type itself is the problem (key.type says what to do).
      return fail(`${kty} keys cannot wrap or unwrap at all, whatever operations are allowed.`, 'Use an RSA key instead (see key.type).', { kty, keyOps: (ops ?? []).join(', ') });
    }
    if (!ops) return pass('Key operations are not restricted.', { keyOps: 'all' });
    const missing = ['wrapKey', 'unwrapKey'].filter((o) => !ops.includes(o));
    if (missing.length) {
      return fail(
        `Key ${keyRef!.keyName} does not allow ${missing.join(' and ')}; the service wraps its data key with it.`,
        `Allow them: az keyvault key set-attributes --vault-name ${keyRef!.vaultName} --name ${keyRef!.keyName} --ops wrapKey unwrapKey encrypt decrypt`,
        { keyOps: ops.join(', ') },
      );
    }
    return pass('wrapKey and unwrapKey allowed.', { keyOps: ops.join(', ') });
  },
});

/** Pinned version or auto-rotation; an `update` that moves a pinned key to the versionless URL is warned about. */
export function keyVersionPolicy({ change }: { change: Change }) {
  return defineCheck({
    id: 'key.version-policy',
    title: 'Pinned version or automatic rotation',
    needs: ['keyRef', 'currentKey'],
    evaluate: ({ keyRef, currentKey }) => {
      if (!keyRef) return info('No key URL to judge.');
      if (change === 'update' && !keyRef.version && currentKey?.ref.version) {
        return warn(
          `Switching from pinned version ${currentKey.ref.version} to the versionless URL (auto-rotation). The service then checks the vault daily for new versions — but due to resource limitations this switch may fail.`,
          'If the change fails, pin the current key version explicitly instead and rotate manually with `rotate`.',
          { from: currentKey.ref.version, to: 'latest' },
        );
      }
      return keyRef.version
        ? warn(
            `Pinned to version ${keyRef.version}: new key versions are not picked up; after rotating the key you must update the resource to the new version, and the old version must stay enabled until then.`,
            'Plan key rotation with a `rotate` request, or choose "latest" for automatic rotation.',
            { version: keyRef.version },
          )
        : info('Versionless key URL: the service checks the vault daily and moves to the newest key version by itself. Switching an existing resource to auto-rotation can fail; if it does, pin a version instead.', { version: 'latest' });
    },
  });
}
