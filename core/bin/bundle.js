/**
 * Runs the CLI's bundle (dist/cli/main.bundle.cjs, see rolldown.config.mjs)
 * with V8's code cache: the bundle is compiled as one vm.Script, given the
 * cache the build wrote beside it (dist/cli/main.bundle.cjs.cache, made by
 * `node bin/bundle.js --write-cache` after a representative call). With it,
 * V8 skips parsing and compiling most of the bundle's 700 KB: a `pogo ctl
 * ls` of 1,000 children took about 60-80 ms less CPU (docs/performance.md).
 * A cache V8 rejects (another Node.js version or V8 flags, a rebuilt bundle)
 * or a missing one costs nothing but the compile it would have saved: the
 * bundle then compiles as usual. Node.js 20 has no module.enableCompileCache
 * and no code cache for ES modules, hence a CommonJS bundle run this way.
 *
 * The bundle runs as CommonJS does, with two more names:
 * `require` for the CommonJS packages inside and Node's builtins,
 * `__pogoImport` for what it imports at run time (the node, observe and
 * demo commands, socket.io: dynamic import() inside a vm.Script has no
 * loader of its own on Node 20), `__pogoBundleUrl` for import.meta.url.
 * The cache is only valid for the exact text compiled, so the wrapper is
 * made here and nowhere else.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const FILE = fileURLToPath(new URL('../dist/cli/main.bundle.cjs', import.meta.url));
const CACHE = `${FILE}.cache`;

function compile(cachedData) {
  const source = `(function (exports, require, module, __filename, __dirname, __pogoImport, __pogoBundleUrl) {${readFileSync(FILE, 'utf8')}\n})`;
  return new Script(source, { filename: FILE, ...(cachedData ? { cachedData } : {}) });
}

function readCache() {
  try {
    return readFileSync(CACHE);
  } catch {
    return undefined;
  }
}

function run(script) {
  const bundleUrl = pathToFileURL(FILE).href;
  const importAtRunTime = (specifier) => import(specifier.startsWith('.') ? new URL(specifier, bundleUrl).href : specifier);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(FILE), module, FILE, dirname(FILE), importAtRunTime, bundleUrl);
}

/** Compiles the bundle (with the code cache when V8 takes it) and runs it. */
export function runBundle() {
  run(compile(readCache()));
}

/**
 * The call the build makes to fill the cache: a `ctl ls`, as scripts make
 * most, to an address where no member answers (the discard port), so that
 * the CLI, the settings, ctl and the client's link layer up to the dial run
 * and are compiled. What runs only after a handshake is compiled as usual.
 */
const SAMPLE = ['ctl', 'ls', '--seed', '127.0.0.1:9', '--timeout', '1000', '--json'];

/**
 * Build step (`node bin/bundle.js --write-cache`, core's `npm run build`):
 * runs the bundle on SAMPLE, its output dropped, and when it exits writes
 * the code cache of every function compiled by then (one rename replaces
 * the file).
 */
if (process.argv[2] === '--write-cache' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const script = compile(undefined);
  process.argv.splice(2, process.argv.length - 2, ...SAMPLE);
  process.env['POGO_SECRET'] = 'code-cache-sample-secret';
  process.stdout.write = process.stderr.write = (_chunk, encoding, done) => {
    (typeof encoding === 'function' ? encoding : done)?.();
    return true;
  };
  process.on('exit', () => {
    writeFileSync(`${CACHE}.tmp`, script.createCachedData());
    renameSync(`${CACHE}.tmp`, CACHE);
    // The call is a sample (it may fail: no cluster answers at build time); the step succeeds once the cache is written.
    process.exitCode = 0;
  });
  run(script);
}
