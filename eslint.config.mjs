// @ts-check
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code is replayed deterministically in Temporal's sandbox: it must not reach the outside world.
// Everything with side effects lives in activities, which workflows may only import as types.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);
const workflowRestrictedImports = {
  paths: [
    ...nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not available in workflow code; use an activity.' })),
    ...['@kubernetes/client-node', '@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'undici', 'node-fetch', 'axios'].map(
      (name) => ({ name, message: 'Clients and I/O belong in activities, not in workflow code.' }),
    ),
  ],
  patterns: [
    {
      group: ['**/activities', '**/activities/**'],
      allowTypeImports: true,
      message: 'Workflows may only import activity types (import type ...); call activities through proxyActivities.',
    },
    { group: ['**/client/**', '**/worker/**', '**/config/**', '**/test/**'], message: 'Workflow code must not import host-side modules.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', 'test/fixtures/**', 'coverage/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowRestrictedImports],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'No network calls in workflow code; use an activity.' },
        { name: 'process', message: 'Workflow code must not depend on the worker process.' },
        { name: 'require', message: 'Use static imports in workflow code.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
