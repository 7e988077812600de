// The ARM reads checks depend on. Each fact is loaded at most once per run (memoised promise),
// and a fact waits only for the facts it needs, so a run costs the depth of this graph in round
// trips: subject → {vault lookup, identity} → {vault, key, key version} → role assignments → role definitions.
import { z } from 'zod';
import { type ArmGateway, type ArmResource, type GroupMembership, isArmError } from '../azure/port';
import { parseKeyUrl, type KeyRef } from './key-url';
import type { RolePermission } from './rbac';

export const API = {
  resources: '2021-04-01',
  keyVault: '2024-11-01',
  managedIdentity: '2024-11-30',
  authorization: '2022-04-01',
  subscriptions: '2022-12-01',
} as const;

/**
 * What the checks are about: one request's CMK configuration for one resource — facts about this
 * request only. How a target's checks judge it (what the write needs, whether purge protection is
 * required, where the key comes from) is the checks' own configuration (catalogue/index.ts).
 */
export interface CmkSubject {
  resourceId: string;
  subscriptionId: string;
  location: string;
  /** The key URL the request names ('' when the key is the storage account's own: see `keyFromStorageAccount`). */
  keyUrl: string;
  identityId: string;
  /** The identity type the payload names for CMK (UserAssigned expected). */
  cmkIdentityType?: string;
  /** Identities the resource will carry (payload identity.userAssignedIdentities keys). */
  assignedIdentityIds?: string[];
  /** The body the request would write (absent for a review). */
  payload?: Record<string, unknown>;
  /** Chaos: the storage account that holds the experiment's data, and its container. */
  storageAccountId?: string;
  blobContainerName?: string;
  /** Chaos: where the experiment's selectors reach — List targets (as the resources they act on) and Query selectors' subscriptions. Undefined: unknown. */
  reach?: Array<{ role: string; id: string }>;
}

/** Where the key the checks judge comes from. */
export type KeySource = { readonly from: 'url' } | { readonly from: 'storage-account' };
/** The key URL the request names (the default). */
export const keyFromUrl = (): KeySource => ({ from: 'url' });
/** The key the subject's storage account encrypts with (its CMK settings), not a URL in the request. */
export const keyFromStorageAccount = (): KeySource => ({ from: 'storage-account' });

/** How the resource itself is read: its api-version, and where its configuration names the key it uses now. */
export interface ResourceRead {
  apiVersion: string;
  /** Absent: the checks never look at a current key (`currentKey` is null). */
  currentKeyUrlOf?: (resource: ArmResource) => string | undefined;
}

/** How a run reads its configurable facts; what no check says is the default (the key URL; the resource at the generic api-version). */
export interface FactReads {
  key?: KeySource;
  resource?: ResourceRead;
}

export const STORAGE_API = '2025-01-01';

const storageSchema = z.object({
  id: z.string(),
  name: z.string(),
  location: z.string().optional(),
  identity: z
    .object({ type: z.string().optional(), userAssignedIdentities: z.record(z.string(), z.unknown()).optional() })
    .partial()
    .optional(),
  properties: z
    .object({
      publicNetworkAccess: z.string().optional(),
      networkAcls: z.object({ defaultAction: z.string().optional(), bypass: z.string().optional() }).partial().optional(),
      encryption: z
        .object({
          keySource: z.string().optional(),
          keyvaultproperties: z.object({ keyname: z.string().optional(), keyversion: z.string().nullish(), keyvaulturi: z.string().optional() }).partial().optional(),
          identity: z.object({ userAssignedIdentity: z.string().nullish() }).partial().optional(),
        })
        .partial()
        .optional(),
    })
    .partial()
    .optional(),
});
export type StorageFact = z.infer<typeof storageSchema>;

/** The key URL a storage account's CMK settings name (keyversion "" = the current version). */
export function storageKeyUrl(a: StorageFact | null): string | undefined {
  const kv = a?.properties?.encryption?.keyvaultproperties;
  if (!kv?.keyvaulturi || !kv.keyname) return undefined;
  return `${kv.keyvaulturi.replace(/\/+$/, '').replace(/:443$/, '')}/keys/${kv.keyname}${kv.keyversion ? `/${kv.keyversion}` : ''}`;
}

