// Key changes and the Key Vault events they raise. Through ARM: Keys_CreateIfNotExist (creates a
// key's first version, or answers the existing key without writing). ARM cannot make a new version
// of an existing key nor disable one — those are data-plane operations (Rotate/Create Key, Update
// Key) — so they are simulator controls here: rotateKey() and setKeyEnabled().
import { randomUUID } from 'node:crypto';
import { bodyObject, isObject, requireResourceGroup } from '../arm';
import { KEYVAULT_KEY_VERSIONS } from '../api-versions';
import { ArmError, resourceNotFound } from '../errors';
import { keyVaultEvent, type EventGridEvent, type KeyVaultEventType } from '../events';
import type { SimContext, SimProvider, SimRequest } from '../provider';
import { requireAction } from '../rbac';
import type { SimResource, SimState } from '../state';
import { findVaultByName, KEY_VERSION_TYPE, keyResources, renderKey, VAULT_TYPE, type KeySpec } from './keyvault';

const VAULT = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}';
const KEY_TYPES = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM'] as const;

interface KeyAttributes {
  enabled?: boolean;
  nbf?: number;
  exp?: number;
  created?: number;
  updated?: number;
  [k: string]: unknown;
}

function attributesOf(r: SimResource): KeyAttributes {
  return ((r.properties as { attributes?: KeyAttributes } | undefined)?.attributes ?? {}) as KeyAttributes;
}

/** The vault by name (as the data plane addresses it), or an Error naming it. */
function vaultNamed(state: SimState, vaultName: string): SimResource {
  const vault = findVaultByName(state, vaultName);
  if (!vault) throw new Error(`no key vault named '${vaultName}' in the simulator`);
  return vault;
}

function keyIn(state: SimState, vault: SimResource, keyName: string): SimResource {
  const key = state.get(`${vault.id}/keys/${keyName}`);
  if (!key) throw new Error(`no key '${keyName}' in key vault '${vault.name}'`);
  return key;
}

/** The key's current version: the one its keyUriWithVersion names. */
export function currentVersion(state: SimState, key: SimResource): SimResource | undefined {
  const uri = (key.properties as { keyUriWithVersion?: string } | undefined)?.keyUriWithVersion ?? '';
  const name = uri.split('/').pop() ?? '';
  return state.get(`${key.id}/versions/${name}`);
}

/** A version of the key by name (default: the current one). */
export function keyVersion(state: SimState, vaultName: string, keyName: string, version?: string): { vault: SimResource; key: SimResource; version: SimResource } {
  const vault = vaultNamed(state, vaultName);
  const key = keyIn(state, vault, keyName);
  const v = version === undefined ? currentVersion(state, key) : state.get(`${key.id}/versions/${version}`);
  if (!v) throw new Error(`no version '${version ?? '(current)'}' of key '${keyName}' in key vault '${vault.name}'`);
  return { vault, key, version: v };
}

/**
 * The data plane's Rotate Key / Create Key on an existing name: a new current version with the
 * same material settings, enabled, expiring as long after its creation as the previous current
 * version did (when it expired at all). Returns the new version; the caller publishes the event.
 */
export function rotateKey(state: SimState, vaultName: string, keyName: string, nowMs: number): { vault: SimResource; version: SimResource } {
  const vault = vaultNamed(state, vaultName);
  const key = keyIn(state, vault, keyName);
  const previous = currentVersion(state, key);
  const prevAttrs = previous ? attributesOf(previous) : attributesOf(key);
  const now = Math.floor(nowMs / 1000);
  const lifetime = prevAttrs.exp !== undefined && prevAttrs.created !== undefined ? prevAttrs.exp - prevAttrs.created : undefined;
  const name = randomUUID().replace(/-/g, '');
  const props = key.properties as Record<string, unknown>;
  const keyUri = String(props['keyUri']);
  const attributes: KeyAttributes = { enabled: true, ...(lifetime !== undefined ? { exp: now + lifetime } : {}), created: now, updated: now, recoveryLevel: prevAttrs['recoveryLevel'] };
  const material = Object.fromEntries(['kty', 'keyOps', 'keySize', 'curveName'].filter((k) => props[k] !== undefined).map((k) => [k, props[k]]));
  const version = state.put({
    id: `${key.id}/versions/${name}`,
    name,
    type: KEY_VERSION_TYPE,
    location: key.location,
    properties: { attributes: { ...attributes }, ...material, keyUri, keyUriWithVersion: `${keyUri}/${name}` },
  });
  state.patch(key.id, { properties: { attributes: { ...attributes }, keyUriWithVersion: `${keyUri}/${name}` } });
  return { vault, version };
}

