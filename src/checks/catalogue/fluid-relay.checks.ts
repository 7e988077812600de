// Fluid Relay rules (seed doc): CMK only at creation, never disabled, key changes only while the
// configured key version still works.
import { defineCheck, fail, info, pass, type Change } from '../types';

/** The key URL a server (or a write's payload) names for CMK. */
export const cmkOf = (r: { properties?: unknown } | null | undefined) =>
  ((r?.properties as { encryption?: unknown } | undefined)?.encryption as { customerManagedKeyEncryption?: { keyEncryptionKeyUrl?: string } } | undefined)?.customerManagedKeyEncryption?.keyEncryptionKeyUrl || undefined;

/** `create`: the server must not exist yet; otherwise (a key change, a review) it must already have CMK. */
export function fluidRelayCreateOnly({ change }: { change: Change }) {
  return defineCheck({
    id: 'fluidrelay.create-only',
    title: 'CMK is set when the server is created',
    needs: ['existing'],
    evaluate: ({ existing }, { subject }) => {
      const name = subject.resourceId.split('/').pop();
      if (change === 'create') {
        if (!existing) return pass(`Server ${name} does not exist yet; CMK will be set at creation.`, { exists: false });
        return cmkOf(existing)
          ? fail(`Server ${name} already exists with CMK. Use \`rotate\` to change its key or identity.`, `Change the key with a rotate request, or choose a new server name.`, { exists: true, cmk: true })
          : fail(`Server ${name} already exists without CMK, and Fluid Relay can only enable CMK when a server is created.`, 'Create a new server with CMK (choose another name) and move your clients to it.', { exists: true, cmk: false });
      }
      if (!existing) return fail(`Server ${name} was not found.`, 'Check the resource id.', { exists: false });
      return cmkOf(existing)
        ? pass('The server has CMK.', { cmk: true })
        : fail('This server has no customer-managed key, and CMK can only be enabled when a server is created.', 'Create a new server with `new fluid-relay` and move your clients to it.', { cmk: false });
    },
  });
}

/** An `update` whose payload leaves a server that has CMK without it is refused; anything else is not a change to CMK at all. */
export function fluidRelayNoDisable({ change }: { change: Change }) {
  return defineCheck({
    id: 'fluidrelay.no-disable',
    title: 'CMK is never removed',
    needs: ['existing'],
    evaluate: ({ existing }, { subject }) => {
      if (change !== 'update') return info('Not a change to an existing server.');
      const removesCmk = subject.payload !== undefined && !cmkOf(subject.payload);
      if (removesCmk && cmkOf(existing)) {
        return fail('This change would remove the customer-managed key; Fluid Relay CMK cannot be disabled once enabled.', 'Keep the key settings; to change the key use rotate with a new key URL.', { removesCmk: true });
      }
      return pass('CMK stays enabled.', { removesCmk: false });
    },
  });
}

/** Before a key change (not at `create`), the key the server uses now must still work. */
export function fluidRelayPreviousKeyAlive({ change }: { change: Change }) {
  return defineCheck({
    id: 'fluidrelay.previous-key-alive',
    title: 'The key the server uses now still works',
    needs: ['existing', 'currentKey'],
    evaluate: ({ existing, currentKey }, { now }) => {
      if (change === 'create' || !cmkOf(existing)) return info('No key configured yet.');
      if (!currentKey) return info(`The configured key ${cmkOf(existing)} cannot be read through ARM (e.g. a Managed HSM); make sure it is enabled before changing keys.`);
      const label = `${currentKey.ref.keyName}${currentKey.ref.version ? ` version ${currentKey.ref.version}` : ''}`;
      const k = currentKey.version ?? currentKey.key;
      if (!k) return fail(`The configured key ${label} no longer exists; the server cannot unwrap its data.`, `Recover it: az keyvault key recover --vault-name ${currentKey.ref.vaultName} --name ${currentKey.ref.keyName}`, { key: label });
      const a = k.properties.attributes ?? {};
      const nowS = Math.floor(now.getTime() / 1000);
      if (a.enabled === false || (a.exp !== undefined && a.exp <= nowS)) {
        return fail(
          `The configured key ${label} is ${a.enabled === false ? 'disabled' : `expired (${new Date(a.exp! * 1000).toISOString()})`}; Fluid Relay refuses key changes until it works again.`,
          `Re-enable it or extend its expiry first: az keyvault key set-attributes --vault-name ${currentKey.ref.vaultName} --name ${currentKey.ref.keyName}${currentKey.ref.version ? ` --version ${currentKey.ref.version}` : ''} --enabled true --expires <date>`,
          { key: label, enabled: a.enabled ?? null },
        );
      }
      return pass(`The configured key ${label} is enabled and not expired.`, { key: label });
    },
  });
}
