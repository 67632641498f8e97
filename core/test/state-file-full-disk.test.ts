/**
 * The data dir's lock on a full disk (an outsider's tour: a node started on a
 * full tmpfs). The file system's ENOSPC is simulated: writes to files of the
 * data dir fail while `full` is set, as they do once a disk has no space.
 */
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { MemoryLogger } from '../src/logger.js';
import { StateFile } from '../src/distributed/state-file.js';

const disk = vi.hoisted(() => ({ full: false }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return {
    ...real,
    writeSync: (...args: Parameters<typeof real.writeSync>) => {
      if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return (real.writeSync as (...a: unknown[]) => number)(...args);
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  disk.full = false;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('data dir on a full disk', () => {
  it('a start refused for want of space leaves no empty lock draft behind (one per attempt under a restart loop)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pogo-full-'));
    dirs.push(dir);
    disk.full = true;
    for (let attempt = 0; attempt < 3; attempt++)
      expect(() => StateFile.open(dir, { node: 'n1', clock: new ManualClock(0), log: new MemoryLogger() })).toThrow(
        /cannot create the lock file .*pogo\.lock: ENOSPC/,
      );
    expect(readdirSync(dir)).toEqual([]);
    disk.full = false;
    const store = StateFile.open(dir, { node: 'n1', clock: new ManualClock(0), log: new MemoryLogger() });
    expect(readdirSync(dir)).toEqual(['pogo.lock']);
    store.close();
  });
});