const attributes = z
  .object({
    enabled: z.boolean().optional(),
    nbf: z.number().optional(),
    exp: z.number().optional(),
    created: z.number().optional(),
    updated: z.number().optional(),
  })
  .partial();

export const keySchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  location: z.string().optional(),
  properties: z.object({
    attributes: attributes.optional(),
    kty: z.string().optional(),
    keyOps: z.array(z.string()).optional(),
    keySize: z.number().optional(),
    curveName: z.string().optional(),
    keyUri: z.string().optional(),
    keyUriWithVersion: z.string().optional(),
    rotationPolicy: z.unknown().optional(),
  }),
});
export type KeyFact = z.infer<typeof keySchema>;

export const vaultSchema = z.object({
  id: z.string(),
  name: z.string(),
  location: z.string(),
  properties: z.object({
    tenantId: z.string(),
    enableRbacAuthorization: z.boolean().optional(),
    enableSoftDelete: z.boolean().optional(),
    enablePurgeProtection: z.boolean().optional(),
    accessPolicies: z
      .array(
        z.object({
          tenantId: z.string(),
          objectId: z.string(),
          applicationId: z.string().nullish(),
          permissions: z.object({ keys: z.array(z.string()).optional() }).partial(),
        }),
      )
      .optional(),
    networkAcls: z.object({ bypass: z.string().optional(), defaultAction: z.string().optional() }).partial().optional(),
  }),
});
export type VaultFact = z.infer<typeof vaultSchema>;

export const identitySchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string().optional(),
  location: z.string(),
  properties: z.object({ principalId: z.string(), clientId: z.string().optional(), tenantId: z.string() }),
});
export type IdentityFact = z.infer<typeof identitySchema>;

export const roleAssignmentSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  properties: z.object({
    roleDefinitionId: z.string(),
    principalId: z.string(),
    scope: z.string().optional(),
    condition: z.string().nullish(),
    /** When the assignment was made (ISO 8601): new grants to a managed identity may not be effective yet. */
    createdOn: z.string().nullish(),
  }),
});
export type RoleAssignmentFact = z.infer<typeof roleAssignmentSchema>;

export const roleDefinitionSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  properties: z.object({
    roleName: z.string().optional(),
    permissions: z.array(
      z.object({
        actions: z.array(z.string()).optional(),
        notActions: z.array(z.string()).optional(),
        dataActions: z.array(z.string()).optional(),
        notDataActions: z.array(z.string()).optional(),
      }),
    ),
  }),
});
const permissionSchema = z.object({
  actions: z.array(z.string()).optional(),
  notActions: z.array(z.string()).optional(),
  dataActions: z.array(z.string()).optional(),
  notDataActions: z.array(z.string()).optional(),
});

export type RoleDefinitionFact = z.infer<typeof roleDefinitionSchema>;

const providerSchema = z.object({ namespace: z.string(), registrationState: z.string().optional() });
export type ProviderFact = z.infer<typeof providerSchema>;

/** The resource provider namespace and subscription of an ARM resource id (the last `/providers/{ns}` segment). */
export function providerOf(resourceId: string): { subscriptionId: string; namespace: string } | null {
  const segs = resourceId.split('/');
  const at = segs.map((x) => x.toLowerCase()).lastIndexOf('providers');
  const sub = /^\/subscriptions\/([^/]+)/i.exec(resourceId)?.[1];
  const ns = at >= 0 ? segs[at + 1] : undefined;
  return sub && ns ? { subscriptionId: sub, namespace: ns } : null;
}

export interface RoleGrant {
  assignment: RoleAssignmentFact;
  roleName: string;
  permissions: RolePermission[];
}

export interface KeyState {
  ref: KeyRef;
  key: KeyFact | null;
  version: KeyFact | null;
}

