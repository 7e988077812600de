// Conversation table: what the user types → what the bot understands.
import { HELP_LINES, parseCommand } from '../../src/chat/commands';

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
    expect(parseCommand('evidence')).toEqual({ kind: 'usage', problem: '`evidence` needs a request id, e.g. `evidence CR-7KQ2MX`.' });
    expect(HELP_LINES.join('\n')).toMatch(/`evidence <request id>` — one JSON record of the change/);
  });
});
