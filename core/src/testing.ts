/**
 * pogo-core/testing: the test doubles, for tests of code that embeds a node.
 *
 * Everything in pogo-core takes its time, randomness, network and logger
 * injected; these are the deterministic stand-ins the library's own tests
 * use. A ManualClock moves only when told to, a SeededRandom repeats its
 * sequence for a seed, a MemoryNetwork links in-process MemoryTransports
 * with injectable faults (partitions, delay, loss), a MemoryLogger keeps
 * what was logged and silentLogger drops it. None of them belongs in a
 * production node, which is why they are not on the package root.
 *
 * And the cluster harness (harness/process-cluster.ts): real `pogo node`
 * processes for integration tests, benchmarks and scripts.
 */
/** A clock that moves only when `advance` / `set` is called; timers fire in time order. */
export { ManualClock } from './clock.js';
/** A seeded pseudo-random source: the same seed gives the same sequence. */
export { SeededRandom } from './random.js';
/** A logger that keeps every entry in memory (for assertions), and one that drops everything. */
export { MemoryLogger, silentLogger } from './logger.js';
/** The captured log entry a MemoryLogger keeps. */
export type { CapturedLog } from './logger.js';
/** An in-process network of MemoryTransports with fault injection, and its transport. */
export { MemoryNetwork, MemoryTransport, MemoryConn } from './transport/memory.js';
/** Options of a MemoryNetwork (delays, loss, the clock and random source it uses). */
export type { MemoryNetworkOptions } from './transport/memory.js';
/** The interfaces the doubles above implement or take: clock, random source, logger, transport. */
export type { Clock, TimerHandle } from './clock.js';
export type { Random } from './random.js';
export type { Logger, LogFields } from './logger.js';
export type { Transport, Conn, ConnHandlers } from './transport/transport.js';
/** The MemoryNetwork's internals that MemoryConn exposes: one direction of a connection and a frame on it. */
export type { Pipe, Frame } from './transport/memory.js';
/**
 * The cluster harness: real `pogo` OS processes on one machine, their ports
 * read from their log lines, driven and stopped by pid (harness/process-cluster.ts).
 */
export { ProcessCluster } from './harness/process-cluster.js';
/** Options of a ProcessCluster and of one start. */
export type { ProcessClusterOptions, StartOptions } from './harness/process-cluster.js';
/** One `pogo` process, spawning one, `until`, and the last-resort kill of every live one. */
export { PogoProcess, spawnPogo, until, killAll, killAllNow, liveProcessCount } from './harness/pogo-process.js';
/** How a process ended, and what `started()` waits for. */
export type { ProcessExit, StartedOptions } from './harness/pogo-process.js';
/** The pure parts: command lines, environment, log lines. */
export { POGO_CLI, nodeCommandLine, spawnCommand, childEnvironment, readLogLine, startInfo, LogLineSchema } from './harness/launch.js';
/** A node's flags, launch options, a log line and the start information in it. */
export type { NodeSpec, LaunchOptions, LogLine, StartInfo } from './harness/launch.js';
