/** Polls `predicate` in real time (every 10 ms) until it holds; throws naming `what` after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs every pid in the list (and empties it); pids already gone are fine. */
export function killStrays(pids: number[] | Set<number>): void {
  const all = Array.isArray(pids) ? pids.splice(0) : [...pids];
  if (!Array.isArray(pids)) pids.clear();
  for (const pid of all) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Collects the JSON lines a child process prints on a stream into `lines`, as they arrive. */
export function collectJsonLines(stream: NodeJS.ReadableStream, lines: Array<Record<string, unknown>>): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
      buffer = buffer.slice(nl + 1);
    }
  });
}
