/**
 * Lint rules for Weft: type-aware checks (a dropped promise in a durable engine is lost work)
 * and the layer directions of docs/architecture.md, enforced so they cannot drift from the doc.
 *
 * Layer rules match on resolved file paths, so they hold however an import is spelled
 * (`../core/errors.ts`, `../../core/errors.ts`). Test files are composition roots: they may wire a
 * concrete adapter or the conformance suite into any layer, so only the layer rules skip them.
 *
 * Determinism: `weft/deterministic-workflows` (src/lint/eslint.js, shipped as
 * `@lostgradient/weft/eslint`) flags `Date.now()`, `Math.random()`, `setTimeout` and the like in
 * every workflow body of the repository (examples, tests, benchmarks) and anywhere in src/define,
 * whose code runs inside workflow bodies. Activities are not workflow bodies and are not flagged.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import weft from './src/lint/eslint.js';

const root = import.meta.dirname;

/**
 * The storage contract is the files directly in src/storage/ (storage.ts and what it needs, such as
 * storage-closed-error.ts); every folder under src/storage/ is a concrete adapter.
 */
const ADAPTER_FILES = 'src/storage/*/**/*';
const storageAdapters = (() => {
  try {
    return readdirSync(path.join(root, 'src/storage'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
})();

/**
 * A zone that forbids `target` to import anything under src/ except the `allowed` folders or files
 * (relative to src/). A layer lists its own folder so it may import itself.
 */
const layer = (target, allowed, message) => ({
  target: `src/${target}`,
  from: 'src',
  except: allowed.map((p) => `./${p}`),
  message,
});

/** A zone that forbids `target` to import any concrete storage adapter. */
const noAdapters = (target, message) => ({ target, from: ADAPTER_FILES, message });

const layerZones = [
  layer('core', ['core'], 'core imports nothing else in src/.'),
  layer('define', ['define', 'core'], 'define may import core only.'),

  layer('storage', ['storage', 'core'], 'storage may import core and the storage contract only.'),
  noAdapters('src/storage/*.ts', 'The storage contract may not import an adapter.'),
  ...storageAdapters.map((adapter) => ({
    target: `src/storage/${adapter}`,
    from: ADAPTER_FILES,
    except: [path.join(root, `src/storage/${adapter}/**/*`)],
    message: 'A storage adapter may not import another adapter.',
  })),

  layer('engine', ['engine', 'define', 'core', 'storage'], 'engine may import define, core and the storage contract.'),
  noAdapters('src/engine', 'engine may not import a concrete storage adapter; take a Storage instead.'),

  // Planned layers (docs/architecture.md): the wire protocol, and remote clients/workers that must
  // stay free of engine and storage code so they can run where neither exists.
  layer('protocol', ['protocol', 'define', 'core'], 'protocol may import define and core only.'),
  layer('client', ['client', 'protocol', 'define', 'core'], 'client may import protocol, define and core only.'),
  layer('worker', ['worker', 'protocol', 'define', 'core'], 'worker may import protocol, define and core only.'),
  layer(
    'server',
    ['server', 'protocol', 'engine', 'define', 'core', 'storage'],
    'server may import engine, protocol, define, core and the storage contract.',
  ),
  noAdapters('src/server', 'server may not import a concrete storage adapter; cli chooses one.'),

  // The ESLint plugin ships as plain JavaScript that ESLint loads on its own: it imports nothing.
  layer('lint', ['lint'], 'lint (the shipped ESLint plugin) imports nothing else in src/.'),

  // testing, cli and src/index.ts are composition roots: they may import anything.
];

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', '**/*.db', 'coverage/', 'tmp/'],
  },
  {
    files: ['**/*.{ts,js}'],
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: root,
      },
    },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Async methods that implement an async interface (storage adapters, test doubles) often have
      // nothing to await; keeping them async turns a synchronous throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/only-throw-error': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      eqeqeq: ['error', 'smart'],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    ...weft.configs.recommended,
  },
  {
    files: ['src/define/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'weft/deterministic-workflows': ['error', { everywhere: true }] },
  },
  {
    files: ['src/**/*.{ts,js}'],
    ignores: ['**/*.test.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: layerZones }],
    },
  },
  {
    // bun:test's matcher types: `expect(p).rejects.*` returns a promise at runtime but is typed
    // void, and asymmetric matchers (`expect.stringContaining`) are typed any.
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/await-thenable': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // Config files are plain JavaScript outside tsconfig.json: lint them without type information.
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
