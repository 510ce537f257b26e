// @ts-check
// The lint gate (npm run lint, part of npm test). Type-aware: the rules that matter most here read
// types — a promise nobody awaits or catches, a promise handed to a callback that ignores it, an
// await on something that is not a promise. Formatting is Prettier's; eslint-config-prettier turns
// off every rule that would argue with it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'data/', '.tmp/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Already in recommendedTypeChecked; named so they stay on whatever the preset becomes.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `_name` marks a parameter an interface requires but this implementation does not read.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      // A `let` that closures read before its one assignment (wiring that refers to parts made later)
      // must stay `let`: as a const, an early read would throw instead of seeing undefined.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Stores and handlers implement async interfaces; an `async` method with no await still turns
      // a throw into a rejection, which is what callers of the interface expect.
      '@typescript-eslint/require-await': 'off',
      // ltx types every attribute as `any` (stanza.attrs.id); reading one into a typed variable or
      // passing it on is how stanzas are handled everywhere. Calls, member access and returns of
      // `any` stay errors.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Logs are structured (pino); nothing in the server writes to the console.
    files: ['src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Tests and benchmarks read JSON bodies, mock calls and browser state whose shape is the very
    // thing they assert; typing each read would add casts, not checks.
    files: ['spec/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript: CommonJS config and loader files for Node, and the pages' scripts for the browser.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['*.js', '*.cjs', '*.mjs', 'scripts/**/*.js', 'bench/**/*.js'], languageOptions: { globals: globals.node, sourceType: 'commonjs' } },
  { files: ['eslint.config.mjs'], languageOptions: { sourceType: 'module' } },
  {
    // Served to the browser next to Strophe.js, which defines Strophe, $iq, $msg and $pres.
    files: ['src/web/static/**/*.js', 'spec/e2e/support/browser/**/*.js'],
    languageOptions: { globals: { ...globals.browser, Strophe: 'readonly', $iq: 'readonly', $msg: 'readonly', $pres: 'readonly' }, sourceType: 'script' },
  },
  prettier,
);
