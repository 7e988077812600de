// Valid form submissions against the seeded simulator tenant: the happy path of each target,
// with overrides for the case at hand.
import { SIM_CHAOS_CONTAINER, SIM_IDENTITY, SIM_KEY, SIM_LOCATION, SIM_RBAC_VAULT, SIM_RG, SIM_STORAGE_CMK, SIM_SUBSCRIPTION_ID, simChaosVmTargetId, simIdentityId, simKeyUrl, simStorageId } from '../../src/simulator';

export type FormData = Record<string, string> & { targetType: string; name: string };

/** A Fluid Relay server with CMK (key kv-cmk-rbac/fluid-cmk, auto-rotation, identity id-fluid-cmk). */
export function fluidRelayForm(name: string, over: Record<string, string> = {}): FormData {
  return {
    targetType: 'fluid-relay',
    subscriptionId: SIM_SUBSCRIPTION_ID,
    resourceGroup: SIM_RG,
    name,
    location: SIM_LOCATION,
    identityId: simIdentityId(SIM_IDENTITY),
    keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
    keyVersion: 'latest',
    storagesku: 'basic',
    ...over,
  } as FormData;
}

/** A Chaos Studio experiment (VM shutdown template) whose data lives in the CMK storage account. */
export function chaosExperimentForm(name: string, over: Record<string, string> = {}): FormData {
  return {
    targetType: 'chaos-experiment',
    subscriptionId: SIM_SUBSCRIPTION_ID,
    resourceGroup: SIM_RG,
    name,
    location: SIM_LOCATION,
    identityId: simIdentityId(SIM_IDENTITY),
    storageAccountId: simStorageId(SIM_STORAGE_CMK),
    blobContainerName: SIM_CHAOS_CONTAINER,
    template: 'vm-shutdown',
    targetResourceId: simChaosVmTargetId(),
    definition: '',
    ...over,
  } as FormData;
}
