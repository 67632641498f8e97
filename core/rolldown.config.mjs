/**
 * The `pogo` command line as one file: dist/cli/main.bundle.cjs, which the
 * bin (bin/pogo.js) runs through bin/bundle.js with V8's code cache, built
 * from tsc's dist/cli/main.js after tsc has run (`npm run build -w
 * pogo-core`, which then writes the cache: bin/bundle.js --write-cache).
 *
 * Why: `pogo ctl` is run once per call by scripts, and most of a call was
 * Node.js finding, reading and compiling a few hundred small ES modules
 * (zod alone is about a hundred, socket.io-client with engine.io-client and
 * ws some fifty more, commander, the protocol's modules): in one file there
 * is one read, no module resolution and no per-module linking, and what no
 * command reaches is left out. Measured in docs/performance.md (the ctl rows).
 *
 * What the bundle holds: main.js and what it imports statically (commander,
 * the settings table of config.js, zod, the protocol's schemas) and ctl.js
 * with its client (the link layer, socket.io-client). What it leaves to the
 * library's compiled files (dist/), as imports resolved at run time:
 *   - `pogo node`, `pogo observe` and `pogo demo` (./run-node.js,
 *     ./observe.js, ./demo.js): a node holds module state that worker
 *     modules share through 'pogo-core' (the worker registry, the worker
 *     context's AsyncLocalStorage, classes such as ConfigError): a second
 *     copy inside the bundle would split it. STATEFUL lists the modules
 *     that must never be bundled; the build fails if one is.
 *   - socket.io (the server library: only a listening transport loads it),
 *     and ws's optional native helpers.
 *
 * socket.io-client and socket.io-parser: the library's socketio.js and
 * frame-encoder.js require them as CommonJS, since for an ES module
 * importer on Node their packages resolve to their debug builds (see
 * socketio.ts). The bundle takes their plain ES builds instead (no `debug`
 * package): the transform below turns those two requires into imports, and
 * the resolver is given no `node` condition (the `node` condition is what
 * selects the debug builds of socket.io-client, engine.io-client and
 * socket.io-parser). So the client and the frame encoder share the one
 * parser inside the bundle; the parser's CommonJS build, with `debug`, was
 * read, compiled and run at every call besides (about 15 ms of a `ctl ls`).
 * The build fails if a require is not found, so they cannot drift apart
 * silently.
 */
import { builtinModules } from 'node:module';

const ENTRY = 'dist/cli/main.js';
const OUTPUT = 'dist/cli/main.bundle.cjs';

/** Commands whose code stays in dist/ (imported by main.js at run time). */
const RUN_TIME = new Set(['./run-node.js', './observe.js', './demo.js']);
/** Packages loaded at run time when at all: the server library, ws's optional native helpers. */
const PACKAGES_AT_RUN_TIME = new Set(['socket.io', 'bufferutil', 'utf-8-validate']);
/** Modules (under dist/) with state the library shares with worker modules: never in the bundle. */
const STATEFUL = ['node.js', 'supervisor/workers.js', 'supervisor/worker-child.js', 'cli/run-node.js'];

/** The CommonJS requires of dist/ that the bundle turns into imports of the ES builds (see the header), by file. */
const REQUIRES_AS_IMPORTS = [
  {
    file: '/dist/transport/socketio.js',
    require: "const { io: ioClient } = createRequire(import.meta.url)('socket.io-client');",
    import: "import { io as ioClient } from 'socket.io-client';",
  },
  {
    file: '/dist/transport/frame-encoder.js',
    require: "const stock = createRequire(import.meta.url)('socket.io-parser');",
    import: "import * as stock from 'socket.io-parser';",
  },
];

/** @type {import('rolldown').Plugin} */
const requiresAsImports = {
  name: 'pogo-socket.io-requires-as-imports',
  transform(code, id) {
    const at = REQUIRES_AS_IMPORTS.find((r) => id.endsWith(r.file));
    if (at === undefined) return null;
    if (!code.includes(at.require)) this.error(`rolldown.config.mjs: ${id} no longer holds ${at.require}; update the bundle's transform`);
    return { code: code.replace(at.require, at.import), map: null };
  },
  buildEnd() {
    const seen = new Set(this.getModuleIds());
    for (const r of REQUIRES_AS_IMPORTS)
      if (![...seen].some((id) => id.endsWith(r.file))) this.error(`rolldown.config.mjs: ${r.file} is no longer in the bundle; update REQUIRES_AS_IMPORTS`);
  },
};

/**
 * The bundle is CommonJS run by bin/bundle.js (for V8's code cache; see
 * there): what an ES module has and such a script has not is given to it
 * by name. import.meta.url (main.js reads package.json beside it) becomes
 * `__pogoBundleUrl`; the top-level await of main.js a plain call (its
 * rejection still ends the process with the error); dynamic import() of
 * what stays out of the bundle `__pogoImport` (bin/bundle.js resolves it
 * against the bundle's own URL). The build fails if one is not found.
 */
const TOP_LEVEL_AWAIT = 'await main(process.argv);';
/** @type {import('rolldown').Plugin} */
const asScript = {
  name: 'pogo-bundle-as-script',
  transform(code, id) {
    if (!id.includes('/dist/')) return null;
    let out = code.replaceAll('import.meta.url', '__pogoBundleUrl');
    if (id.endsWith('/dist/cli/main.js')) {
      if (!out.includes(TOP_LEVEL_AWAIT)) this.error(`rolldown.config.mjs: ${id} no longer ends with ${TOP_LEVEL_AWAIT}; update the bundle's transform`);
      out = out.replace(TOP_LEVEL_AWAIT, 'void main(process.argv);');
    }
    return out === code ? null : { code: out, map: null };
  },
  renderChunk(code) {
    const external = [...RUN_TIME, ...PACKAGES_AT_RUN_TIME].map((id) => `import(${JSON.stringify(id)})`);
    const out = code.replace(/\bimport\(("[^"]+")\)/g, (call, id) => (external.includes(`import(${id})`) ? `__pogoImport(${id})` : call));
    for (const id of RUN_TIME)
      if (!out.includes(`__pogoImport(${JSON.stringify(id)})`))
        this.error(`rolldown.config.mjs: no import(${JSON.stringify(id)}) left to hand to __pogoImport`);
    return { code: out, map: null };
  },
};

/** @type {import('rolldown').Plugin} */
const noStatefulModules = {
  name: 'pogo-no-stateful-modules',
  generateBundle(_options, bundle) {
    const dist = new URL('dist/', import.meta.url).pathname;
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      const held = chunk.moduleIds.filter((id) => id.startsWith(dist)).map((id) => id.slice(dist.length));
      const wrong = held.filter((id) => STATEFUL.includes(id));
      if (wrong.length > 0)
        this.error(
          `rolldown.config.mjs: the CLI bundle must not hold ${wrong.join(', ')} (module state shared with worker modules); import it at run time instead`,
        );
    }
  },
};

const BUILTINS = new Set(builtinModules);

export default {
  input: ENTRY,
  platform: 'neutral',
  resolve: { conditionNames: ['import', 'default'], mainFields: ['module', 'main'] },
  external: (id) => id.startsWith('node:') || BUILTINS.has(id) || RUN_TIME.has(id) || PACKAGES_AT_RUN_TIME.has(id),
  plugins: [requiresAsImports, asScript, noStatefulModules],
  output: {
    file: OUTPUT,
    format: 'cjs',
    codeSplitting: false,
    sourcemap: true,
  },
};
