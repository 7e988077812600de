// Key Vault's Event Grid events, delivered to webhooks as Event Grid delivers them: the
// subscription validation handshake first, then one POST per event (batching off, the default),
// in the Event Grid schema or CloudEvents 1.0, with the endpoint's secret (?code=) or an Entra
// bearer token. Shapes: Azure/azure-rest-api-specs specification/eventgrid/data-plane/
// Microsoft.KeyVault/stable/2018-01-01/examples (docs/simulator.md, "Key Vault events").
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { SimResource } from './state';

export type KeyVaultEventType = 'KeyNewVersionCreated' | 'KeyNearExpiry' | 'KeyExpired' | 'VaultAccessPolicyChanged';

export type EventSchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';

export interface EventSubscriptionOptions {
  /** The endpoint's secret: appended to the URL as `?code=` (how a webhook URL carries one). */
  code?: string;
  /** An Entra token for the endpoint's audience: sent as `Authorization: Bearer …`. */
  token?: string;
  /** Default EventGridSchema. */
  schema?: EventSchema;
  /** Only these types (Event Grid's includedEventTypes, short names); default all. */
  includedEventTypes?: KeyVaultEventType[];
  /** Run the validation handshake before the subscription takes effect (default true), as Event Grid does when one is created. */
  validate?: boolean;
}

/** One event in the Event Grid schema (what a subscription in CloudEvents schema gets is derived from it). */
export interface EventGridEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  data: Record<string, unknown>;
  dataVersion: string;
  metadataVersion: string;
}

export interface EventDelivery {
  url: string;
  eventType: string;
  /** The body as sent. */
  body: unknown;
  headers: Record<string, string>;
  /** The endpoint's HTTP status, or 0 when it could not be reached (then `error`). */
  status: number;
  error?: string;
}

/** A key version's attributes as the simulator stores them (Unix seconds). */
interface Attributes {
  nbf?: number;
  exp?: number;
}

/** `data` as Key Vault sends it (the spec's examples: PascalCase names, NBF/EXP as strings of Unix seconds; null when unset). */
export function keyVaultEvent(type: KeyVaultEventType, vault: SimResource, now: number, key?: { name: string; version?: SimResource }): EventGridEvent {
  const base = `https://${vault.name}.vault.azure.net`;
  const attrs = ((key?.version?.properties as { attributes?: Attributes } | undefined)?.attributes ?? {}) as Attributes;
  const unix = (v: number | undefined) => (v === undefined ? null : String(v));
  const data =
    type === 'VaultAccessPolicyChanged' || !key
      ? { Id: base, VaultName: vault.name, ObjectType: 'Vault', ObjectName: vault.name, Version: null, NBF: null, EXP: null }
      : {
          Id: key.version ? `${base}/keys/${key.name}/${key.version.name}` : `${base}/keys/${key.name}`,
          VaultName: vault.name,
          ObjectType: 'Key',
          ObjectName: key.name,
          Version: key.version?.name ?? null,
          NBF: unix(attrs.nbf),
          EXP: unix(attrs.exp),
        };
  return {
    id: randomUUID(),
    topic: vault.id,
    subject: type === 'VaultAccessPolicyChanged' || !key ? vault.name : key.name,
    eventType: `Microsoft.KeyVault.${type}`,
    eventTime: new Date(now).toISOString(),
    data,
    dataVersion: '1',
    metadataVersion: '1',
  };
}

