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
 *   kv-counter a keyed counter that answers calls (issue 16):   args none
 *              {op:'add', key, by?: 1} → {key, value}; {op:'get', key} → {key, value} (0 when unknown);
 *              {op:'keys'} → {counts}. Each reply names the instance ({pid, node}). Its counts
 *              survive planned moves (pin, drain, graceful leave) through `ctx.onHandover`, and
 *              start from zero after a crash. For trying the error paths: {op:'hang'} never
 *              answers (the caller's `timeout`), {op:'blob', bytes} answers a string that long
 *              (`too-large` past callMaxBytes); anything else is a `handler-error`.
 */
import type { JsonValue } from '../groups.js';
import type { WorkerFactory } from '../supervisor/workers.js';

type Define = (name: string, factory: WorkerFactory) => void;

function obj(args: JsonValue | undefined): Record<string, JsonValue> {
  return args !== null && typeof args === 'object' && !Array.isArray(args) ? args : {};
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
  const timer = setInterval(
    () => {
      count++;
      // A membership's value is fixed at join: publish the new state by joining
      // with it and then leaving the oldest entry (leave removes the oldest), so
      // the group never empties; observers briefly see both values.
      ctx.groups.join('examples', 'counter', ctx.pid, { id: ctx.id, count });
      ctx.groups.leave('examples', 'counter', ctx.pid);
    },
    Math.max(10, num(a['intervalMs'], 1000)),
  );
  return {
    stop: () => {
      clearInterval(timer);
      ctx.log.info({ count }, 'counter stopped');
    },
  };
};

/** The counts a previous instance handed over, if they are a map of key → finite number. */
function handedCounts(handover: JsonValue | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  const raw = obj(handover)['counts'];
  for (const [key, value] of Object.entries(obj(raw))) if (typeof value === 'number' && Number.isFinite(value)) counts.set(key, value);
  return counts;
}

export const kvCounter: WorkerFactory = (_args, ctx) => {
  const counts = handedCounts(ctx.handover);
  if (ctx.handover !== undefined) ctx.log.info({ keys: counts.size }, 'kv-counter took over the counts of its previous instance');
  const hang: Array<() => void> = [];
  ctx.onHandover(() => ({ counts: Object.fromEntries(counts) }));
  ctx.onMessage((message) => {
    const m = obj(message);
    const key = m['key'];
    const who = { pid: ctx.pid, node: ctx.node };
    switch (m['op']) {
      case 'add': {
        if (typeof key !== 'string') throw new Error('kv-counter: add needs a string key');
        const by = m['by'] === undefined ? 1 : m['by'];
        if (typeof by !== 'number' || !Number.isFinite(by)) throw new Error('kv-counter: by must be a finite number');
        const value = (counts.get(key) ?? 0) + by;
        counts.set(key, value);
        return { key, value, ...who };
      }
      case 'get':
        if (typeof key !== 'string') throw new Error('kv-counter: get needs a string key');
        return { key, value: counts.get(key) ?? 0, ...who };
      case 'keys':
        return { counts: Object.fromEntries(counts), ...who };
      case 'hang':
        // Never answers: settled by nothing but the caller's timeout (and dropped when the instance stops).
        return new Promise<JsonValue>((resolve) => hang.push(() => resolve(null)));
      case 'blob':
        return 'x'.repeat(Math.min(num(m['bytes'], 0), 64 * 1024 * 1024));
      default:
        throw new Error(`kv-counter: unknown op ${JSON.stringify(m['op'] ?? null)}; send {op: 'get' | 'add' | 'keys', key}`);
    }
  });
  return {
    stop: () => {
      hang.length = 0;
      ctx.log.info({ keys: counts.size }, 'kv-counter stopped');
    },
  };
};

/** Registers the example workers (the `--workers examples` module). */
export default function registerExampleWorkers({ defineWorker }: { defineWorker: Define }): void {
  defineWorker('ticker', ticker);
  defineWorker('crasher', crasher);
  defineWorker('counter', counter);
  defineWorker('kv-counter', kvCounter);
}
