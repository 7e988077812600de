// Vaults_Update (PATCH Microsoft.KeyVault/vaults/{name}, 2024-11-01): the vault properties a
// remediation changes — purge protection, soft delete, the firewall (networkAcls) — with the
// rules Key Vault enforces (docs/simulator.md, "Key Vault: updating a vault"). VaultPatchProperties
// is merged property by property; networkAcls, when sent, replaces the vault's rule set whole.
import { bodyObject, isObject } from '../arm';
import { ArmError, invalidRequestContent } from '../errors';
import type { SimContext, SimRequest } from '../provider';
import { requireAction } from '../rbac';
import type { SimResource } from '../state';

/** Key Vault answers these refusals with code BadRequest (observed: Azure/azure-cli#29115, Azure/azure-rest-api-specs#18106). */
const badRequest = (message: string, target: string) => new ArmError(400, 'BadRequest', message, { target });

const BYPASS = ['AzureServices', 'None'];
const DEFAULT_ACTION = ['Allow', 'Deny'];
const PUBLIC_NETWORK_ACCESS = ['Enabled', 'Disabled'];

function oneOf(allowed: string[], v: unknown, path: string): string {
  const hit = typeof v === 'string' ? allowed.find((a) => a.toLowerCase() === v.toLowerCase()) : undefined;
  if (!hit) throw invalidRequestContent(`Requested value '${String(v)}' was not found. Allowed values: ${allowed.map((a) => `'${a}'`).join(', ')}. Path '${path}'`, path);
  return hit;
}

function networkAclsOf(raw: unknown): Record<string, unknown> {
  const path = 'properties.networkAcls';
  if (!isObject(raw)) throw invalidRequestContent(`Expected an object. Path '${path}'`, path);
  const out: Record<string, unknown> = {};
  // NetworkRuleSet: every member optional; what is not sent is not kept (the set is replaced).
  if (raw['bypass'] !== undefined) out['bypass'] = oneOf(BYPASS, raw['bypass'], `${path}.bypass`);
  if (raw['defaultAction'] !== undefined) out['defaultAction'] = oneOf(DEFAULT_ACTION, raw['defaultAction'], `${path}.defaultAction`);
  for (const [k, member] of [
    ['ipRules', 'value'],
    ['virtualNetworkRules', 'id'],
  ] as const) {
    const list = raw[k];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((r) => !isObject(r) || typeof r[member] !== 'string')) {
      throw invalidRequestContent(`Expected an array of objects with '${member}'. Path '${path}.${k}'`, `${path}.${k}`);
    }
    out[k] = list;
  }
  return out;
}

/** PATCH a vault: the caller needs Microsoft.KeyVault/vaults/write; answers 200 with the vault as it now is. */
export function patchVault(existing: SimResource, req: SimRequest, ctx: SimContext): { status: number; body: SimResource } {
  requireAction(ctx.state, ctx.caller, existing.id, 'Microsoft.KeyVault/vaults/write');
  const body = bodyObject(req);
  const props = body['properties'] ?? {};
  if (!isObject(props)) throw invalidRequestContent("Expected an object. Path 'properties'", 'properties');
  const current = existing.properties as Record<string, unknown>;
  const next: Record<string, unknown> = { ...structuredClone(current) };

  for (const k of ['enablePurgeProtection', 'enableSoftDelete', 'enabledForDeployment', 'enabledForDiskEncryption', 'enabledForTemplateDeployment', 'enableRbacAuthorization'] as const) {
    if (props[k] !== undefined && props[k] !== null && typeof props[k] !== 'boolean') throw invalidRequestContent(`Expected a boolean. Path 'properties.${k}'`, `properties.${k}`);
  }
  const softDeleteOn = current['enableSoftDelete'] !== false;
  if (props['enableSoftDelete'] === false && softDeleteOn) {
    // VaultPatchProperties.enableSoftDelete: "Once set to true, it cannot be reverted to false."
    throw badRequest('The property "enableSoftDelete" cannot be set to false. Enabling soft delete for a vault is an irreversible action.', 'properties.enableSoftDelete');
  }
  if (props['enableSoftDelete'] === true) {
    next['enableSoftDelete'] = true;
    next['softDeleteRetentionInDays'] = current['softDeleteRetentionInDays'] ?? 90;
  }
  if (props['enablePurgeProtection'] === false && current['enablePurgeProtection'] === true) {
    // Azure's own words (Azure/azure-rest-api-specs#18106): the property does not accept false once on.
    throw badRequest('The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.', 'properties.enablePurgeProtection');
  }
  if (props['enablePurgeProtection'] === true) {
    // "The setting is effective only if soft delete is also enabled" (VaultProperties.enablePurgeProtection).
    if (next['enableSoftDelete'] === false) {
      throw badRequest('The property "enablePurgeProtection" cannot be set to true on a vault without soft delete: turn soft delete on ("enableSoftDelete": true) first or in the same request.', 'properties.enablePurgeProtection');
    }
    next['enablePurgeProtection'] = true;
  }
  for (const k of ['enabledForDeployment', 'enabledForDiskEncryption', 'enabledForTemplateDeployment', 'enableRbacAuthorization'] as const) {
    if (typeof props[k] === 'boolean') next[k] = props[k];
  }
  if (props['publicNetworkAccess'] !== undefined && props['publicNetworkAccess'] !== null) next['publicNetworkAccess'] = oneOf(PUBLIC_NETWORK_ACCESS, props['publicNetworkAccess'], 'properties.publicNetworkAccess');
  if (props['networkAcls'] !== undefined && props['networkAcls'] !== null) next['networkAcls'] = networkAclsOf(props['networkAcls']);

  let tags = existing.tags;
  if (body['tags'] !== undefined && body['tags'] !== null) {
    if (!isObject(body['tags']) || Object.values(body['tags']).some((v) => typeof v !== 'string')) throw invalidRequestContent("Tags must be an object of strings. Path 'tags'", 'tags');
    tags = body['tags'] as Record<string, string>;
  }
  const at = new Date(ctx.now()).toISOString();
  const systemData = { ...((existing['systemData'] as Record<string, unknown> | undefined) ?? {}), lastModifiedAt: at, lastModifiedBy: ctx.caller, lastModifiedByType: 'Application' };
  const updated: SimResource = { ...existing, tags, systemData, properties: next };
  ctx.state.put(updated);
  return { status: 200, body: updated };
}
