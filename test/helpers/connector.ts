// A local stand-in for the Bot Framework connector service (what Teams or the Agents Playground
// expose at the activity's serviceUrl): it records what the real Agents SDK sends and updates.
import express from 'express';
import type { Server } from 'node:http';

export interface ConnectorActivity {
  id: string;
  conversationId: string;
  kind: 'send' | 'reply' | 'update';
  replyToId?: string;
  activity: {
    type: string;
    text?: string;
    attachments?: Array<{ contentType: string; content: Record<string, unknown> }>;
    [k: string]: unknown;
  };
}

export interface FakeConnector {
  url: string;
  log: ConnectorActivity[];
  /** The latest content of each message id (updates applied). */
  messages: Map<string, ConnectorActivity['activity']>;
  waitFor(pred: (a: ConnectorActivity) => boolean, timeoutMs?: number, label?: string): Promise<ConnectorActivity>;
  close(): Promise<void>;
}

export async function startConnector(): Promise<FakeConnector> {
  const app = express();
  app.use(express.json({ limit: '2mb' }));
  const log: ConnectorActivity[] = [];
  const messages = new Map<string, ConnectorActivity['activity']>();
  const waiters: Array<{ pred: (a: ConnectorActivity) => boolean; resolve: (a: ConnectorActivity) => void }> = [];
  let n = 0;
  const record = (a: ConnectorActivity) => {
    log.push(a);
    messages.set(a.id, a.activity);
    for (const w of [...waiters]) {
      if (w.pred(a)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(a);
      }
    }
  };
  app.post('/v3/conversations/:conv/activities', (req, res) => {
    const id = `msg-${++n}`;
    record({ id, conversationId: req.params.conv, kind: 'send', activity: req.body });
    res.json({ id });
  });
  app.post('/v3/conversations/:conv/activities/:replyTo', (req, res) => {
    const id = `msg-${++n}`;
    record({ id, conversationId: req.params.conv, kind: 'reply', replyToId: req.params.replyTo, activity: req.body });
    res.json({ id });
  });
  app.put('/v3/conversations/:conv/activities/:id', (req, res) => {
    record({ id: req.params.id, conversationId: req.params.conv, kind: 'update', activity: req.body });
    res.json({ id: req.params.id });
  });
  const server: Server = await new Promise((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    messages,
    waitFor(pred, timeoutMs = 15000, label = 'connector activity') {
      const existing = log.find(pred);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`timed out waiting for ${label}; saw:\n${log.map((a) => `${a.kind} ${a.id} ${cardText(a.activity).slice(0, 200)}`).join('\n')}`));
        }, timeoutMs);
        const done = (a: ConnectorActivity) => {
          clearTimeout(t);
          resolve(a);
        };
        waiters.push({ pred, resolve: done });
      });
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** All human-visible text in an activity: its text plus every TextBlock/Fact in its cards. */
export function cardText(activity: ConnectorActivity['activity'] | Record<string, unknown> | undefined): string {
  if (!activity) return '';
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      if (o.type === 'TextBlock' && typeof o.text === 'string') out.push(o.text);
      if (typeof o.title === 'string' && typeof o.value === 'string') out.push(`${o.title}: ${o.value}`);
      if ((o.type === 'Action.Execute' || o.type === 'Action.Submit') && typeof o.title === 'string') out.push(`[${o.title}]`);
      // The refresh action is not something a person sees.
      Object.entries(o).forEach(([k, v]) => k !== 'refresh' && walk(v));
    }
  };
  if (typeof activity.text === 'string') out.push(activity.text);
  walk((activity as { attachments?: unknown }).attachments ?? activity);
  return out.join('\n');
}

export function firstCard(activity: ConnectorActivity['activity'] | undefined): Record<string, unknown> | undefined {
  return activity?.attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')?.content;
}

/**
 * The data a person's click on `verb` sends, read from the card as the message shows it now (a real
 * Teams client sends exactly this: the request id and the digest of the card it rendered).
 */
export function clickData(connector: Pick<FakeConnector, 'messages'>, messageId: string, verb = 'request.approve'): Record<string, unknown> {
  const found: Array<Record<string, unknown>> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.verb === verb && o.data && typeof o.data === 'object') found.push(o.data as Record<string, unknown>);
      Object.values(o).forEach(walk);
    }
  };
  walk(connector.messages.get(messageId));
  if (!found[0]) throw new Error(`message ${messageId} shows no ${verb} action`);
  return found[0];
}
