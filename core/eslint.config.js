/**
 * ESLint flat config of pogo-core: what `npm run lint -w pogo-core` (or
 * `npx eslint .` in core/) checks, and what the repository's `npm run lint`
 * applies to core's files (ESLint uses the config nearest to each file).
 *
 * Base: @eslint/js recommended + typescript-eslint recommended (syntactic).
 * Everything runs in Node.
 *
 * Type-aware rules (`typeAwareRules`, shared with the root config) run on
 * the TypeScript sources and tests through typescript-eslint's project
 * service, which uses the tsconfig.json nearest to each file (here
 * core/tsconfig.json: src and test in one program). They are a chosen
 * subset of `recommendedTypeChecked`: the rules that catch real bugs in this
 * code (a promise nobody awaits or catches, a promise where a callback must
 * return void, an `await` of a non-promise, a switch that misses a case of a
 * union, an object printed as "[object Object]"), not the `no-unsafe-*`
 * family, which mostly flags validated `unknown` from zod and JSON.
 *
 * Import cycles: `import-x/no-cycle` over src/ (CONTRIBUTING: no import
 * cycles). Imports are resolved the way tsc resolves them (NodeNext, `.js`
 * specifiers naming `.ts` files) by eslint-import-resolver-typescript.
 *
 * Line length: `max-len` at 160, Prettier's print width, for the lines
 * Prettier leaves long (strings, comments); URLs, regular expressions and
 * test titles may run over, and test fixtures are kept as written.
 *
 * Boundary (DESIGN §3): core imports nothing from the desktop app — not
 * `electron`, not anything under electron/ or renderer/ — enforced with
 * @typescript-eslint/no-restricted-imports so that type imports count too.
 */
import { defineConfig, globalIgnores } from 'eslint/config';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const CORE_BOUNDARY = 'core must not import from the desktop app (DESIGN §3)';

/** Rules every part of the repository shares (the root config imports these). */
export const sharedRules = {
  // `_`-prefixed names are deliberately unused (placeholders, ignored tuple slots).
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
  // Prettier's print width (prettier.config.js) for what Prettier does not break: strings (split them with `+`), comments.
  // ESLint's own max-len (deprecated for @stylistic/max-len, which is not installed; kept until ESLint 11).
  // A test's title stays on its `it(`/`test(`/`describe(` line: splitting it would re-indent the whole test.
  'max-len': ['error', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true, ignorePattern: String.raw`^\s*(it|test|describe)\b[\w.]*(\(.*\))?\(` }],
};

/**
 * Type-aware rules every TypeScript part of the repository shares (the root
 * config imports these). They need `parserOptions.projectService`.
 */
export const typeAwareRules = {
  // A promise must be awaited, returned, or handed to `void` after its rejection is handled.
  '@typescript-eslint/no-floating-promises': 'error',
  // No promise where a void callback (event handler, forEach, setTimeout) or a condition is expected.
  '@typescript-eslint/no-misused-promises': 'error',
  '@typescript-eslint/await-thenable': 'error',
  '@typescript-eslint/no-unnecessary-type-assertion': 'error',
  // Exhaustive over unions; a `default:` branch is an explicit choice and stays allowed.
  '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
  // Numbers, booleans, null/undefined and RegExps print readably in a template; objects, arrays and `any` do not.
  '@typescript-eslint/restrict-template-expressions': [
    'error',
    { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true, allowAny: false, allowArray: false, allowNever: false },
  ],
  '@typescript-eslint/only-throw-error': 'error',
  // Passing on a caught error as it is (`unknown`) is fine; inventing a non-Error reason is not.
  '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
  '@typescript-eslint/return-await': ['error', 'in-try-catch'],
};

export default defineConfig(
  globalIgnores(['dist/**', 'bin/**', 'node_modules/**', 'temp/**', 'docs-api/**']),
  js.configs.recommended,
  tseslint.configs.recommended,
  // Two configs in one repository: say which directory this one's TypeScript settings are relative to.
  { languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } } },
  {
    files: ['**/*.{js,mjs,cjs,ts,mts,cts}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      ...sharedRules,
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          // '**/electron' also matches the bare package name 'electron'.
          patterns: [{ group: ['electron', 'electron/*', '**/electron', '**/electron/**', '**/renderer', '**/renderer/**'], message: CORE_BOUNDARY }],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: typeAwareRules,
  },
  // Test fixtures are kept byte for byte as an older version of pogo wrote them (.prettierignore).
  { files: ['test/fixtures/**'], rules: { 'max-len': 'off' } },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Parse imported .ts files too (the default reads only .js), and resolve the way tsc does.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })],
    },
    // A cycle of value imports (the rule does not follow `import type`, which is erased at run time;
    // test/import-cycles.test.ts finds type-only cycles too).
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
);
