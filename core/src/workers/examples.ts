/**
 * Example worker types, for demos and tests. Load them into a node with
 * `pogo node --workers examples`.
 *
 *   ticker   logs `message` every `intervalMs`                 args { intervalMs?: 1000, message?: 'tick' }
 *   crasher  runs, then crashes after `crashAfterMs` — by a throw in a timer,
 *            a rejected promise, or ctx.exit(error); `failStart` makes the
 *            start itself fail                                  args { crashAfterMs?, mode?: 'throw'|'reject'|'exit', failStart?: boolean }
 *   counter  holds a small state: a counter that increases every `intervalMs`
 *            and is published as the value of its membership in
 *            group `counter` of scope `examples`                args { intervalMs?: 1000, start?: 0 }
 */
import type { JsonValue } from '../groups.js';
import type { WorkerFactory } from '../supervisor/workers.js';

type Define = (name: string, factory: WorkerFactory) => void;

function obj(args: JsonValue | undefined): Record<string, JsonValue> {
  return args !== null && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, JsonValue>) : {};
}
function num(value: JsonValue | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

export const ticker: WorkerFactory = (args, ctx) => {
  const a = obj(args);
  const message = typeof a['message'] === 'string' ? a['message'] : 'tick';
  let ticks = 0;
  const timer = setInterval(() => ctx.log.info({ ticks: ++ticks }, message), Math.max(10, num(a['intervalMs'], 1000)));
  ctx.signal.addEventListener('abort', () => clearInterval(timer));
  return { stop: () => clearInterval(timer) };
};

export const crasher: WorkerFactory = (args, ctx) => {
  const a = obj(args);
  if (a['failStart'] === true) throw new Error('crasher: asked to fail at start');
  const mode = a['mode'] === 'reject' || a['mode'] === 'exit' ? a['mode'] : 'throw';
  const after = num(a['crashAfterMs'], 1000);
  const timer = setTimeout(() => {
    if (mode === 'throw') throw new Error(`crasher: crashed on purpose after ${after} ms`);
    if (mode === 'reject') void Promise.reject(new Error(`crasher: rejected on purpose after ${after} ms`));
    else ctx.exit(new Error(`crasher: exited with an error after ${after} ms`));
  }, after);
  return { stop: () => clearTimeout(timer) };
};

export const counter: WorkerFactory = (args, ctx) => {
  const a = obj(args);
  let count = num(a['start'], 0);
  ctx.groups.join('examples', 'counter', ctx.pid, { id: ctx.id, count });
  const timer = setInterval(() => {
    count++;
    // A membership's value is fixed at join: publish the new state by joining
    // with it and then leaving the oldest entry (leave removes the oldest), so
    // the group never empties; observers briefly see both values.
    ctx.groups.join('examples', 'counter', ctx.pid, { id: ctx.id, count });
    ctx.groups.leave('examples', 'counter', ctx.pid);
  }, Math.max(10, num(a['intervalMs'], 1000)));
  return {
    stop: () => {
      clearInterval(timer);
      ctx.log.info({ count }, 'counter stopped');
    },
  };
};

/** Registers the example workers (the `--workers examples` module). */
export default function registerExampleWorkers({ defineWorker }: { defineWorker: Define }): void {
  defineWorker('ticker', ticker);
  defineWorker('crasher', crasher);
  defineWorker('counter', counter);
}
