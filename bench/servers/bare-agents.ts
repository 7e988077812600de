// The baseline for Teams turn latency: a bare Microsoft 365 Agents SDK CloudAdapter echo bot on
// express (POST /api/messages, no client id: anonymous) whose turn sends one reply through the
// connector at the activity's serviceUrl, as ours does. Prints `listening on http://127.0.0.1:PORT`.
// (The framework our bot runs on; it replaced botbuilder, whose support ended on 31 Dec 2025.)
import { ActivityHandler, CloudAdapter } from '@microsoft/agents-hosting';
import express from 'express';

async function main() {
  const adapter = new CloudAdapter({});
  const bot = new ActivityHandler();
  bot.onMessage(async (ctx, next) => {
    await ctx.sendActivity(`echo: ${ctx.activity.text ?? ''}`);
    await next();
  });
  const app = express();
  app.post('/api/messages', express.json({ limit: '256kb' }), async (req, res) => {
    await adapter.process(req, res, (ctx) => bot.run(ctx));
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
