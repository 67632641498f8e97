/**
 * `pogo observe` and startObserver take the timing settings `pogo node`
 * takes: the preset and each value, from flags or the library options.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildCli } from '../src/cli/main.js';
import { startObserver, type RunningObserver } from '../src/cli/observe.js';
import { ConfigError, TIMING_FIELDS } from '../src/config.js';
import { createLogger } from '../src/logger.js';

const secret = 'observe-timing-secret-0123456789';
let running: RunningObserver | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('observer timing', () => {
  it('startObserver runs the observer node on the preset and values given (text as typed after a flag too)', async () => {
    running = await startObserver({
      seeds: ['127.0.0.1:1'],
      secret,
      port: 0,
      log: createLogger({ level: 'silent' }),
      timing: { preset: 'local', heartbeatTimeoutMs: '1500' },
    });
    const { heartbeatIntervalMs, suspectAfterMs, heartbeatTimeoutMs, gossipIntervalMs } = running.node.config;
    expect({ heartbeatIntervalMs, suspectAfterMs, heartbeatTimeoutMs, gossipIntervalMs }).toEqual({
      heartbeatIntervalMs: 200,
      suspectAfterMs: 600,
      heartbeatTimeoutMs: 1_500,
      gossipIntervalMs: 500,
    });
  });

  it('without timing it runs the default preset (lan)', async () => {
    running = await startObserver({ seeds: ['127.0.0.1:1'], secret, port: 0, log: createLogger({ level: 'silent' }) });
    expect(running.node.config.preset).toBe('lan');
    expect(running.node.config.heartbeatIntervalMs).toBe(1_000);
  });

  it('refuses a bad preset or value, naming the setting, and leaves nothing running', async () => {
    await expect(startObserver({ seeds: ['127.0.0.1:1'], secret, port: 0, timing: { preset: 'fast' } })).rejects.toThrow(ConfigError);
    await expect(startObserver({ seeds: ['127.0.0.1:1'], secret, port: 0, timing: { preset: 'fast' } })).rejects.toThrow(/preset/);
    await expect(startObserver({ seeds: ['127.0.0.1:1'], secret, port: 0, timing: { suspectAfterMs: 50, heartbeatIntervalMs: 100 } })).rejects.toThrow(
      /suspectAfterMs.*must be greater than heartbeatIntervalMs/,
    );
  });

  it('takes a log level, checked as pogo node checks it (a bad one names the setting), and has a flag for it', async () => {
    await expect(startObserver({ seeds: ['127.0.0.1:1'], secret, port: 0, logLevel: 'loud' })).rejects.toThrow(/logLevel/);
    running = await startObserver({ seeds: ['127.0.0.1:1'], secret, port: 0, logLevel: 'silent' });
    expect(running.node.config.logLevel).toBe('silent');
    expect(
      buildCli()
        .commands.find((c) => c.name() === 'observe')!
        .options.map((o) => o.long),
    ).toContain('--log-level');
  });

  it('pogo observe has a flag for each timing setting, described as pogo node describes it', () => {
    const cli = buildCli();
    const flags = (name: string) => new Map(cli.commands.find((c) => c.name() === name)!.options.map((o) => [o.long, o.description]));
    const observe = flags('observe');
    const node = flags('node');
    for (const f of TIMING_FIELDS) expect(observe.get(f.flag)).toBe(node.get(f.flag));
    expect([...observe.keys()]).toEqual(expect.arrayContaining(['--preset', '--heartbeat-interval-ms', '--suspect-after-ms', '--heartbeat-timeout-ms']));
  });
});
