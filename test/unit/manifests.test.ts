// The app manifests agree with what the code serves: paths, commands, events and scopes.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { HELP_LINES } from '../../src/chat/commands';

describe('Slack manifest', () => {
  const m = parse(readFileSync('manifests/slack/manifest.yaml', 'utf8'));

  it('points the command, interactivity, the select menus’ options and events at /slack/events', () => {
    expect(m.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/cmk']);
    for (const url of [m.features.slash_commands[0].url, m.settings.interactivity.request_url, m.settings.interactivity.message_menu_options_url, m.settings.event_subscriptions.request_url]) {
      expect(new URL(url).pathname).toBe('/slack/events');
    }
  });

  it('asks for the least scopes: the events it subscribes to and the calls it makes', () => {
    expect(m.oauth_config.scopes.bot.sort()).toEqual(['app_mentions:read', 'chat:write', 'commands']);
    expect(m.settings.event_subscriptions.bot_events).toEqual(['app_mention']);
    expect(m.settings.socket_mode_enabled).toBe(false);
  });
});

describe('Teams manifest', () => {
  const m = JSON.parse(readFileSync('manifests/teams/manifest.json', 'utf8'));

  it('lists the bot commands that the help text documents', () => {
    const titles = m.bots[0].commandLists[0].commands.map((c: { title: string }) => c.title);
    for (const t of titles) expect(HELP_LINES.join('\n')).toContain(`\`${t}`);
    expect(m.bots[0].scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
  });

  it('ships both icons at the sizes Teams requires', () => {
    const size = (f: string) => {
      const b = readFileSync(`manifests/teams/${f}`);
      return [b.readUInt32BE(16), b.readUInt32BE(20)];
    };
    expect(size(m.icons.color)).toEqual([192, 192]);
    expect(size(m.icons.outline)).toEqual([32, 32]);
  });
});
