/**
 * Watching for the process that started this one to end: `pogo node
 * --stop-with-parent` (cli/run-node.ts) and the tests' preload that keeps
 * their processes from outliving a killed runner
 * (test/fixtures/exit-with-parent.mjs, which imports the built module).
 *
 * Linux gives an orphan a new parent, so a parent pid that changes means
 * the parent ended. Checked once a second on an unref'ed timer, which never
 * keeps the process alive by itself. A process-level edge, like signal
 * handlers: it reads the real timer and pid, nothing injected.
 */

/** Calls `gone` once with the parent's pid when the process that started this one has ended. */
export function watchParent(gone: (parent: number) => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    gone(parent);
  }, 1000);
  timer.unref();
}
