/**
 * `pogo ctl explain` and `status` as text (cli/ctl.ts `explainText`,
 * `membersTable`, pure): the owner and why, and while rebalancing is paused
 * a child held where it runs — the tour found it named the runner "owner
 * (by hash)" beside a higher score; and a member down or gone shows no
 * readiness (it said "yes").
 */
import { describe, expect, it } from 'vitest';
import { auditTable, explainText, membersTable, notReadyLines, restartedText, statusText, statusWarnings } from '../src/cli/ctl.js';
import { buildCli } from '../src/cli/main.js';
import { MemberStatusReplySchema, type ExplanationReport } from '../src/observer/ui-protocol.js';

const explanation = (over: Partial<ExplanationReport> = {}): ExplanationReport => ({
  id: 'w8',
  spec: { id: 'w8', start: { worker: 'w' }, restart: 'permanent', handoff: 'stop-first' },
  owner: 'n3',
  by: 'hash',
  paused: false,
  instances: [{ node: 'n3', pid: 'n3/abc/1' }],
  candidates: [
    { node: 'n3', excludedBy: [], score: 3.4884 },
    { node: 'n2', excludedBy: [], score: 2.1984 },
    { node: 'obs', excludedBy: ['observer'] },
  ],
  waiting: [],
  ...over,
});

describe('pogo ctl explain', () => {
  it('names the owner and why; an observer is left out of the table', () => {
    const text = explainText(explanation());
    expect(text.split('\n')[0]).toBe('w8: owner n3 (by hash)');
    expect(text).toMatch(/^NODE\s+SCORE\s+PLACEMENT\s+EXCLUDED BY$/m); // the marks' column has a header
    expect(text).toMatch(/^n3\s+3\.4884\s+owner\s*$/m);
    expect(text).toMatch(/^n2\s+2\.1984\s*$/m);
    expect(text).not.toContain('obs');
  });

  it('paused, a child held where it runs: held there, and where it goes on resume', () => {
    const text = explainText(explanation({ owner: 'n2', paused: true, resumeTo: 'n3', instances: [{ node: 'n2', pid: 'n2/abc/1' }] }));
    expect(text.split('\n')[0]).toBe('w8: held on n2 while rebalancing is paused; on resume: n3 (by hash)');
    expect(text).toMatch(/^n3\s+3\.4884\s+on resume\s*$/m);
    expect(text).toMatch(/^n2\s+2\.1984\s+held \(paused\)\s*$/m);
  });

  it('paused, a child already on its hash owner: the owner, and that rebalancing is paused', () => {
    const text = explainText(explanation({ paused: true, resumeTo: 'n3' }));
    expect(text.split('\n')[0]).toBe('w8: owner n3 (by hash), rebalancing paused');
  });
});

describe('pogo ctl status', () => {
  it("readiness is a running member's: down and left show -", () => {
    const text = membersTable([
      { name: 'n1', status: 'up', address: 'h:1', ready: true, draining: false },
      { name: 'n2', status: 'suspect', address: 'h:2', ready: false },
      { name: 'n3', status: 'down', address: 'h:3', ready: true },
      { name: 'n4', status: 'left', address: 'h:4', ready: true, draining: true },
    ]);
    expect(text).toMatch(/^n1\s+up\s+h:1\s+yes\s+no$/m);
    expect(text).toMatch(/^n2\s+suspect\s+h:2\s+no\s+no$/m);
    expect(text).toMatch(/^n3\s+down\s+h:3\s+-\s+no$/m);
    expect(text).toMatch(/^n4\s+left\s+h:4\s+-\s+yes$/m);
  });
});

