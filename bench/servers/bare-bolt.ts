// The baseline for Slack acknowledgement latency: a bare @slack/bolt App with Bolt's defaults on its
// stock ExpressReceiver (signature check included; auth.test once, at start) that answers the slash
// command with ack() and does nothing else. Prints `listening on http://127.0.0.1:PORT`.
//   env: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL; BARE_BOLT_LAZY_AUTH=1 sets
//   tokenVerificationEnabled: false as our bot does (a diagnostic: Bolt then calls auth.test on every event).
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';

async function main() {
  const receiver = new ExpressReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET!, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  const app = new App({
    token: process.env.SLACK_BOT_TOKEN,
    receiver,
    logLevel: LogLevel.ERROR,
    ...(process.env.BARE_BOLT_LAZY_AUTH === '1' ? { tokenVerificationEnabled: false } : {}),
    clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  });
  app.command('/cmk', async ({ ack }) => {
    await ack();
  });
  const server = await receiver.start({ port: 0, host: '127.0.0.1' });
  const addr = server.address() as { port: number };
  process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