function toCloudEvent(e: EventGridEvent): Record<string, unknown> {
  return { id: e.id, source: e.topic, specversion: '1.0', type: e.eventType, subject: e.subject, time: e.eventTime, data: e.data };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Event Grid waits 30 seconds for an answer (delivery and retry docs). */
const DELIVERY_TIMEOUT_MS = 30_000;

function send(method: 'POST' | 'OPTIONS', url: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: DELIVERY_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface Subscription {
  url: string;
  name: string;
  opts: EventSubscriptionOptions;
}

export class EventGridWebhooks {
  /** Every delivery attempt, in order. */
  readonly deliveries: EventDelivery[] = [];
  private subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  private target(url: string, opts: EventSubscriptionOptions): string {
    if (!opts.code) return url;
    const u = new URL(url);
    u.searchParams.set('code', opts.code);
    return u.toString();
  }

  private auth(opts: EventSubscriptionOptions): Record<string, string> {
    return opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  }

  /** Creates a webhook subscription; with `validate` (default), the endpoint must pass the handshake or this rejects. Returns the unsubscribe function. */
  async subscribe(url: string, opts: EventSubscriptionOptions = {}): Promise<() => void> {
    const sub: Subscription = { url: this.target(url, opts), name: `sim-${randomUUID().slice(0, 8)}`, opts };
    if (opts.validate !== false) await this.validate(sub);
    this.subscriptions.push(sub);
    return () => {
      this.subscriptions = this.subscriptions.filter((s) => s !== sub);
    };
  }

  /**
   * Event Grid schema: a SubscriptionValidationEvent, answered 200 with {validationResponse: code}.
   * CloudEvents: the abuse-protection OPTIONS request, answered with WebHook-Allowed-Origin.
   */
  private async validate(sub: Subscription): Promise<void> {
    if (sub.opts.schema === 'CloudEventSchemaV1_0') {
      const res = await send('OPTIONS', sub.url, { 'webhook-request-origin': 'eventgrid.azure.net', ...this.auth(sub.opts) });
      const allowed = String(res.headers['webhook-allowed-origin'] ?? '');
      if (res.status !== 200 || (allowed !== '*' && allowed.toLowerCase() !== 'eventgrid.azure.net')) {
        throw new Error(`Webhook validation handshake failed for ${sub.url.split('?')[0]}: HTTP ${res.status}, WebHook-Allowed-Origin '${allowed}'.`);
      }
      return;
    }
    const code = randomUUID().toUpperCase();
    const event = [
      {
        id: randomUUID(),
        topic: `/subscriptions/${randomUUID()}/resourceGroups/sim/providers/Microsoft.EventGrid/systemTopics/sim-keyvault`,
        subject: '',
        data: { validationCode: code, validationUrl: `https://rp-eastus.eventgrid.azure.net:553/eventsubscriptions/${sub.name}/validate?id=${code}&t=${new Date().toISOString()}` },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: new Date().toISOString(),
        metadataVersion: '1',
        dataVersion: '2',
      },
    ];
    const res = await send('POST', sub.url, { 'content-type': 'application/json; charset=utf-8', 'aeg-event-type': 'SubscriptionValidation', 'aeg-subscription-name': sub.name.toUpperCase(), ...this.auth(sub.opts) }, JSON.stringify(event));
    let answered: unknown;
    try {
      answered = (JSON.parse(res.body) as { validationResponse?: unknown }).validationResponse;
    } catch {
      answered = undefined;
    }
    if (res.status !== 200 || answered !== code) {
      throw new Error(`Webhook validation handshake failed for ${sub.url.split('?')[0]}: HTTP ${res.status}, validationResponse ${JSON.stringify(answered)} (expected the validationCode).`);
    }
  }

  /** Sends the event to every subscription that takes its type; returns at once (await flush() for the answers). */
  publish(event: EventGridEvent): void {
    const short = event.eventType.replace(/^Microsoft\.KeyVault\./, '') as KeyVaultEventType;
    for (const sub of this.subscriptions) {
      if (sub.opts.includedEventTypes && !sub.opts.includedEventTypes.includes(short)) continue;
      const p = this.deliver(sub, event).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async deliver(sub: Subscription, event: EventGridEvent): Promise<void> {
    const cloud = sub.opts.schema === 'CloudEventSchemaV1_0';
    const body = cloud ? toCloudEvent(event) : [event];
    const headers: Record<string, string> = cloud
      ? { 'content-type': 'application/cloudevents+json; charset=utf-8', ...this.auth(sub.opts) }
      : {
          'content-type': 'application/json; charset=utf-8',
          'aeg-event-type': 'Notification',
          'aeg-subscription-name': sub.name.toUpperCase(),
          'aeg-delivery-count': '0',
          'aeg-data-version': event.dataVersion,
          'aeg-metadata-version': event.metadataVersion,
          ...this.auth(sub.opts),
        };
    const record: EventDelivery = { url: sub.url, eventType: event.eventType, body, headers: { ...headers, ...(headers['authorization'] ? { authorization: 'Bearer <redacted>' } : {}) }, status: 0 };
    try {
      record.status = (await send('POST', sub.url, headers, JSON.stringify(body))).status;
    } catch (e) {
      record.error = (e as Error).message;
    }
    this.deliveries.push(record);
  }

  /** Waits until every delivery started so far has its answer; returns all deliveries. */
  async flush(): Promise<EventDelivery[]> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    return this.deliveries;
  }

  clear(): void {
    this.subscriptions = [];
    this.deliveries.length = 0;
  }
}
