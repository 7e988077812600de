// Event Grid deliveries (Event Grid schema and CloudEvents 1.0) read with Azure's own
// EventGridDeserializer, and Key Vault's system events turned into our `KeyVaultEvent`. The HTTP
// side (authentication, handshakes, answers) is src/events/eventgrid-endpoint.ts.
import { type CloudEvent, type EventGridEvent, EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';
import { z } from 'zod';

/** The Key Vault events a customer-managed key depends on; a secret or certificate event is not about a CMK. */
export const KEY_VAULT_EVENT_TYPES = ['KeyNewVersionCreated', 'KeyNearExpiry', 'KeyExpired', 'VaultAccessPolicyChanged'] as const;
export type KeyVaultEventType = (typeof KEY_VAULT_EVENT_TYPES)[number];

export interface KeyVaultEvent {
  type: KeyVaultEventType;
  vaultName: string;
  /** The key's name (absent for VaultAccessPolicyChanged, whose object is the vault). */
  objectName?: string;
  /** The key version the event is about (KeyNewVersionCreated: the new one). */
  version?: string;
  /** Event Grid's subject: the key name for key events, the vault name for VaultAccessPolicyChanged. */
  subject: string;
  /** The event's id: the same on every retry of one delivery, so it is what to deduplicate on. */
  id: string;
  /** When Key Vault raised the event (ISO 8601). */
  time: string;
  /** The object's URL as Key Vault names it (a key: https://{vault}.vault.azure.net/keys/{name}/{version}). */
  objectId?: string;
  /** The vault's ARM resource id (the event's topic, or CloudEvents source). */
  vaultResourceId?: string;
  /** The key version's expiry (KeyNearExpiry, KeyExpired, KeyNewVersionCreated when it has one), ISO 8601. */
  expiresOn?: string;
}

/** What one delivery asked of us. */
export type EventGridDelivery =
  /** Event Grid schema's subscription validation handshake (answer `validationCode`). */
  | { kind: 'validation'; validationCode: string; validationUrl?: string; id: string }
  /** Key Vault events to act on, and every other event acknowledged without action (type and id only). */
  | { kind: 'events'; schema: 'eventgrid' | 'cloudevents'; events: KeyVaultEvent[]; ignored: Array<{ id: string; type: string }> };

export class EventParseError extends Error {
  readonly code = 'event_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'EventParseError';
  }
}

export function isEventParseError(e: unknown): e is EventParseError {
  return e instanceof EventParseError;
}

const deserializer = new EventGridDeserializer();
const KEY_VAULT_PREFIX = 'Microsoft.KeyVault.';
const VALIDATION = 'Microsoft.EventGrid.SubscriptionValidationEvent';

// Key Vault's event data as delivered. Azure documents camelCase (and the SDK's typings follow),
// but Key Vault has delivered PascalCase (`Id`, `VaultName`, `NBF`, `EXP`) since 2021 — see
// MicrosoftDocs/azure-docs#75866 and Azure/azure-sdk-for-net#22932 — so names are matched
// case-insensitively. NBF/EXP are Unix seconds, as a number or a string, or null.
const epoch = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number),
  ])
  .nullish();
const keyVaultData = z.object({
  id: z.string().min(1).nullish(),
  vaultname: z.string().min(1),
  objecttype: z.string().nullish(),
  objectname: z.string().trim().min(1).nullish(),
  version: z.string().trim().min(1).nullish(),
  exp: epoch,
});

function lowerKeys(data: unknown): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data as Record<string, unknown>).map(([k, v]) => [k.trim().toLowerCase(), v]));
}

function isKeyVaultType(t: string): t is KeyVaultEventType {
  return (KEY_VAULT_EVENT_TYPES as readonly string[]).includes(t);
}