describe('pogo ctl status: no member can take a child', () => {
  const children = { specs: 3, running: 3, pending: 0, moving: 0, failing: 0, unplaceable: 0, duplicate: 0 } as never;
  it('warns when every member that is up is draining, and not while one is not', () => {
    const members = [
      { name: 'n1', status: 'up', address: 'h:1', ready: true, draining: true },
      { name: 'n2', status: 'up', address: 'h:2', ready: true, draining: true },
      { name: 'n3', status: 'down', address: 'h:3', ready: true, draining: false },
    ];
    expect(statusText({ members, children, paused: false, node: 'n1' })).toMatch(/^warning: every member that is up is draining/m);
    // The JSON says the same (`warnings`): a script need not derive it.
    expect(statusWarnings(members)).toEqual(['every member that is up is draining: no child has a node to move to or start on']);
    members[1]!.draining = false;
    expect(statusText({ members, children, paused: false, node: 'n1' })).not.toMatch(/warning/);
    expect(statusWarnings(members)).toEqual([]);
  });

  it("prints the answering member's notices (a state file moved aside at start) as warnings", () => {
    const members = [{ name: 'n1', status: 'up', address: 'h:1', ready: true, draining: false }];
    const notices = ['n1: its desired state file was written by a newer release (format 3; this one reads up to 2)'];
    expect(statusText({ members, children, paused: false, node: 'n1', notices })).toMatch(
      /^warning: n1: its desired state file was written by a newer release \(format 3; this one reads up to 2\)$/m,
    );
  });
});

/** `members`, as the `status` reply of `node` with no children, read the way a ctl of this release reads it. */
function readAsStatusReply(node: string, members: ReadonlyArray<object>) {
  const children = { specs: 0, running: 0, pending: 0, moving: 0, duplicate: 0, failing: 0, unplaceable: 0, local: 0 };
  return MemberStatusReplySchema.parse({ node, members: members.map((m) => ({ ...m, role: 'member' })), children, paused: false });
}

describe('pogo ctl status: members whose netsplit settings differ', () => {
  const children = { specs: 0, running: 0, pending: 0, moving: 0, failing: 0, unplaceable: 0, duplicate: 0 } as never;
  it('names the member that differs, what it breaks and what to do; says nothing of members that announce nothing or are not linked', () => {
    const majority3 = { mode: 'majority' as const, expectedMembers: 3 };
    const members = [
      { name: 'n1', status: 'up', address: 'h:1', ready: true, draining: false, netsplit: majority3 },
      { name: 'n2', status: 'up', address: 'h:2', ready: true, draining: false, netsplit: majority3 },
      { name: 'n3', status: 'up', address: 'h:3', ready: true, draining: false, netsplit: { mode: 'available' as const } },
      { name: 'n4', status: 'up', address: 'h:4', ready: true, draining: false }, // an earlier release
      { name: 'n5', status: 'down', address: 'h:5', ready: true, draining: false, netsplit: { mode: 'majority' as const, expectedMembers: 5 } },
    ];
    const expected =
      'n3 runs --netsplit available while n1, n2 run majority (expected 3): during a split n3 runs children the others cannot see; ' +
      'give every member the same --netsplit and --expected-members';
    expect(statusWarnings(members)).toEqual([expected]);
    expect(statusText({ members, children, paused: false, node: 'n1' })).toContain(`\nwarning: ${expected}\n`);
    // The reply as a ctl of this release reads it keeps the settings.
    const reply = readAsStatusReply('n1', members);
    expect(reply.members[2]!.netsplit).toEqual({ mode: 'available' });
    members[2]!.netsplit = majority3;
    expect(statusWarnings(members)).toEqual([]);
  });
});

describe('pogo ctl status: members that cannot save their desired state', () => {
  const children = { specs: 0, running: 0, pending: 0, moving: 0, failing: 0, unplaceable: 0, duplicate: 0 } as never;
  it('names every linked member whose save fails (but the one asked: its notice says it), since when and why, with terminal escapes shown as ?', () => {
    const since = Date.UTC(2026, 11, 6, 4, 0, 0);
    const members = [
      { name: 'n1', status: 'up', address: 'h:1', ready: true, draining: false, saveFailing: { since, error: 'EROFS: read-only file system' } },
      { name: 'n2', status: 'up', address: 'h:2', ready: true, draining: false, saveFailing: { since, error: 'ENOSPC: no space\u001b[2J left' } },
      { name: 'n3', status: 'up', address: 'h:3', ready: true, draining: false },
      { name: 'n4', status: 'down', address: 'h:4', ready: true, draining: false, saveFailing: { since, error: 'EIO' } }, // its last word, not now
    ];
    const expected =
      'n2 cannot save its desired state to its data dir since 2026-12-06T04:00:00.000Z (ENOSPC: no space?[2J left): the others hold the state, ' +
      'but a restart of every member now would lose the changes made since; see its logs';
    expect(statusWarnings(members, 'n1')).toEqual([expected]);
    expect(statusWarnings(members, 'n3')).toHaveLength(2);
    expect(statusText({ members, children, paused: false, node: 'n1' })).toContain(`\nwarning: ${expected}\n`);
    // The reply as a ctl of this release reads it keeps the field (a ctl of 2.5 drops it: z.object strips unknown keys).
    const reply = readAsStatusReply('n3', members);
    expect(reply.members[1]!.saveFailing).toEqual(members[1]!.saveFailing);
  });
});

