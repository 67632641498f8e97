/**
 * ESLint flat config for the whole repository.
 *
 * Base: @eslint/js recommended + typescript-eslint recommended (syntactic).
 * On the TypeScript of the desktop app (renderer/src, electron/), e2e/ and
 * the root tool configs: core's `typeAwareRules` (no floating or misused
 * promises, ...; see core/eslint.config.js), through typescript-eslint's
 * project service, which finds each file's project from the tsconfig.json
 * nearest to it (the root one is a solution config whose references say
 * which of tsconfig.node.json / tsconfig.web.json owns the file).
 * bench/, reliability/ and scripts/ are plain .mjs: syntactic rules here;
 * their types (JSDoc, strict) are checked by `tsc -p tsconfig.scripts.json`
 * (npm run typecheck).
 *
 * renderer/: React hooks rules (rules-of-hooks, exhaustive-deps) and
 * `import-x/no-cycle` (no import cycles, CONTRIBUTING).
 *
 * core/ has its own config (core/eslint.config.js: core stands alone);
 * ESLint applies the config nearest to each file, so this one covers the
 * desktop app, e2e, bench and the scripts.
 *
 * Import boundaries (DESIGN §3, STYLE house rule 1), enforced with
 * @typescript-eslint/no-restricted-imports so that `allowTypeImports` works:
 *   renderer/**  runs sandboxed and in plain browsers: no Node builtins, no
 *                `electron`; from pogo-core only type imports, except the
 *                pure subpaths `pogo-core/protocol`, `pogo-core/observer-state`,
 *                `pogo-core/ui-protocol`, `pogo-core/command-size` and `pogo-core/child-spec`; never core's sources by
 *                relative path (go through the package).
 * These rules see static `import`/`export ... from`; dynamic import() and
 * require() are not covered (the renderer's tsconfig has no Node types, and
 * electron-vite would fail to bundle Node builtins for the browser anyway).
 */
import { builtinModules } from 'node:module';
import { defineConfig, globalIgnores } from 'eslint/config';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { sharedRules, typeAwareRules } from './core/eslint.config.js';

const RENDERER_NO_NODE = 'the renderer runs sandboxed and in plain browsers: no Node APIs (DESIGN §3). Ask main for it through the preload API.';
const RENDERER_NO_ELECTRON = 'the renderer must not import electron: use the typed preload API on window.pogo (electron/preload-api.ts).';
const RENDERER_CORE_TYPES_ONLY =
  'the renderer may import only types from pogo-core (use `import type`), or pure helpers from pogo-core/protocol,' +
  ' pogo-core/observer-state, pogo-core/ui-protocol, pogo-core/command-size and pogo-core/child-spec (DESIGN §3).';
const RENDERER_NO_CORE_SOURCES = 'import from the pogo-core package (types only, or pogo-core/protocol), never from core sources by path (DESIGN §3).';

const RENDERER_NARROW_SELECTORS =
  'select what the component shows (useStore((s) => s.cluster?.children), or an object ' +
  'with useShallow), not the whole store or cluster: every patch would redraw it.';

/** Bare names of Node builtins, without `node:` (fs, fs/promises, child_process, ...). */
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_') && !name.startsWith('node:'));

export default defineConfig(
  globalIgnores([
    '**/dist/**',
    'out/**',
    '**/node_modules/**',
    'test-results/**',
    'playwright-report/**',
    'reports/**',
    'release/**',
    // core/ has its own config (core/eslint.config.js), which ESLint uses for core's files.
    'core/**',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    // Everything outside the renderer runs in Node (tools, configs, CI scripts, e2e).
    files: ['**/*.{js,mjs,cjs,ts,mts,cts}'],
    ignores: ['renderer/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  { rules: sharedRules },
  // Two configs in one repository: say which directory this one's TypeScript settings are relative to.
  { languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } } },
  {
    files: ['renderer/src/**/*.{ts,tsx}', 'electron/**/*.ts', 'e2e/**/*.ts', 'electron.vite.config.ts', 'vitest.config.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: typeAwareRules,
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks, 'import-x': importX },
    settings: {
      // Parse imported .ts/.tsx files too (the default reads only .js), and resolve the way tsc does.
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.web.json` })],
    },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      // A cycle of value imports (the rule does not follow `import type`, which is erased at run time).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },

  {
    files: ['renderer/**/*.{js,mjs,cjs,ts,mts,cts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: RENDERER_NO_NODE })),
            { name: 'electron', message: RENDERER_NO_ELECTRON },
            { name: 'pogo-core', message: RENDERER_CORE_TYPES_ONLY, allowTypeImports: true },
          ],
          patterns: [
            { group: ['node:*'], message: RENDERER_NO_NODE },
            { group: ['electron/*'], message: RENDERER_NO_ELECTRON },
            {
              group: [
                'pogo-core/*',
                '!pogo-core/protocol',
                '!pogo-core/observer-state',
                '!pogo-core/ui-protocol',
                '!pogo-core/command-size',
                '!pogo-core/child-spec',
              ],
              message: RENDERER_CORE_TYPES_ONLY,
              allowTypeImports: true,
            },
            { group: ['**/core/src', '**/core/src/**', '**/core/dist', '**/core/dist/**'], message: RENDERER_NO_CORE_SOURCES },
          ],
        },
      ],
      // `import { type X } from 'pogo-core'` passes the rule above but, under
      // verbatimModuleSyntax, still leaves `import 'pogo-core'` in the output,
      // which would bundle Node code into the renderer. Require `import type`.
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
  {
    // Components read the store through narrow selectors (DESIGN §4): the whole store, or the whole
    // cluster object, would redraw them on every patch of the gateway's state.
    files: ['renderer/**/*.tsx'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name='useStore'][arguments.length=0]", message: RENDERER_NARROW_SELECTORS },
        { selector: "CallExpression[callee.name='useStore'] > ArrowFunctionExpression[body.type='Identifier']", message: RENDERER_NARROW_SELECTORS },
        {
          selector: "CallExpression[callee.name='useStore'] > ArrowFunctionExpression > MemberExpression.body[property.name='cluster']",
          message: RENDERER_NARROW_SELECTORS,
        },
      ],
    },
  },
);
