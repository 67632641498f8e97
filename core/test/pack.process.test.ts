/**
 * The server install path: `npm pack` of core installs into an empty
 * directory, `pogo node` from there joins a cluster, and `pogo ctl` from
 * there reads it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessCluster } from './support/processes.js';

let cluster: ProcessCluster;
afterEach(async () => {
  await cluster.stopAll();
});

describe('server install', () => {
  it('npm pack installs into an empty directory and its pogo node joins a cluster', async () => {
    cluster = new ProcessCluster();
    const coreDir = fileURLToPath(new URL('..', import.meta.url));
    const packDir = mkdtempSync(join(tmpdir(), 'pogo-pack-'));
    const npm = (args: string[], cwd: string): string =>
      execFileSync('npm', args, { cwd, encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
    // --ignore-scripts: prepack would clean and rebuild core/dist, pulling it from under the
    // test files running beside this one; the suite's global setup has just built it.
    const listing = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], coreDir)) as Array<{
      files: Array<{ path: string }>;
    }>;
    const paths = listing[0]!.files.map((f) => f.path);
    // Only what a server needs: the build, the bin launcher, the readme and licence; no sources, tests or temp files.
    expect(paths.filter((p) => !/^(dist\/|bin\/|README\.md$|LICENSE$|package\.json$)/.test(p))).toEqual([]);
    expect(paths).toContain('dist/cli/main.bundle.cjs');
    const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'))!;
    const server = mkdtempSync(join(tmpdir(), 'pogo-server-'));
    writeFileSync(join(server, 'package.json'), JSON.stringify({ name: 'ops-server', private: true }));
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(packDir, tarball)], server);

    const n1 = await cluster.start('n1');
    const { spawn } = await import('node:child_process');
    const child = spawn(
      join(server, 'node_modules', '.bin', 'pogo'),
      ['node', '--name', 'packed', '--port', '0', '--secret-file', cluster.secretFile, '--seeds', n1.address],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: server },
    );
    const { NodeProcess } = await import('./support/processes.js');
    const packed = new NodeProcess('packed', child);
    cluster.procs.push(packed);
    await cluster.until(async () => (await n1.status()).members.some((m) => m.name === 'packed' && m.status === 'up'), 15_000, 'the installed node joined');
    expect((await n1.status()).members.find((m) => m.name === 'packed')?.role).toBe('member');

    // The installed `pogo ctl`: the CLI's bundle (core/rolldown.config.mjs) is in the package and runs from there.
    const status = JSON.parse(
      execFileSync(join(server, 'node_modules', '.bin', 'pogo'), ['ctl', 'status', '--seed', n1.address, '--secret-file', cluster.secretFile, '--json'], {
        cwd: server,
        encoding: 'utf8',
        timeout: 30_000,
      }),
    ) as { ok: boolean; result: { members: Array<{ name: string }> } };
    expect(status.ok).toBe(true);
    expect(status.result.members.map((m) => m.name).sort()).toEqual(['n1', 'packed']);
  }, 300_000);
});