describe('pogo ctl status: members not ready', () => {
  const children = { specs: 0, running: 0, pending: 0, moving: 0, failing: 0, unplaceable: 0, duplicate: 0 } as never;
  it('says whom each one up waits for, since its start, until its deadline; one that has not said yet says so; one down or ready no line', () => {
    const startedAt = Date.UTC(2026, 11, 6, 16, 36, 1, 250);
    const waitsFor = { notLinked: ['n2', 'n4'], roster: ['n4'], notSynced: ['n3'], joined: true, leased: false, until: startedAt + 600_000 };
    const members = readAsStatusReply('n1', [
      { name: 'n1', status: 'up', address: 'h:1', ready: false, draining: false, waitsFor, startedAt },
      { name: 'n2', status: 'down', address: 'h:2', ready: false, draining: false, waitsFor, startedAt },
      { name: 'n3', status: 'up', address: 'h:3', ready: false, draining: false }, // waiting under a second, or an earlier release
      { name: 'n5', status: 'up', address: 'h:5', ready: true, draining: false, startedAt },
    ]).members;
    const n1 =
      'n1 not ready since 2026-12-06T16:36:01Z: waits for a link to n2; n4 (in its saved roster, not heard of since it restarted); ' +
      'the state of n3 (linked, not synced yet); a majority of the expected members (majority mode); ' +
      'at 2026-12-06T16:46:01Z (--ready-timeout-ms, its clock) it takes children without them; ' +
      'n2, n4 are reached by no member here: if they are gone for good, pogo ctl forget n2 (each) ends the wait; otherwise look at the network to them';
    const n3 = 'n3 not ready: it has not said what it waits for yet (pogo ctl status --seed at it says)';
    expect(notReadyLines(members)).toEqual([n1, n3]);
    // Under the table, before the children's counts.
    expect(statusText({ members, children, paused: false, node: 'n1' })).toMatch(/^n5 .*\n\n(.*\n){2}\nchildren: /m);
    expect(statusText({ members, children, paused: false, node: 'n1' })).toContain(`\n${n1}\n${n3}\n\nchildren: `);
  });
});

describe('pogo ctl audit', () => {
  it('shows the verified token name beside the name the client declared', () => {
    const entry = {
      at: Date.UTC(2026, 11, 5),
      node: 'n1',
      from: 'ctl-h-1',
      by: 'root',
      incarnation: 'abc',
      seq: 1,
      op: 'pause',
      args: [],
      ok: true,
      result: 'ok',
    };
    const text = auditTable([
      { ...entry, tokenName: 'alice' },
      { ...entry, seq: 2, by: 'mallory', ok: false, result: 'unauthorized: x' },
    ]);
    expect(text).toMatch(/^WHEN\s+NODE\s+TOKEN\s+BY\s+FROM\s+COMMAND\s+RESULT$/m);
    expect(text).toMatch(/^2026-12-05T00:00:00\.000Z\s+n1\s+alice\s+root\s+ctl-h-1\s+pause\s+ok$/m);
    expect(text).toMatch(/^2026-12-05T00:00:00\.000Z\s+n1\s+-\s+mallory\s+/m);
  });
});

describe('pogo ctl restart', () => {
  it('says the new instance starts fresh, in its help and in what it prints (a restart hands no state over; a move does)', () => {
    expect(restartedText({ id: 'kv', node: 'n2', pid: 'n2/ab/c3' })).toBe(
      'restarted kv on n2: new instance n2/ab/c3, started fresh (a restart hands no state over; a move does)\n',
    );
    let help = '';
    const ctl = buildCli().commands.find((c) => c.name() === 'ctl')!;
    ctl.configureOutput({ writeOut: (text) => (help += text) });
    ctl.outputHelp();
    expect(help.replace(/\s+/g, ' ')).toContain(
      'restart <id> a new instance of the child on the node it runs on, started fresh: ' +
        'the old instance hands no state over (to keep it, move the child instead)',
    );
  });
});
