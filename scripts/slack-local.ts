// `npm run slack:local`: walks one request through the Slack side in the terminal, with no Slack
// workspace. It starts the local Slack Web API stand-in and the bot (embedded simulator and a
// throw-away PGlite), then plays three people: Alex runs `/cmk new fluid-relay` and fills the
// modal, Riley and Sam approve, and each step prints what Slack would show.
//
//   npm run slack:local                      # the happy path
//   npm run slack:local -- --key ec-key      # a request the checks stop (any key name in kv-cmk-rbac)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { blockActionPayload, interactionBody, postToBot, signedHeaders, slashCommandBody, startSlackStandIn, viewSubmissionPayload } from '../src/dev';
import { fieldOfBlock } from '../src/chat/slack/form-modal';
import { parsePolicy } from '../src/workflow/policy';

const SECRET = 'slack-local-signing-secret';
const CHANNEL = 'C0CMKLOCAL';
const people = { alex: { id: 'U0ALEX', name: 'alex' }, riley: { id: 'U0RILEY', name: 'riley' }, sam: { id: 'U0SAM', name: 'sam' } };

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};

/** Block Kit → the plain text a person would read. */
function show(blocks: unknown): string {
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      if (o.type === 'button' && o.text) out.push(`[ ${(o.text as { text: string }).text} ]`);
      else if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      else Object.values(o).forEach(walk);
    }
  };
  walk(blocks);
  return out
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .split('\n')
    .map((l) => `    │ ${l}`)
    .join('\n');
}

const step = (n: number, text: string) => process.stdout.write(`\n${n}. ${text}\n`);

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'cmk-slack-local-'));
  const slack = await startSlackStandIn({ users: { U0ALEX: { name: 'alex' }, U0RILEY: { name: 'riley' }, U0SAM: { name: 'sam' } } });
  const policy = parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: local\n    requesters: ["*"]\n    approvers: ["*"]\n`, 'slack-local policy');
  const app = await createApp({
    config: loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', TEAMS_ENABLED: 'false', SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.url }),
    policy,
  });
  const endpoint = `${app.url}/slack/events`;
  const send = (raw: string) => postToBot(endpoint, raw, signedHeaders(SECRET, raw, { contentType: 'application/x-www-form-urlencoded' }));
  try {
    process.stdout.write(`Bot on ${app.url} (Slack endpoint /slack/events), Slack stand-in on ${slack.url}, Azure simulator on ${app.simulator?.endpoint}\n`);

    step(1, 'Alex types /cmk new fluid-relay');
    const ack = await send(slashCommandBody({ text: 'new fluid-relay', user_id: people.alex.id, user_name: 'alex', channel_id: CHANNEL, trigger_id: slack.triggerId({ user: people.alex.id }), response_url: slack.responseUrl() }));
    process.stdout.write(`   acknowledged with HTTP ${ack.status} in ${ack.ms} ms; a loading modal opens at once, then the pickers fill from Azure\n`);
    await slack.waitFor(() => slack.callsTo('views.update').length > 0, 15000, 'form');
    const form = [...slack.views.values()].at(-1)!;
    // A field's block id is its name, or `<name>:<hash>` for a picker that depends on another
    // (its options were drawn for one value of that field): match on the name before the colon,
    // and answer under the block id the modal carries, as Slack does.
    const opt = (field: string, re: RegExp) => {
      const b = (form.view.blocks as Array<{ block_id?: string; element?: { options?: Array<{ text: { text: string }; value: string }> } }>).find((x) => x.block_id !== undefined && fieldOfBlock(x.block_id) === field);
      const o = b?.element?.options?.find((x) => re.test(x.text.text));
      if (!b?.block_id || !o) throw new Error(`no option ${re} for ${field}; have: ${b?.element?.options?.map((x) => x.text.text).join(', ')}`);
      process.stdout.write(`   ${field.padEnd(15)} → ${o.text.text}\n`);
      return [b.block_id, { value: { type: 'static_select', selected_option: { value: o.value } } }] as const;
    };
    const name = `fr-local-${Date.now().toString(36).slice(-5)}`;
    step(2, `Alex fills the modal (server ${name}) and presses "Run checks"`);
    const submit = await send(
      interactionBody(
        viewSubmissionPayload({
          user: people.alex,
          view: { ...form.view, id: form.id, hash: form.hash },
          values: Object.fromEntries([
            opt('resourceGroup', /^rg-cmk-demo /),
            ['name', { value: { type: 'plain_text_input', value: name } }],
            opt('location', /\(eastus\)/),
            opt('identityId', new RegExp(`^${arg('identity', 'id-fluid-cmk')} `)),
            opt('keyUrl', new RegExp(`^kv-cmk-rbac / ${arg('key', 'fluid-cmk')} `)),
            opt('keyVersion', /^latest/),
          ]),
        }),
      ),
    );
    process.stdout.write(`   acknowledged with HTTP ${submit.status}${submit.text ? `: ${submit.text}` : ''}\n`);

    const msg = await slack.waitFor(() => slack.messages.find((m) => m.channel === CHANNEL && !m.thread_ts && !m.ephemeralFor && JSON.stringify(m.blocks).includes(name)), 15000, 'request message');
    step(3, 'The bot posts the request in the channel:');
    process.stdout.write(`${show(msg.blocks)}\n`);
    if (!JSON.stringify(msg.blocks).includes('request.approve')) {
      process.stdout.write('\nThe checks stopped this request (see the failing checks and their fixes above). Nothing was changed in Azure.\n');
      return;
    }
    const press = (who: keyof typeof people, actionId: string) =>
      send(interactionBody(blockActionPayload({ user: people[who], channel: CHANNEL, messageTs: msg.ts, actionId, triggerId: slack.triggerId({ user: people[who].id }), message: slack.message(CHANNEL, msg.ts)! })));

    step(4, 'Alex presses Approve on their own request');
    await press('alex', 'request.approve');
    const refusal = await slack.waitFor(() => slack.messages.find((m) => m.ephemeralFor === people.alex.id), 5000, 'refusal');
    process.stdout.write(`   only Alex sees: ${refusal.text}\n`);

    step(5, 'Riley approves, then Sam (enabling CMK can never be undone: two approvals)');
    await press('riley', 'request.approve');
    await press('sam', 'request.approve');
    await slack.waitFor(() => /Created and verified|failed/.test(JSON.stringify(slack.message(CHANNEL, msg.ts)?.blocks)), 20000, 'final state');
    step(6, 'The request message, updated in place:');
    process.stdout.write(`${show(slack.message(CHANNEL, msg.ts)?.blocks)}\n`);
    // Posts follow the card in the channel's lane, at most about one a second (Slack's limit).
    await slack.waitFor(() => slack.thread(CHANNEL, msg.ts).some((m) => /done:|failed/.test(m.text ?? '')), 20000, 'result in the thread');
    step(7, 'Its thread:');
    for (const m of slack.thread(CHANNEL, msg.ts)) process.stdout.write(`    • ${m.text}\n`);
    const puts = app.simulator?.writes() ?? [];
    process.stdout.write(`\nAzure (simulator) received ${puts.length} write(s): ${puts.map((w) => `${w.method} ${w.path}`).join('; ')}\n`);
  } finally {
    await app.close();
    await slack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`slack:local failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
