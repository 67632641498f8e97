/**
 * ESLint flat config of pogo-core: what `npm run lint -w pogo-core` (or
 * `npx eslint .` in core/) checks, and what the repository's `npm run lint`
 * applies to core's files (ESLint uses the config nearest to each file).
 *
 * Base: @eslint/js recommended + typescript-eslint recommended (syntactic,
 * no type information, so it stays fast). Everything runs in Node.
 *
 * Boundary (DESIGN §3): core imports nothing from the desktop app — not
 * `electron`, not anything under electron/ or renderer/ — enforced with
 * @typescript-eslint/no-restricted-imports so that type imports count too.
 */
import { defineConfig, globalIgnores } from 'eslint/config';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const CORE_BOUNDARY = 'core must not import from the desktop app (DESIGN §3)';

/** Rules every part of the repository shares (the root config imports these). */
export const sharedRules = {
  // `_`-prefixed names are deliberately unused (placeholders, ignored tuple slots).
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
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
);
