// What a person is told when something goes wrong, the same in every channel.
import { ArmError } from '../../src/azure/port';
import { describeFailure } from '../../src/chat/faults';
import { Refusal } from '../../src/workflow/service';
import { changeRequest } from '../fixtures/requests';

type Line = [level: string, msg: string, data?: Record<string, unknown>];
function recorder() {
  const lines: Line[] = [];
  return { lines, log: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void lines.push([level, msg, data]) };
}

describe('describeFailure', () => {
  it('shows a refusal as written, without logging it', () => {
    const { lines, log } = recorder();
    const f = describeFailure(new Refusal('You requested CR-ABCDEF, so you cannot approve it. <b>as typed</b>'), log);
    expect(f).toEqual({ kind: 'refusal', text: 'You requested CR-ABCDEF, so you cannot approve it. <b>as typed</b>' });
    expect(lines).toEqual([]);
  });

  it('carries the request as it is now when the refusal has one (a decision on a stale card)', () => {
    const r = new Refusal('CR-ABCDEF changed after you looked at it');
    r.current = changeRequest({ digest: 'd9' });
    const f = describeFailure(r, recorder().log);
    expect(f.kind).toBe('refusal');
    expect(f.kind === 'refusal' && f.current?.digest).toBe('d9');
  });

  it('says what Azure answered, with its code and correlation id, and logs a warning', () => {
    const { lines, log } = recorder();
    const f = describeFailure(new ArmError('AuthorizationFailed', 'The client does not have authorization', 403, 'corr-123'), log, 'a Slack action');
    expect(f).toEqual({ kind: 'azure', text: 'Azure answered with an error: AuthorizationFailed: The client does not have authorization (correlation id corr-123)' });
    expect(lines).toEqual([['warn', 'ARM call failed during a Slack action', { code: 'AuthorizationFailed', status: 403, correlationId: 'corr-123' }]]);
  });

  it('anything else: a reference the person can quote, the same reference on the logged stack, nothing of the error shown', () => {
    const { lines, log } = recorder();
    const f = describeFailure(new TypeError('secret internals: cannot read properties of undefined'), log, 'a Teams turn');
    expect(f.kind).toBe('fault');
    const ref = /reference ([0-9a-f]{8})\)/.exec(f.text)?.[1];
    expect(ref).toBeDefined();
    expect(f.text).toBe(`Something went wrong on my side (reference ${ref}). Nothing was changed in Azure. Please try again.`);
    expect(f.text).not.toMatch(/secret internals/);
    expect(lines).toHaveLength(1);
    expect(lines[0]![0]).toBe('error');
    expect(lines[0]![1]).toBe('unexpected failure in a Teams turn');
    expect(lines[0]![2]).toMatchObject({ ref });
    expect(String(lines[0]![2]!.error)).toMatch(/TypeError: secret internals/);
  });

  it('a thrown non-error is a fault too', () => {
    const { lines, log } = recorder();
    expect(describeFailure('boom', log).kind).toBe('fault');
    expect(lines[0]![2]).toMatchObject({ error: 'boom' });
  });

  it('two faults get two references', () => {
    const { log } = recorder();
    expect(describeFailure(new Error('a'), log).text).not.toBe(describeFailure(new Error('a'), log).text);
  });
});
