/**
 * The cluster harness's pure decisions (core/src/harness/launch.ts): the
 * `pogo node` command line, the spawned command with Node.js flags and a
 * prefix, the child's environment, and reading log lines for ports.
 */
import { describe, expect, it } from 'vitest';
import { childEnvironment, nodeCommandLine, readLogLine, spawnCommand, startInfo } from '../src/harness/launch.js';

describe('nodeCommandLine', () => {
  it('gives name, port 0 and the secret file, and nothing it was not asked for', () => {
    expect(nodeCommandLine({ name: 'n1', secretFile: '/s' })).toEqual(['node', '--name', 'n1', '--port', '0', '--secret-file', '/s']);
  });

  it('adds host, status port, one --seeds per seed, then the flags in order', () => {
    expect(
      nodeCommandLine({
        name: 'n2',
        secretFile: '/s',
        host: '10.0.0.2',
        port: 4002,
        statusPort: 0,
        seeds: ['a:1', 'b:2'],
        flags: ['--preset', 'local', '--data-dir', '/d'],
      }),
    ).toEqual([
      'node',
      '--name',
      'n2',
      '--host',
      '10.0.0.2',
      '--port',
      '4002',
      '--status-port',
      '0',
      '--secret-file',
      '/s',
      '--seeds',
      'a:1',
      '--seeds',
      'b:2',
      '--preset',
      'local',
      '--data-dir',
      '/d',
    ]);
  });
});

describe('spawnCommand', () => {
  it('runs the CLI with the executable, Node.js flags first', () => {
    expect(spawnCommand({ execPath: '/bin/node', nodeOptions: ['--import', 'hook.mjs'] }, ['node', '--name', 'x'], '/cli.js')).toEqual({
      command: '/bin/node',
      args: ['--import', 'hook.mjs', '/cli.js', 'node', '--name', 'x'],
    });
  });

  it('puts a prefix in front: the prefix is the command, the executable its argument', () => {
    expect(spawnCommand({ execPath: '/bin/node', wrap: ['ip', 'netns', 'exec', 'ns1'] }, ['demo'], '/cli.js')).toEqual({
      command: 'ip',
      args: ['netns', 'exec', 'ns1', '/bin/node', '/cli.js', 'demo'],
    });
  });

  it('defaults to this process executable', () => {
    expect(spawnCommand({}, [], '/cli.js').command).toBe(process.execPath);
  });
});

describe('childEnvironment', () => {
  const base = { PATH: '/bin', POGO_SECRET: 's', POGO_LOG_LEVEL: 'debug', EMPTY: undefined };

  it('keeps the environment and lays the extras over it; undefined removes', () => {
    expect(childEnvironment(base, { env: { POGO_LOG_LEVEL: 'info', PATH: undefined, X: '1' } })).toEqual({ POGO_SECRET: 's', POGO_LOG_LEVEL: 'info', X: '1' });
  });

  it('drops every POGO_* variable when asked, but not the ones given as extras', () => {
    expect(childEnvironment(base, { dropPogoEnv: true, env: { POGO_LOG_LEVEL: 'warn' } })).toEqual({ PATH: '/bin', POGO_LOG_LEVEL: 'warn' });
  });
});

describe('readLogLine and startInfo', () => {
  it('reads the address and incarnation of "node started"', () => {
    const line = readLogLine(JSON.stringify({ level: 30, msg: 'node started', address: '127.0.0.1:4001', incarnation: 'abc', role: 'member' }));
    expect(startInfo(line)).toEqual({ address: '127.0.0.1:4001', incarnation: 'abc' });
  });

  it('reads the status URL and the gateway URL', () => {
    expect(startInfo(readLogLine('{"level":30,"msg":"status endpoint listening","url":"http://127.0.0.1:5001"}'))).toEqual({
      statusUrl: 'http://127.0.0.1:5001',
    });
    expect(startInfo(readLogLine('{"msg":"gateway listening","url":"http://127.0.0.1:7070/?token=t","ui":true}'))).toEqual({
      gatewayUrl: 'http://127.0.0.1:7070/?token=t',
    });
    expect(readLogLine('{"msg":"demo ready"}')).toEqual({ level: 0, msg: 'demo ready' });
  });

  it('keeps text that is not a log line as text, never throwing', () => {
    expect(readLogLine('Segmentation fault')).toEqual({ level: 0, msg: '(not json) Segmentation fault' });
    expect(readLogLine('{"msg":1}')).toEqual({ level: 0, msg: '(not json) {"msg":1}' });
    expect(readLogLine('[1,2]').msg).toBe('(not json) [1,2]');
  });

  it('finds nothing in other lines, or in a start line whose fields are not strings', () => {
    expect(startInfo(readLogLine('{"level":30,"msg":"child started","id":"a"}'))).toEqual({});
    expect(startInfo(readLogLine('{"level":30,"msg":"node started","address":42}'))).toEqual({});
  });
});
