/**
 * Types of `@lostgradient/weft/eslint` (`eslint.js`, plain JavaScript so ESLint on Node loads it).
 */
import type { ESLint, Linter } from 'eslint';

/**
 * The Weft ESLint plugin: the rule `weft/deterministic-workflows`, and `configs.recommended`,
 * which turns it on as an error.
 *
 * @example
 * // eslint.config.js
 * import weft from '@lostgradient/weft/eslint';
 * export default [weft.configs.recommended];
 */
declare const plugin: ESLint.Plugin & { configs: { recommended: Linter.Config } };
export default plugin;