/** The data plane's Update Key on a version (default the current one); the key resource mirrors its current version. No Key Vault event exists for this. */
export function setKeyEnabled(state: SimState, vaultName: string, keyName: string, enabled: boolean, nowMs: number, version?: string): SimResource {
  const found = keyVersion(state, vaultName, keyName, version);
  const updated = Math.floor(nowMs / 1000);
  state.patch(found.version.id, { properties: { attributes: { enabled, updated } } });
  if (currentVersion(state, found.key)?.id === found.version.id) state.patch(found.key.id, { properties: { attributes: { enabled, updated } } });
  return found.version;
}

/** The event Key Vault would publish for this key (version default: current) or, for VaultAccessPolicyChanged, for the vault. */
export function keyEventFor(state: SimState, type: KeyVaultEventType, vaultName: string, keyName: string | undefined, nowMs: number, version?: string): EventGridEvent {
  if (type === 'VaultAccessPolicyChanged' || keyName === undefined) {
    if (type !== 'VaultAccessPolicyChanged') throw new Error(`${type} names a key`);
    return keyVaultEvent(type, vaultNamed(state, vaultName), nowMs);
  }
  const found = keyVersion(state, vaultName, keyName, version);
  return keyVaultEvent(type, found.vault, nowMs, { name: found.key.name, version: found.version });
}

// ---------------------------------------------------------------------------------------------
// Keys_CreateIfNotExist (Microsoft.KeyVault keys.json): PUT …/vaults/{vault}/keys/{key} → 200 Key

function createIfNotExist(req: SimRequest, ctx: SimContext) {
  const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
  const vault = ctx.state.get(`/subscriptions/${req.params['sub']}/resourceGroups/${req.params['rg']}/providers/${VAULT_TYPE}/${req.params['vault']}`);
  if (!vault) throw resourceNotFound(`Microsoft.KeyVault/vaults/${req.params['vault']}`, rg.name);
  requireAction(ctx.state, ctx.caller, `${vault.id}/keys/${req.params['key']}`, 'Microsoft.KeyVault/vaults/keys/write');
  const existing = ctx.state.get(`${vault.id}/keys/${req.params['key']}`);
  // "If it already exists, then the existing key is returned without any write operations being performed."
  if (existing) return { status: 200, body: renderKey(ctx.state, existing) };
  const name = req.params['key']!;
  if (!/^[a-zA-Z0-9-]{1,127}$/.test(name)) throw new ArmError(400, 'BadRequest', `The key name '${name}' is invalid: 1-127 letters, digits and dashes.`);
  const body = bodyObject(req);
  const props = isObject(body['properties']) ? body['properties'] : undefined;
  if (!props) throw new ArmError(400, 'BadRequest', "The request body must carry 'properties'.", { target: 'properties' });
  const kty = props['kty'];
  if (!KEY_TYPES.includes(kty as (typeof KEY_TYPES)[number])) throw new ArmError(400, 'BadRequest', `The key type '${String(kty)}' is not valid: use one of ${KEY_TYPES.join(', ')}.`, { target: 'properties.kty' });
  const rsa = String(kty).startsWith('RSA');
  const attrs = isObject(props['attributes']) ? props['attributes'] : {};
  const created = Math.floor(ctx.now() / 1000);
  const version = randomUUID().replace(/-/g, '');
  const spec: KeySpec = {
    vault,
    name,
    kty: kty as KeySpec['kty'],
    ...(rsa ? { keySize: typeof props['keySize'] === 'number' ? props['keySize'] : 2048 } : { curveName: typeof props['curveName'] === 'string' ? props['curveName'] : 'P-256' }),
    keyOps: Array.isArray(props['keyOps']) ? (props['keyOps'] as string[]) : rsa ? ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'] : ['sign', 'verify'],
    versions: [
      {
        version,
        created,
        enabled: attrs['enabled'] === undefined ? true : attrs['enabled'] === true,
        ...(typeof attrs['nbf'] === 'number' ? { nbf: attrs['nbf'] } : {}),
        ...(typeof attrs['exp'] === 'number' ? { exp: attrs['exp'] } : {}),
      },
    ],
    ...(isObject(props['rotationPolicy']) ? { rotationPolicy: props['rotationPolicy'] } : {}),
  };
  const [key, ...versions] = keyResources(spec);
  if (isObject(body['tags'])) key!.tags = body['tags'] as Record<string, string>;
  ctx.state.put(key!);
  for (const v of versions) ctx.state.put(v);
  // Key Vault publishes KeyNewVersionCreated for a new key's first version too.
  ctx.events.publish(keyVaultEvent('KeyNewVersionCreated', vault, ctx.now(), { name, version: versions[0] }));
  return { status: 200, body: renderKey(ctx.state, ctx.state.get(key!.id)!) };
}

export const keyVaultKeyWritesProvider: SimProvider = {
  namespace: 'Microsoft.KeyVault',
  apiVersions: KEYVAULT_KEY_VERSIONS,
  routes: [{ method: 'PUT', pattern: `${VAULT}/keys/{key}`, resourceType: 'vaults/keys', apiVersions: KEYVAULT_KEY_VERSIONS, handler: createIfNotExist }],
};