export interface Facts {
  keyRef: KeyRef | null;
  keyRefProblem: string | null;
  /** Resource id of the vault named by the key URL, or null when no readable subscription has it. */
  vaultId: string | null;
  vault: VaultFact | null;
  key: KeyFact | null;
  /** The pinned version when the URL names one (null when not pinned or not found). */
  keyVersion: KeyFact | null;
  identity: IdentityFact | null;
  /** RBAC grants for the identity's principal at or above the key (RBAC vaults only). */
  roleGrants: RoleGrant[];
  /** The resource as it exists now (null: it does not exist yet). */
  existing: ArmResource | null;
  /** The key the existing resource uses now (null: none configured or not readable by URL). */
  currentKey: KeyState | null;
  /** The bot's own effective rights at the target's resource group (ARM permissions API). */
  botRightsAtTarget: RolePermission[];
  /** The bot's own effective rights at the CMK identity (assign/action lives there). */
  botRightsAtIdentity: RolePermission[];
  /** Chaos: the storage account for customer data, its container, and the identity's rights on it. */
  storageAccount: StorageFact | null;
  container: { id: string } | null;
  blobGrants: RoleGrant[];
  /**
   * Groups the identity belongs to (Microsoft Graph, transitive), read only when an access-policy
   * vault has policies for other principals; [] when there is nothing to resolve.
   */
  identityGroups: GroupMembership;
  /** The target's resource provider in the target's subscription (Providers_Get); null: ARM does not know the namespace there. */
  provider: ProviderFact | null;
}

export type FactName = keyof Facts;

/** A read that failed for a reason other than "not there": the check becomes `error`. */
export class FactUnavailable extends Error {
  constructor(
    readonly fact: FactName,
    readonly code: string,
    message: string,
    readonly correlationId?: string,
  ) {
    super(message);
  }
}

async function orNull<T>(fact: FactName, p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (isArmError(e) && e.isNotFound) return null;
    if (isArmError(e)) throw new FactUnavailable(fact, e.code, e.message, e.correlationId);
    if (e instanceof z.ZodError) throw new FactUnavailable(fact, 'UnexpectedShape', `ARM answered with a shape the bot does not understand: ${e.issues[0]?.message ?? ''}`);
    throw e;
  }
}

/** Per-run fact loader: each fact (and each ARM path) is requested once. */
export class FactLoader {
  private readonly memo = new Map<FactName, Promise<unknown>>();
  private readonly reads = new Map<string, Promise<unknown>>();

  constructor(
    private readonly arm: ArmGateway,
    private readonly subject: CmkSubject,
    private readonly factReads: FactReads = {},
  ) {}

  /** GET once per (path, api-version) per run. */
  private read<T>(path: string, apiVersion: string, query?: Record<string, string>, list = false): Promise<T> {
    const key = `${list ? 'LIST' : 'GET'} ${path.toLowerCase()}?${apiVersion}&${JSON.stringify(query ?? {})}`;
    let p = this.reads.get(key) as Promise<T> | undefined;
    if (!p) {
      p = (list ? this.arm.list(path, apiVersion, query) : this.arm.get(path, apiVersion, query)) as Promise<T>;
      this.reads.set(key, p);
    }
    return p;
  }

  private async keyUrl(): Promise<string> {
    if (this.factReads.key?.from !== 'storage-account') return this.subject.keyUrl;
    return storageKeyUrl(await this.get('storageAccount')) ?? '';
  }

  /** Role assignments of a principal at or above `scope` — its own and its groups' —, with their role definitions resolved. */
  private async grantsFor(fact: FactName, scope: string, principalId: string): Promise<RoleGrant[]> {
    const assignments = await orNull(
      fact,
      // assignedTo() includes assignments to groups the principal belongs to (transitively);
      // principalId eq would miss access granted through a group.
      this.read<unknown[]>(`${scope}/providers/Microsoft.Authorization/roleAssignments`, API.authorization, { $filter: `assignedTo('${principalId}')` }, true).then((list) => list.map((a) => roleAssignmentSchema.parse(a))),
    );
    // Every assignment ARM returns applies to the principal (directly or through a group); keep those at or above the scope.
    const mine = (assignments ?? []).filter((a) => coversScope(a.properties.scope, scope));
    const grants = await Promise.all(
      mine.map(async (a) => {
        const def = await orNull(
          fact,
          this.read<unknown>(a.properties.roleDefinitionId, API.authorization).then((d) => roleDefinitionSchema.parse(d)),
        );
        return def ? { assignment: a, roleName: def.properties.roleName ?? def.name ?? 'custom role', permissions: def.properties.permissions } : null;
      }),
    );
    return grants.filter((g): g is RoleGrant => g !== null);
  }

