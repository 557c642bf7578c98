// @ts-check
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SUBGRAPHS = ['users', 'products', 'orders'];
/** What every subgraph may import from the workspace. */
const SHARED_PACKAGES = ['@shop/service', '@shop/service/*', '@shop/subgraph', '@shop/subgraph/*'];
/** Packages that open or speak to a database: subgraph business, never the router's. */
const DATABASE_CODE = [
  '@shop/subgraph',
  '@shop/subgraph/*',
  'drizzle-orm',
  'drizzle-orm/*',
  'postgres',
  '@electric-sql/pglite',
  '@electric-sql/pglite/*',
];

export default tseslint.config(
  {
    ignores: ['**/node_modules/', '**/dist/', '**/generated/', 'bench/.peers/', 'bench/results/', '.data/', 'storefront/src/gql/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })] },
    rules: {
      // Unused names are the compiler's job (noUnusedLocals, noUnusedParameters), with its `_` convention.
      '@typescript-eslint/no-unused-vars': 'off',
      // GraphQL responses and third-party internals are untyped JSON; `any` stays visible in review instead.
      '@typescript-eslint/no-explicit-any': 'off',
      // A closure may read a variable that is assigned once, later (a server built before what it calls).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            // Each subgraph deploys on its own: it may use the shared packages, never another subgraph, the router,
            // or the repository's scripts and tests.
            ...SUBGRAPHS.map((name) => ({
              target: `./subgraphs/${name}`,
              from: [
                ...SUBGRAPHS.filter((other) => other !== name).map((other) => `./subgraphs/${other}`),
                './router',
                './schema',
                './scripts',
                './test',
                './bench',
              ],
              message: 'A subgraph imports only @shop/service, @shop/subgraph and its own files.',
            })),
            // The shared packages know nothing of the shop.
            {
              target: './packages',
              from: ['./subgraphs', './router', './schema', './scripts', './test', './bench'],
              message: 'The shared packages import no service of the shop.',
            },
            {
              target: './packages/service',
              from: './packages/subgraph',
              message: '@shop/service serves the router too: no subgraph code.',
            },
            {
              target: './router',
              from: ['./subgraphs', './packages/subgraph', './scripts', './test', './bench'],
              message: 'The router imports @shop/service and its own files only.',
            },
            {
              target: './storefront',
              from: ['./subgraphs', './packages', './router', './scripts', './test', './bench'],
              message: 'The storefront knows the shop through the contract and the persisted-query manifest only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['subgraphs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@shop/*', ...SHARED_PACKAGES.map((name) => `!${name}`)],
              message: 'A subgraph imports no other workspace of the shop.',
            },
          ],
        },
      ],
    },
  },
  {
    // The router holds no database code, whatever path it would take.
    files: ['router/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: DATABASE_CODE, message: 'The router imports no database code.' },
            {
              group: ['@shop/*', '!@shop/service', '!@shop/service/*', '!@shop/subgraph', '!@shop/subgraph/*'],
              message: 'The router imports no other workspace of the shop.',
            },
          ],
        },
      ],
    },
  },
);
