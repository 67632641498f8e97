/**
 * `pogo ctl ls` as a table (cli/ctl.ts `lsTable`, pure): the OS pid of
 * command children, and while rebalancing is paused where each child goes
 * on resume — a column that exists only then.
 */
import { describe, expect, it } from 'vitest';
import { lsTable } from '../src/cli/ctl.js';
import type { ChildReport } from '../src/observer/ui-protocol.js';

const child = (id: string, over: Partial<ChildReport> = {}): ChildReport => ({
  id,
  spec: { id, start: { worker: 'w' }, restart: 'permanent', handoff: 'stop-first' },
  rev: 'r1',
  status: 'running',
  node: 'n1',
  pid: 'n1/abcdef0123456789/c1',
  instances: [{ node: 'n1', pid: 'n1/abcdef0123456789/c1' }],
  restarts: 0,
  owner: 'n1',
  failures: [],
  ...over,
});

describe('pogo ctl ls', () => {
  it('shows the OS pid of command children, and no ON RESUME column while rebalancing runs', () => {
    const text = lsTable([
      child('job', { osPid: 4242, spec: { id: 'job', start: { command: '/bin/sh' }, restart: 'permanent', handoff: 'stop-first' } }),
      child('web'),
    ]);
    expect(text.split('\n')).toEqual([
      'ID   STATUS   NODE  OWNER  PIN  OS PID  LAST ERROR',
      'job  running  n1    n1     -    4242',
      'web  running  n1    n1     -    -',
      '',
    ]);
  });

  it('while paused: ON RESUME names where each child goes, "(stays)" when it stays, and says what the column means', () => {
    const text = lsTable([
      child('a', { resumeTo: 'n3' }),
      child('b', { resumeTo: 'n1' }),
      child('c', { status: 'pending', node: undefined, owner: 'n2', resumeTo: 'n2' }),
    ]);
    expect(text.split('\n')).toEqual([
      'ID  STATUS   NODE  OWNER  PIN  OS PID  ON RESUME   LAST ERROR',
      'a   running  n1    n1     -    -       n3',
      'b   running  n1    n1     -    -       n1 (stays)',
      'c   pending  -     n2     -    -       n2',
      'rebalancing is paused: ON RESUME is where each child runs once it resumes',
      '',
    ]);
  });
});