  /**
   * Finds a vault by name (vault names are globally unique): in the request's subscription first,
   * then in every other subscription the bot can read — Storage and Chaos take a key from a vault
   * in another subscription, and Fluid Relay's own rules (region, tenant) are checks of their own.
   */
  private async vaultIdFor(vaultName: string, fact: FactName): Promise<string | null> {
    const filter = `resourceType eq 'Microsoft.KeyVault/vaults' and name eq '${vaultName}'`;
    const inSub = (sub: string) => orNull(fact, this.read<Array<{ id: string }>>(`/subscriptions/${sub}/resources`, API.resources, { $filter: filter }, true));
    const here = await inSub(this.subject.subscriptionId);
    if (here?.[0]?.id) return here[0].id;
    const subs = (await orNull(fact, this.read<Array<{ subscriptionId: string; state?: string }>>('/subscriptions', API.subscriptions, undefined, true))) ?? [];
    const others = subs.filter((s) => s.subscriptionId.toLowerCase() !== this.subject.subscriptionId.toLowerCase() && (!s.state || s.state === 'Enabled'));
    const found = await Promise.all(others.map((s) => inSub(s.subscriptionId)));
    return found.find((f) => f?.[0]?.id)?.[0]?.id ?? null;
  }

  private async permissions(fact: FactName, scope: string): Promise<RolePermission[]> {
    const list = await orNull(fact, this.read<unknown[]>(`${scope}/providers/Microsoft.Authorization/permissions`, API.authorization, undefined, true));
    return (list ?? []).map((p) => permissionSchema.parse(p));
  }

  get<K extends FactName>(name: K): Promise<Facts[K]> {
    let p = this.memo.get(name) as Promise<Facts[K]> | undefined;
    if (!p) {
      p = this.load(name);
      this.memo.set(name, p);
    }
    return p;
  }

  private async load<K extends FactName>(name: K): Promise<Facts[K]> {
    const f = await this.loadAny(name);
    return f as Facts[K];
  }

