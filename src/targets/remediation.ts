// What the remediation targets share: they change one setting of an existing resource (a vault, a
// storage account), so their checks read that resource (`existing`) and the bot's right to write it.
import type { ArmResource } from '../azure/port';
import { grants } from '../checks/rbac';
import { defineCheck, fail, pass } from '../checks/types';
import { resourceIdPattern } from '../domain/resource-id';
import { resourceIdField } from './fields';

export const KEY_VAULT_API = '2024-11-01';
/** Group 1 is the subscription. A vault name: 3-24 letters, digits and single hyphens, starting with a letter, ending with a letter or digit. */
export const VAULT_ID = resourceIdPattern('Microsoft\\.KeyVault', 'vaults', '[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,22}[a-zA-Z0-9]');
export const vaultField = () => resourceIdField('Key vault', VAULT_ID, 'Key vault must be the resource id of a key vault');
export const nameOf = (id: string) => id.split('/').pop() ?? '';

/** The bot may write the resource: `action` at its resource group (no identity is assigned by these changes). */
export function botMayWrite(action: string) {
  return defineCheck({
    id: 'bot.can-write',
    title: 'The bot may make this change',
    needs: ['botRightsAtTarget'],
    evaluate: ({ botRightsAtTarget }, { subject }) => {
      const rg = subject.resourceId.split('/').slice(0, 5).join('/');
      const canWrite = grants(botRightsAtTarget, action, 'control');
      const evidence = { writeAction: action, canWrite, scope: rg };
      return canWrite
        ? pass('The bot may write the resource.', evidence)
        : fail(`The bot's identity lacks ${action} at ${rg}, so Azure would refuse the change after approval.`, `Give the bot's identity the cmk-chatops role (docs/operations.md) at ${rg}.`, evidence);
    },
  });
}

/** The resource the change is for exists (it is read with the target's api-version). */
export function resourceExists(id: string, what: string) {
  return defineCheck({
    id,
    title: `The ${what} exists`,
    needs: ['existing'],
    evaluate: ({ existing }, { subject }) =>
      existing
        ? pass(`${what[0]!.toUpperCase()}${what.slice(1)} ${existing.name}.`, { resourceId: existing.id })
        : fail(`${subject.resourceId} was not found (or the bot cannot read it).`, `Pick an existing ${what}.`, { resourceId: subject.resourceId }),
  });
}

/** A vault's properties as the remediations read them. */
export interface VaultProps {
  enableSoftDelete?: boolean;
  enablePurgeProtection?: boolean;
  networkAcls?: { defaultAction?: string; bypass?: string; ipRules?: Array<{ value: string }>; virtualNetworkRules?: Array<{ id: string; ignoreMissingVnetServiceEndpoint?: boolean }> };
}
export const vaultProps = (r: ArmResource | null | undefined): VaultProps => (r?.properties ?? {}) as VaultProps;