function toKeyVaultEvent(e: { id: string; type: string; subject?: string; time?: Date; topic?: string; data: unknown }): KeyVaultEvent {
  const type = e.type.slice(KEY_VAULT_PREFIX.length);
  if (!isKeyVaultType(type)) throw new EventParseError(`not a Key Vault key event: ${e.type}`);
  const parsed = keyVaultData.safeParse(lowerKeys(e.data));
  if (!parsed.success) throw new EventParseError(`event ${e.id} (${e.type}): data is not Key Vault's: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const d = parsed.data;
  const objectName = type === 'VaultAccessPolicyChanged' ? undefined : d.objectname;
  return {
    type,
    vaultName: d.vaultname,
    ...(objectName ? { objectName } : {}),
    ...(d.version && type !== 'VaultAccessPolicyChanged' ? { version: d.version } : {}),
    subject: e.subject ?? objectName ?? d.vaultname,
    id: e.id,
    time: (e.time ?? new Date()).toISOString(),
    ...(d.id ? { objectId: d.id } : {}),
    ...(e.topic && /\/providers\/Microsoft\.KeyVault\/vaults\//i.test(e.topic) ? { vaultResourceId: e.topic } : {}),
    ...(typeof d.exp === 'number' && d.exp > 0 ? { expiresOn: new Date(d.exp * 1000).toISOString() } : {}),
  };
}

// isSystemEvent is the SDK's type guard per system event type; these four are the ones we act
// on. Their typed data is not used (the casing above), only the match on the type.
const KEY_VAULT_SYSTEM_TYPES = ['Microsoft.KeyVault.KeyNewVersionCreated', 'Microsoft.KeyVault.KeyNearExpiry', 'Microsoft.KeyVault.KeyExpired', 'Microsoft.KeyVault.VaultAccessPolicyChanged'] as const;
const isKeyVaultEventGridEvent = (e: EventGridEvent<unknown>) => KEY_VAULT_SYSTEM_TYPES.some((t) => isSystemEvent(t, e));
const isKeyVaultCloudEvent = (e: CloudEvent<unknown>) => KEY_VAULT_SYSTEM_TYPES.some((t) => isSystemEvent(t, e));

async function deserialize<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    // The deserializer throws TypeError/Error naming the missing or mistyped field.
    throw new EventParseError(`not ${what}: ${(e as Error).message}`);
  }
}

/** A delivery in the Event Grid schema: an array of events (or one event). */
export async function parseEventGridEvents(body: unknown): Promise<EventGridDelivery> {
  if (!body || typeof body !== 'object') throw new EventParseError('not Event Grid events: expected an array of events');
  const events = await deserialize('Event Grid events', () => deserializer.deserializeEventGridEvents(body as Record<string, unknown>));
  const validation = events.find((e) => isSystemEvent(VALIDATION, e));
  if (validation) {
    const data = z.object({ validationCode: z.string().min(1), validationUrl: z.string().optional() }).safeParse(validation.data);
    if (!data.success) throw new EventParseError('subscription validation event without a validationCode');
    return { kind: 'validation', validationCode: data.data.validationCode, ...(data.data.validationUrl ? { validationUrl: data.data.validationUrl } : {}), id: validation.id };
  }
  const out: KeyVaultEvent[] = [];
  const ignored: Array<{ id: string; type: string }> = [];
  for (const e of events) {
    if (isKeyVaultEventGridEvent(e)) out.push(toKeyVaultEvent({ id: e.id, type: e.eventType, subject: e.subject, time: e.eventTime, topic: e.topic, data: e.data }));
    else ignored.push({ id: e.id, type: e.eventType });
  }
  return { kind: 'events', schema: 'eventgrid', events: out, ignored };
}

/** A delivery in the CloudEvents 1.0 schema, structured mode: one event or a batch. */
export async function parseCloudEvents(body: unknown): Promise<EventGridDelivery> {
  if (!body || typeof body !== 'object') throw new EventParseError('not CloudEvents: expected an event or an array of events');
  const events = await deserialize('CloudEvents 1.0', () => deserializer.deserializeCloudEvents(body as Record<string, unknown>));
  const out: KeyVaultEvent[] = [];
  const ignored: Array<{ id: string; type: string }> = [];
  for (const e of events) {
    if (isKeyVaultCloudEvent(e)) out.push(toKeyVaultEvent({ id: e.id, type: e.type, subject: e.subject, time: e.time, topic: e.source, data: e.data }));
    else ignored.push({ id: e.id, type: e.type });
  }
  return { kind: 'events', schema: 'cloudevents', events: out, ignored };
}

/**
 * A CloudEvent in binary mode: the attributes are `ce-*` headers and the body is the data. It is
 * put back into structured form and read by the same deserializer, so both modes are checked alike.
 */
export async function parseBinaryCloudEvent(headers: Record<string, string | string[] | undefined>, data: unknown, contentType?: string): Promise<EventGridDelivery> {
  const structured: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('ce-') || value === undefined) continue;
    structured[lower.slice(3)] = Array.isArray(value) ? value.join(',') : value;
  }
  if (contentType) structured.datacontenttype = contentType;
  if (data !== undefined) structured.data = data;
  return parseCloudEvents(structured);
}
