/**
 * CommandClient's failures say whether a command reached the link: a change
 * sent and then not answered (the link lost, no reply in time) may have been
 * executed by the member, and the error says so — a script retrying on
 * `unreachable` would otherwise apply a `call` or a `restart` twice. A
 * command never sent, and a read, say nothing of the kind. Simulated time,
 * no network: the link is a function that records what is sent.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { CommandClient } from '../src/commands.js';
import type { Command } from '../src/protocol.js';

const MAYBE = /may or may not have been/;

function client(linked = true): { commands: CommandClient; sent: Command[]; clock: ManualClock } {
  const clock = new ManualClock();
  const sent: Command[] = [];
  const commands = new CommandClient((_peer, cmd) => {
    if (linked) sent.push(cmd);
    return linked;
  }, clock);
  return { commands, sent, clock };
}

describe('CommandClient: what a failure says about a command that was sent', () => {
  it('a call sent, then the link lost: unreachable, and the message may or may not have been handled', async () => {
    const { commands, sent } = client();
    const outcome = commands.request('n3', 'call', { id: 'kv', message: { op: 'put' } }, 'token', 'alice', 15_000);
    expect(sent).toHaveLength(1);
    commands.peerDown('n3');
    expect(await outcome).toEqual({
      ok: false,
      error: {
        code: 'unreachable',
        message: 'lost the link to n3 after call was sent: the message may or may not have been handled (it is not sent again; check before sending it again)',
      },
    });
  });

  it('any other change sent before the link was lost may or may not have been executed, named', async () => {
    const { commands } = client();
    const outcomes = [
      commands.request('n1', 'restart', { id: 'web' }, 'token', 'alice', 15_000),
      commands.request('n1', 'stop', { id: 'web' }, 'token', 'alice', 15_000),
      commands.request('n1', 'move', { id: 'web', node: 'n2' }, 'token', 'alice', 15_000),
    ];
    commands.peerDown('n1');
    const messages = (await Promise.all(outcomes)).map((o) => (o.ok ? '' : o.error.message));
    expect(messages).toEqual([
      'lost the link to n1 after restart was sent: the restart may or may not have been executed (it is not sent again; check before retrying)',
      'lost the link to n1 after stop was sent: the stop may or may not have been executed (it is not sent again; check before retrying)',
      'lost the link to n1 after move was sent: the move may or may not have been executed (it is not sent again; check before retrying)',
    ]);
  });

  it('a change sent and not answered in time may or may not have been executed', async () => {
    const { commands, clock } = client();
    const outcome = commands.request('n1', 'restart', { id: 'web' }, 'token', 'alice', 15_000);
    clock.advance(15_000);
    const o = await outcome;
    expect(o.ok).toBe(false);
    expect(!o.ok && o.error).toEqual({
      code: 'timeout',
      message: 'n1 did not answer restart within 15000 ms: the restart may or may not have been executed (it is not sent again; check before retrying)',
    });
  });

  it('a change never sent is plainly unreachable; a read in flight changes nothing either way', async () => {
    const unlinked = client(false);
    const never = await unlinked.commands.request('n1', 'call', { id: 'kv', message: 1 }, 'token', 'alice', 15_000);
    expect(never).toEqual({ ok: false, error: { code: 'unreachable', message: 'not linked to n1: call was not sent' } });

    const { commands } = client();
    const read = commands.request('n1', 'status', {}, '', 'alice', 15_000);
    commands.peerDown('n1');
    const r = await read;
    expect(!r.ok && r.error).toEqual({ code: 'unreachable', message: 'lost the link to n1 after status was sent' });
    expect(!r.ok && r.error.message).not.toMatch(MAYBE);
  });
});