  private async loadAny(name: FactName): Promise<unknown> {
    switch (name) {
      case 'keyRef': {
        const r = parseKeyUrl(await this.keyUrl());
        return r.ok ? r.ref : null;
      }
      case 'keyRefProblem': {
        const r = parseKeyUrl(await this.keyUrl());
        return r.ok ? null : r.reason;
      }
      case 'storageAccount':
        if (!this.subject.storageAccountId) return null;
        return orNull(
          'storageAccount',
          this.read<unknown>(this.subject.storageAccountId, STORAGE_API).then((a) => storageSchema.parse(a)),
        );
      case 'container':
        if (!this.subject.storageAccountId || !this.subject.blobContainerName) return null;
        return orNull('container', this.read<{ id: string }>(`${this.subject.storageAccountId}/blobServices/default/containers/${this.subject.blobContainerName}`, STORAGE_API));
      case 'blobGrants': {
        const identity = await this.get('identity');
        if (!identity || !this.subject.storageAccountId) return [];
        const scope = `${this.subject.storageAccountId}/blobServices/default/containers/${this.subject.blobContainerName ?? 'default'}`;
        return this.grantsFor('blobGrants', scope, identity.properties.principalId);
      }
      case 'vaultId': {
        const ref = await this.get('keyRef');
        if (!ref || ref.kind !== 'vault') return null;
        return this.vaultIdFor(ref.vaultName, 'vaultId');
      }
      case 'vault': {
        const id = await this.get('vaultId');
        if (!id) return null;
        return orNull(
          'vault',
          this.read<unknown>(id, API.keyVault).then((v) => vaultSchema.parse(v)),
        );
      }
      case 'key': {
        const [id, ref] = await Promise.all([this.get('vaultId'), this.get('keyRef')]);
        if (!id || !ref) return null;
        return orNull(
          'key',
          this.read<unknown>(`${id}/keys/${ref.keyName}`, API.keyVault).then((k) => keySchema.parse(k)),
        );
      }
      case 'keyVersion': {
        const [id, ref] = await Promise.all([this.get('vaultId'), this.get('keyRef')]);
        if (!id || !ref?.version) return null;
        return orNull(
          'keyVersion',
          this.read<unknown>(`${id}/keys/${ref.keyName}/versions/${ref.version}`, API.keyVault).then((k) => keySchema.parse(k)),
        );
      }
      case 'existing':
        return orNull('existing', this.read<ArmResource>(this.subject.resourceId, this.factReads.resource?.apiVersion ?? API.resources));
      case 'currentKey': {
        const existing = await this.get('existing');
        const url = existing ? this.factReads.resource?.currentKeyUrlOf?.(existing) : undefined;
        const parsed = url ? parseKeyUrl(url) : undefined;
        if (!parsed?.ok || parsed.ref.kind !== 'vault') return null;
        const ref = parsed.ref;
        const vaultId = await this.vaultIdFor(ref.vaultName, 'currentKey');
        if (!vaultId) return { ref, key: null, version: null };
        const [key, version] = await Promise.all([
          orNull(
            'currentKey',
            this.read<unknown>(`${vaultId}/keys/${ref.keyName}`, API.keyVault).then((k) => keySchema.parse(k)),
          ),
          ref.version
            ? orNull(
                'currentKey',
                this.read<unknown>(`${vaultId}/keys/${ref.keyName}/versions/${ref.version}`, API.keyVault).then((k) => keySchema.parse(k)),
              )
            : Promise.resolve(null),
        ]);
        return { ref, key, version };
      }
      case 'botRightsAtTarget': {
        const rg = this.subject.resourceId.split('/').slice(0, 5).join('/');
        return this.permissions('botRightsAtTarget', rg);
      }
      case 'botRightsAtIdentity':
        return this.permissions('botRightsAtIdentity', this.subject.identityId);
      case 'identity':
        return orNull(
          'identity',
          this.read<unknown>(this.subject.identityId, API.managedIdentity).then((i) => identitySchema.parse(i)),
        );
      case 'identityGroups': {
        const [vault, identity] = await Promise.all([this.get('vault'), this.get('identity')]);
        if (!vault || !identity || vault.properties.enableRbacAuthorization) return [];
        const principal = identity.properties.principalId.toLowerCase();
        const others = (vault.properties.accessPolicies ?? []).filter((p) => p.objectId.toLowerCase() !== principal && !p.applicationId);
        if (!others.length) return [];
        if (!this.arm.memberOf) return 'unavailable';
        return (await orNull('identityGroups', this.arm.memberOf(identity.properties.principalId))) ?? [];
      }
      case 'provider': {
        const p = providerOf(this.subject.resourceId);
        if (!p) return null;
        return orNull(
          'provider',
          this.read<unknown>(`/subscriptions/${p.subscriptionId}/providers/${p.namespace}`, API.resources).then((r) => providerSchema.parse(r)),
        );
      }
      case 'roleGrants': {
        const [vault, identity, ref] = await Promise.all([this.get('vault'), this.get('identity'), this.get('keyRef')]);
        if (!vault || !identity || !ref || !vault.properties.enableRbacAuthorization) return [];
        // At the key's scope, a principal filter returns assignments at the key and every scope above it.
        return this.grantsFor('roleGrants', `${vault.id}/keys/${ref.keyName}`, identity.properties.principalId);
      }
    }
  }
}

/** An assignment applies to `target` when its scope is the target or an ancestor of it. */
export function coversScope(assignmentScope: string | undefined, target: string): boolean {
  if (!assignmentScope) return true;
  const a = assignmentScope.toLowerCase().replace(/\/+$/, '');
  const t = target.toLowerCase();
  return a === '' || a === '/' || t === a || t.startsWith(`${a}/`) || a.startsWith('/providers/microsoft.management/managementgroups/');
}
