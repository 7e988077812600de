// The bot has one name wherever a person meets it — Teams, Slack, the Agents Playground, its own
// help — and the README says what it is called; the apps' command menus offer real commands.
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { helpText, parseCommand } from '../../src/chat/commands';
import { DEFAULT_TARGETS } from '../../src/targets';
import { isFleet } from '../../src/targets/types';

const NAME = 'cmk-chatops';
const teams = JSON.parse(readFileSync('manifests/teams/manifest.json', 'utf8'));
const slack = parse(readFileSync('manifests/slack/manifest.yaml', 'utf8'));
const playground = parse(readFileSync('playground/config.yml', 'utf8'));
const readme = readFileSync('README.md', 'utf8');
const docs = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'deploy/README.md',
];

describe('the bot’s name', () => {
  it(`is ${NAME} in Teams, in Slack (app and bot user), in the playground and in its help`, () => {
    expect({
      teams: teams.name.short,
      slackApp: slack.display_information.name,
      slackBotUser: slack.features.bot_user.display_name,
      playground: playground.bot.name,
      help: /^\*\*([^*]+)\*\*/.exec(helpText())?.[1],
    }).toEqual({ teams: NAME, slackApp: NAME, slackBotUser: NAME, playground: NAME, help: NAME });
  });

  it('is what the README says to @mention in Teams and Slack, and no doc names another', () => {
    expect(readme).toMatch(new RegExp(`bot's name is \`${NAME}\``));
    expect(readme).toContain(`@${NAME} help`);
    for (const file of docs) {
      const mentions = [...readFileSync(file, 'utf8').matchAll(/(?<![\w-])@(cmk-[\w-]+)(?![\w.-])/g)].map((m) => m[1]);
      expect({ file, others: mentions.filter((m) => m !== NAME) }).toEqual({ file, others: [] });
    }
  });
});

describe('the apps’ command menus', () => {
  it('Teams lists at most ten commands (its limit per list), each one the bot understands', () => {
    const titles: string[] = teams.bots[0].commandLists[0].commands.map((c: { title: string }) => c.title);
    expect(titles.length).toBeLessThanOrEqual(10);
    // A title alone must not be an unknown command (a missing argument is a usage answer about that command).
    for (const t of titles) expect({ t, ...parseCommand(t) }).not.toMatchObject({ kind: 'usage', verb: undefined });
  });

  it('Slack’s usage hint names commands the bot understands', () => {
    const hints = String(slack.features.slash_commands[0].usage_hint)
      .split('|')
      .map((h) => h.trim());
    for (const h of hints) expect({ h, ...parseCommand(h.replace(/<[^>]+>/g, '').trim()) }).not.toMatchObject({ kind: 'usage', verb: undefined });
  });
});

describe('the README’s command table', () => {
  it('names every command the help lists', () => {
    const table = readme.slice(readme.indexOf('| command | what it does |'), readme.indexOf('## Configuration'));
    const commands = helpText()
      .split('\n')
      .filter((l) => l.startsWith('- `'))
      .flatMap((l) => [...l.matchAll(/(?:^- |; |\. | \/ )`([a-z-]+(?: [a-z-]+)?)/g)].map((m) => m[1]!));
    const verbs = [...new Set(commands.map((c) => (c.startsWith('new ') || c.startsWith('list ') || c.startsWith('scan ') || c.startsWith('watch list') ? c : c.split(' ')[0]!)))];
    expect(verbs.length).toBeGreaterThan(15);
    expect(verbs.filter((v) => !table.includes(`\`${v}`))).toEqual([]);
  });
});

describe('the README’s figures', () => {
  it('counts the Fluid Relay checks the bot runs', () => {
    const target = DEFAULT_TARGETS.forCommand('fluid-relay');
    if (!target || isFleet(target)) throw new Error('no single-resource fluid-relay target');
    const n = target.checks.length;
    expect([...readme.matchAll(/(\d+) (?:prerequisite )?checks/g)].map((m) => Number(m[1]))).toEqual([n, n]);
  });
});
