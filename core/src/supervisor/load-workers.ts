/**
 * Loads worker modules for `pogo node --workers`.
 *
 * A module may either export a register function (recommended, since it
 * works wherever the file lives):
 *
 *   export default function ({ defineWorker }) { defineWorker('mailer', factory); }
 *
 * or import `defineWorker` from 'pogo-core' and call it at top level (works
 * when the module resolves the same pogo-core installation as the CLI).
 * `examples` names the built-in example workers.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerFactory, WorkerRegistry } from './workers.js';

/** Import worker modules (file paths, or `examples` for the built-in examples) so their workers register into the registry. */
export async function loadWorkerModules(specs: readonly string[], registry: WorkerRegistry): Promise<void> {
  for (const spec of specs) {
    const url = spec === 'examples' ? new URL('../workers/examples.js', import.meta.url).href : pathToFileURL(resolve(spec)).href;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot load worker module ${spec}: ${(err as Error).message}`, { cause: err });
    }
    const register = typeof mod['default'] === 'function' ? mod['default'] : typeof mod['register'] === 'function' ? mod['register'] : undefined;
    if (register) {
      try {
        await (register as (api: { defineWorker: (name: string, factory: WorkerFactory) => void }) => unknown)({
          defineWorker: (name, factory) => registry.define(name, factory),
        });
      } catch (err) {
        throw new Error(`worker module ${spec} failed to register its workers: ${(err as Error).message}`, { cause: err });
      }
    }
  }
}
