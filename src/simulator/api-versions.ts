// The api-versions ARM accepts for each resource type the simulator serves, as published in
// Azure's REST specs (docs/simulator.md cites the source of each list), and the error ARM gives
// for any other version: which depends on the kind of type, not on the provider.

/**
 * - tracked: a resource type with a location (vaults, storage accounts…): ARM answers an unknown
 *   version with 400 NoRegisteredProviderFound, naming the location and the supported versions.
 * - proxy: a location-less type (child and extension resources, operation statuses): 404
 *   InvalidResourceType naming the supported versions.
 * - arm: ARM's own endpoints (subscriptions, resource groups, providers): 400
 *   InvalidApiVersionParameter naming the supported versions.
 */
export type ApiVersionKind = 'tracked' | 'proxy' | 'arm';

/** The tracked (located) types the simulator serves, by the name api-version errors give them. */
export const TRACKED_TYPES: ReadonlySet<string> = new Set(['vaults', 'managedhsms', 'storageaccounts', 'userassignedidentities', 'fluidrelayservers', 'experiments']);

const since = (all: readonly string[], first: string): string[] => all.slice(all.indexOf(first));

// Microsoft.Resources (ARM itself): the list ARM returns in InvalidApiVersionParameter, plus
// 2025-04-01 (Resources spec stable/2025-04-01, @azure/arm-resources 7's default). The malformed
// legacy entry '2014-04' ARM also lists is left out.
export const RESOURCES_API_VERSIONS = [
  '2013-03-01',
  '2014-01-01',
  '2014-02-26',
  '2014-04-01',
  '2014-04-01-preview',
  '2015-01-01',
  '2015-11-01',
  '2016-02-01',
  '2016-06-01',
  '2016-07-01',
  '2016-09-01',
  '2017-03-01',
  '2017-05-01',
  '2017-05-10',
  '2017-06-01',
  '2017-08-01',
  '2017-12-01',
  '2018-01-01',
  '2018-02-01',
  '2018-05-01',
  '2018-06-01',
  '2018-07-01',
  '2018-08-01',
  '2018-09-01',
  '2018-11-01',
  '2019-03-01',
  '2019-05-01',
  '2019-05-10',
  '2019-06-01',
  '2019-07-01',
  '2019-08-01',
  '2019-09-01',
  '2019-10-01',
  '2019-11-01',
  '2020-01-01',
  '2020-05-01',
  '2020-06-01',
  '2020-07-01',
  '2020-08-01',
  '2020-09-01',
  '2020-10-01',
  '2021-01-01',
  '2021-04-01',
  '2022-01-01',
  '2022-03-01-preview',
  '2022-05-01',
  '2022-06-01',
  '2022-09-01',
  '2022-11-01-preview',
  '2022-12-01',
  '2023-03-01-preview',
  '2023-07-01',
  '2023-07-01-preview',
  '2024-03-01',
  '2024-06-01-preview',
  '2024-08-01',
  '2025-04-01',
] as const;

// Microsoft.KeyVault (learn.microsoft.com/azure/templates/microsoft.keyvault/allversions; the
// 2026-02-01 spec's TypeSpec versions as compiled into @azure/arm-keyvault 5).
const KEYVAULT_ALL = [
  '2015-06-01',
  '2016-10-01',
  '2018-02-14-preview',
  '2018-02-14',
  '2019-09-01',
  '2020-04-01-preview',
  '2021-04-01-preview',
  '2021-06-01-preview',
  '2021-10-01',
  '2021-11-01-preview',
  '2022-02-01-preview',
  '2022-07-01',
  '2022-11-01',
  '2023-02-01',
  '2023-07-01',
  '2024-04-01-preview',
  '2024-11-01',
  '2024-12-01-preview',
  '2025-05-01',
  '2026-02-01',
  '2026-03-01-preview',
] as const;
export const KEYVAULT_VAULT_VERSIONS = [...KEYVAULT_ALL];
/** vaults/keys and vaults/keys/versions appeared in 2019-09-01. */
export const KEYVAULT_KEY_VERSIONS = since(KEYVAULT_ALL, '2019-09-01');
export const KEYVAULT_MHSM_VERSIONS = since(KEYVAULT_ALL, '2020-04-01-preview');
/** managedHSMs/keys and managedHSMs/keys/versions appeared in 2022-11-01. */
export const KEYVAULT_MHSM_KEY_VERSIONS = since(KEYVAULT_ALL, '2022-11-01');

