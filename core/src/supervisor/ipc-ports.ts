/**
 * The two transports of an OS child's message channel (ipc-channel.ts), and
 * how a spawn is set up for each (ipc-protocol.ts documents what a child
 * sees):
 *
 *   json-lines  a 4th stdio entry 'pipe': libuv makes it a Unix socketpair,
 *               so fd IPC_FD in the child is one two-way stream socket. The
 *               node's end is a net.Socket; bytes are framed by line-codec.ts.
 *   node        a 4th stdio entry 'ipc': Node's own channel (NODE_CHANNEL_FD,
 *               set by Node), JSON serialisation; the node sends objects.
 *
 * Either way the child's env gets POGO_IPC (the mode) and, for json-lines,
 * POGO_IPC_FD. They are set after the spec's own `env`, so a spec cannot
 * point the child at the wrong descriptor (childEnv strips every POGO_* of
 * the node's own environment before that).
 *
 * Race: after the child closed its end, a write fails asynchronously (EPIPE,
 * or write-after-end once the socket has ended); `send` reports it through
 * `done`, and the socket's 'error' is handled so it is never an uncaught
 * exception of the node.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import type { IpcMode } from './child-spec.js';
import type { IpcChannel, IpcPort } from './ipc-channel.js';
import { LineDecoder, encodeLine } from './line-codec.js';

/** The child's descriptor for json-lines: the 4th stdio entry. */
export const IPC_FD = 3;

/** The stdio of a spawned OS child: no stdin, captured stdout and stderr, and the channel when it has one. */
export function ipcStdio(mode: IpcMode | undefined): StdioOptions {
  if (mode === 'json-lines') return ['ignore', 'pipe', 'pipe', 'pipe'];
  if (mode === 'node') return ['ignore', 'pipe', 'pipe', 'ipc'];
  return ['ignore', 'pipe', 'pipe'];
}

/** The env variables that tell the child about its channel. */
export function ipcEnv(mode: IpcMode | undefined): Record<string, string> {
  if (mode === 'json-lines') return { POGO_IPC: mode, POGO_IPC_FD: String(IPC_FD) };
  if (mode === 'node') return { POGO_IPC: mode };
  return {};
}

/** Connects `channel` to a spawned child's transport. */
export function connectIpc(mode: IpcMode, child: ChildProcess, channel: IpcChannel, maxLineBytes: number, log: Logger): void {
  if (mode === 'node') return channel.attach(nodeIpcPort(child, channel));
  // Null only when the spawn itself failed; then the channel stays unattached and refuses calls (`no-handler`).
  const socket = child.stdio[IPC_FD] as Socket | null | undefined;
  if (socket) channel.attach(jsonLinesPort(socket, channel, maxLineBytes, log));
}

function jsonLinesPort(socket: Socket, channel: IpcChannel, maxLineBytes: number, log: Logger): IpcPort {
  const via = `fd ${IPC_FD}`;
  const decoder = new LineDecoder(maxLineBytes);
  socket.on('data', (chunk: Buffer) => {
    for (const event of decoder.push(chunk)) channel.onLine(event);
  });
  socket.on('end', () => {
    for (const event of decoder.end()) channel.onLine(event);
    channel.inputEnded(`the child closed ${via}`);
  });
  socket.on('error', (err) => {
    log.debug({ err: err.message }, `message channel (${via}) error`);
    channel.inputEnded(`${via} failed: ${err.message}`);
  });
  socket.on('close', () => channel.inputEnded(`${via} closed`));
  return {
    via,
    send(text, _message, done) {
      if (socket.destroyed || !socket.writable) {
        queueMicrotask(() => done(new Error(`${via} is closed`)));
        return;
      }
      socket.write(encodeLine(text), (err) => done(err));
    },
  };
}

function nodeIpcPort(child: ChildProcess, channel: IpcChannel): IpcPort {
  const via = 'the Node.js IPC channel';
  child.on('message', (message: unknown) => channel.onMessage(message));
  child.on('disconnect', () => channel.inputEnded(`${via} was closed`));
  return {
    via,
    send(_text, message, done) {
      if (!child.connected) {
        queueMicrotask(() => done(new Error(`${via} is closed`)));
        return;
      }
      try {
        child.send(message, (err) => done(err));
      } catch (err) {
        queueMicrotask(() => done(err as Error));
      }
    },
  };
}
