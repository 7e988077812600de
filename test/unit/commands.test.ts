// Conversation table: what the user types → what the bot understands.
import { HELP_LINES, helpFor, helpText, parseCommand, usageText } from '../../src/chat/commands';

describe('command parser', () => {
  it.each([
    ['help', { kind: 'help' }],
    ['', { kind: 'help' }],
    ['  HELP  ', { kind: 'help' }],
    ['new fluid-relay', { kind: 'new', target: 'fluid-relay' }],
    ['New Fluid-Relay', { kind: 'new', target: 'fluid-relay' }],
    ['status cr-7kq2mx', { kind: 'status', id: 'CR-7KQ2MX' }],
  ])('%j → %j', (text, cmd) => {
    expect(parseCommand(text)).toEqual(cmd);
  });

  it.each([
    ['new', /needs a target/],
    ['new cosmos-db', /can't create "cosmos-db"/],
    ['status', /needs a request id/],
    ['status 42', /not a request id/],
    ['deploy everything', /I don't know "deploy"/],
  ])('%j gets usage text: %s', (text, problem) => {
    const c = parseCommand(text);
    expect(c.kind).toBe('usage');
    expect((c as { problem: string }).problem).toMatch(problem);
  });
});

describe('check command', () => {
  it('takes a request id or a resource id', () => {
    expect(parseCommand('check cr-7kq2mx')).toEqual({ kind: 'check-request', id: 'CR-7KQ2MX' });
    const id = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/fr1';
    expect(parseCommand(`check ${id}/`)).toEqual({ kind: 'check-resource', resourceId: id });
  });
  it.each(['check', 'check fr1', 'check /subscriptions/s'])('%j gets usage text', (t) => {
    expect(parseCommand(t).kind).toBe('usage');
  });
});

describe('approval commands', () => {
  it.each([
    ['list', { kind: 'list', which: 'pending' }],
    ['list mine', { kind: 'list', which: 'mine' }],
    ['cancel cr-7kq2mx', { kind: 'cancel', id: 'CR-7KQ2MX' }],
    ['audit CR-7KQ2MX', { kind: 'audit', id: 'CR-7KQ2MX' }],
    ['evidence cr-7kq2mx', { kind: 'evidence', id: 'CR-7KQ2MX' }],
    ['Evidence CR-7KQ2MX', { kind: 'evidence', id: 'CR-7KQ2MX' }],
  ])('%j → %j', (t, c) => expect(parseCommand(t)).toEqual(c));
  it.each(['list all', 'cancel', 'audit 12', 'evidence', 'evidence CR-1'])('%j gets usage text', (t) => expect(parseCommand(t).kind).toBe('usage'));
  it('`evidence` needs a request id, and help lists it', () => {
    expect(parseCommand('evidence')).toEqual({ kind: 'usage', verb: 'evidence', problem: '`evidence` needs a request id, e.g. `evidence CR-7KQ2MX`.' });
    expect(HELP_LINES.join('\n')).toMatch(/`evidence <request id>` — one JSON record of the change/);
  });
});

describe('help for one verb, and usage answers that stay short', () => {
  it.each([
    ['help new', { kind: 'help', verb: 'new' }],
    ['HELP Status', { kind: 'help', verb: 'status' }],
    ['help new fluid-relay', { kind: 'help', verb: 'new' }],
    ['? check', { kind: 'help', verb: 'check' }],
    ['help help', { kind: 'help', verb: 'help' }],
  ])('%j → %j', (t, c) => expect(parseCommand(t)).toEqual(c));

  it('help on a verb that does not exist is a usage answer that points at the list', () => {
    const c = parseCommand('help deploy');
    expect(c).toMatchObject({ kind: 'usage', problem: 'There is no command "deploy".' });
    expect(usageText((c as { problem: string }).problem)).toBe('There is no command "deploy".\n\nSend `help` for the list of commands.');
  });

  it.each(['new', 'rotate', 'status', 'check', 'list', 'cancel', 'audit', 'evidence', 'help'])('`help %s` explains only that verb, with an example', (verb) => {
    const text = helpFor(verb);
    expect(text).toContain(`\`${verb}`);
    expect(text).toMatch(/e\.g\.|Example/);
    // Only that verb: no other command's line (`new` lists one line per target, so it is the longest).
    expect(text.length).toBeLessThan(helpText().length * (verb === 'new' ? 0.75 : 0.5));
    for (const other of ['audit <request id>', 'list pending', 'watch <scope>']) if (!other.startsWith(verb)) expect(text).not.toContain(other);
  });

  it('the full help names `help <command>`, and every verb it lists has its own help', () => {
    expect(helpText()).toMatch(/`help <command>`/);
    for (const verb of [...helpText().matchAll(/^- `(\w+)/gm)].map((m) => m[1]!)) expect(helpFor(verb)).not.toBe(helpText());
    expect(helpText()).toBe(helpText(undefined));
    expect(helpText('status')).toBe(helpFor('status'));
  });

  it.each([
    ['status', 'status'],
    ['status 42', 'status'],
    ['new cosmos-db', 'new'],
    ['check fr1', 'check'],
    ['list all', 'list'],
    ['cancel', 'cancel'],
    ['rotate nothing', 'rotate'],
    ['new fluid-relay --from x', 'new'],
  ])('a usage error on %j names its verb', (t, verb) => expect(parseCommand(t)).toMatchObject({ kind: 'usage', verb }));

  it('a usage error is the cause in one line, then where to read more — never the whole help', () => {
    const c = parseCommand('status 42') as { problem: string; verb?: string };
    const text = usageText(c.problem, c.verb);
    expect(text).toBe('"42" is not a request id; they look like CR-7KQ2MX.\n\nSend `help status` for how to use it.');
    expect(text).not.toContain(HELP_LINES[0]);
    expect(usageText('I don\'t know "launch".')).toBe('I don\'t know "launch".\n\nSend `help` for the list of commands.');
  });
});