// Microsoft.Storage (learn.microsoft.com/azure/templates/microsoft.storage/allversions, up to
// 2025-06-01; 2025-08-01 … 2026-09-01 from the spec's TypeSpec versions, stable/2026-09-01, as
// compiled into @azure/arm-storage 20 / 21).
const STORAGE_ALL = [
  '2015-05-01-preview',
  '2015-06-15',
  '2016-01-01',
  '2016-05-01',
  '2016-12-01',
  '2017-06-01',
  '2017-10-01',
  '2018-02-01',
  '2018-03-01-preview',
  '2018-07-01',
  '2018-11-01',
  '2019-04-01',
  '2019-06-01',
  '2020-08-01-preview',
  '2021-01-01',
  '2021-02-01',
  '2021-04-01',
  '2021-06-01',
  '2021-08-01',
  '2021-09-01',
  '2022-05-01',
  '2022-09-01',
  '2023-01-01',
  '2023-04-01',
  '2023-05-01',
  '2024-01-01',
  '2025-01-01',
  '2025-06-01',
  '2025-08-01',
  '2026-04-01',
  '2026-06-01',
  '2026-09-01',
] as const;
export const STORAGE_ACCOUNT_VERSIONS = [...STORAGE_ALL];
/** storageAccounts/blobServices/containers appeared in 2018-02-01. */
export const STORAGE_CONTAINER_VERSIONS = since(STORAGE_ALL, '2018-02-01');

// Microsoft.FluidRelay: the versions the simulator models (stable/2022-06-01 with encryption,
// preview/2025-06-20-preview); the older ones (before CMK existed) are not served.
export const FLUID_RELAY_VERSIONS = ['2022-06-01', '2025-06-20-preview'] as const;

// Microsoft.Chaos/experiments: customerDataStorage only in these previews (the CMK model)…
export const CHAOS_PREVIEW_VERSIONS = ['2023-10-27-preview', '2024-03-22-preview'] as const;
/** …and the versions without it: GA (2023-11-01 is @azure/arm-chaos 1's default) and earlier previews of the same model. */
export const CHAOS_GA_VERSIONS = ['2022-10-01-preview', '2023-04-15-preview', '2023-09-01-preview', '2023-11-01', '2024-01-01', '2025-01-01'] as const;
/**
 * …and the GA version that carries customerDataStorage again (Azure/azure-rest-api-specs
 * specification/chaos/…/stable/2026-11-01/examples/Experiments_CreateOrUpdate.json, Experiments_Get.json,
 * Experiments_Update.json; experiment.models.tsp: removed in 2025-01-01, added back in 2026-05-01-preview).
 * Its model is 2025-01-01's otherwise (common-types v5 identity, ExperimentUpdate = tags + identity).
 */
export const CHAOS_CDS_GA_VERSIONS = ['2026-11-01'] as const;
export const CHAOS_EXPERIMENT_VERSIONS = [...CHAOS_PREVIEW_VERSIONS, ...CHAOS_GA_VERSIONS, ...CHAOS_CDS_GA_VERSIONS] as const;

// Microsoft.ManagedIdentity (specification/msi stable/2018-11-30, 2023-01-31, 2024-11-30).
export const MSI_VERSIONS = ['2018-11-30', '2023-01-31', '2024-11-30'] as const;

// Microsoft.Authorization (learn.microsoft.com/azure/templates/microsoft.authorization/allversions
// and the supported list ARM gives in InvalidResourceType for roleAssignments).
export const ROLE_ASSIGNMENT_VERSIONS = ['2015-07-01', '2017-10-01-preview', '2018-01-01-preview', '2018-09-01-preview', '2020-03-01-preview', '2020-04-01-preview', '2020-08-01-preview', '2020-10-01-preview', '2022-04-01'] as const;
export const ROLE_DEFINITION_VERSIONS = ['2015-07-01', '2018-01-01-preview', '2022-04-01', '2022-05-01-preview'] as const;
export const PERMISSIONS_VERSIONS = ['2015-07-01', '2018-01-01-preview', '2022-04-01'] as const;

/**
 * The error ARM answers for an api-version the type does not support. `location` is where ARM
 * routes a tracked type (the body's, the resource's or its group's).
 */
export function unsupportedVersionError(
  kind: ApiVersionKind,
  opts: { namespace: string; type: string; apiVersion: string; supported: readonly string[]; location?: string },
): {
  status: number;
  code: string;
  message: string;
} {
  const list = [...opts.supported].reverse().join(', ');
  if (kind === 'arm') {
    return { status: 400, code: 'InvalidApiVersionParameter', message: `The api-version '${opts.apiVersion}' is invalid. The supported versions are '${list}'.` };
  }
  if (kind === 'tracked') {
    return {
      status: 400,
      code: 'NoRegisteredProviderFound',
      message: `No registered resource provider found for location '${opts.location ?? 'eastus'}' and API version '${opts.apiVersion}' for type '${opts.type}'. The supported api-versions are '${list}'. The supported locations are 'eastus, westus, westeurope'.`,
    };
  }
  return {
    status: 404,
    code: 'InvalidResourceType',
    message: `The resource type '${opts.type}' could not be found in the namespace '${opts.namespace}' for api version '${opts.apiVersion}'. The supported api-versions are '${list}'.`,
  };
}
