// The Teams endpoint: botbuilder's CloudAdapter at POST /api/messages. With a Microsoft app id
// configured every request must carry a valid Bot Framework JWT (checked by the adapter: issuer,
// audience, lifetime, signing keys). Without one — local use with the Agents Playground — the
// adapter accepts unauthenticated requests, so we accept them only from a loopback address.
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
} from 'botbuilder';
import express, { type Express, type Request, type Response } from 'express';
import type { Config } from '../../config';
import type { ArmGateway } from '../../azure/port';
import type { JobRunner } from '../../workflow/jobs';
import type { Workflow } from '../../workflow/service';
import { TeamsNotifier } from './notifier';
import { TeamsBot } from './teams-bot';

const DEDUPE_MS = 10 * 60_000;

type Log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export interface TeamsChannel {
  notifier: TeamsNotifier;
  attach(workflow: Workflow): void;
  mount(app: Express): void;
}

export function createTeamsChannel(config: Config['teams'], deps: { arm: ArmGateway; jobs: JobRunner; log?: Log }): TeamsChannel {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.appId ?? '',
    MicrosoftAppPassword: config.appPassword ?? '',
    MicrosoftAppType: config.appType,
    MicrosoftAppTenantId: config.appTenantId ?? '',
  } as ConfigurationBotFrameworkAuthenticationOptions);
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (ctx, error) => {
    deps.log?.('error', 'unhandled error in a Teams turn', { error: error.stack ?? String(error) });
    await ctx.sendActivity('Something went wrong on my side. Nothing was changed in Azure. Please try again.').catch(() => undefined);
  };
  const notifier = new TeamsNotifier(adapter, config.appId ?? '');
  const recent = new Map<string, Promise<{ status: number; body: string }>>();
  let bot: TeamsBot | undefined;

  return {
    notifier,
    attach(workflow) {
      bot = new TeamsBot({ workflow, arm: deps.arm, jobs: deps.jobs, notifier, log: deps.log });
    },
    mount(app) {
      app.post('/api/messages', express.json({ limit: '256kb' }), async (req: Request, res: Response) => {
        if (!config.appId && !isLoopback(req.socket.remoteAddress)) {
          res.status(401).json({ error: 'Unauthenticated requests are accepted only on loopback while no MicrosoftAppId is configured.' });
          return;
        }
        if (!bot) {
          res.status(503).json({ error: 'starting' });
          return;
        }
        // Teams redelivers slow turns: the same activity id is answered once, and a repeat gets
        // the first answer again rather than a second decision ("you have already decided").
        const activityId = typeof req.body?.id === 'string' ? `${req.body.conversation?.id ?? ''}|${req.body.id}` : undefined;
        const seen = activityId ? recent.get(activityId) : undefined;
        if (seen) {
          const answer = await seen;
          res.status(answer.status).type('application/json').send(answer.body);
          return;
        }
        let settle: (a: { status: number; body: string }) => void = () => undefined;
        if (activityId) {
          recent.set(activityId, new Promise((r) => (settle = r)));
          setTimeout(() => recent.delete(activityId), DEDUPE_MS).unref();
        }
        const send = res.send.bind(res);
        let captured = '';
        res.send = ((body?: unknown) => {
          captured = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
          return send(body as never);
        }) as typeof res.send;
        const b = bot;
        try {
          await adapter.process(req, res, (ctx) => b.run(ctx));
        } finally {
          // A refused (401) or failed delivery is not remembered: a correct retry must get through.
          if (activityId && res.statusCode >= 400) recent.delete(activityId);
          settle({ status: res.statusCode, body: captured });
        }
      });
    },
  };
}
