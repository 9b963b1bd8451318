/**
 * Schemas on definitions: a workflow's input and output, a signal's or an update's payload, as any
 * Standard Schema (https://standardschema.dev) — zod 4, valibot, arktype and their peers implement
 * it through a `~standard` property, so Weft depends on the interface, never on one library.
 *
 * Traps it avoids:
 * - A schema library that is not an object. Arktype's schemas are functions; the check accepts
 *   either, and only looks for `~standard.validate`.
 * - A typo that silently disables validation. `{ input: z.object(...) }` passes the check; a value
 *   that is not a Standard Schema (a plain JSON Schema object, say) is refused where it is declared.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidArgumentError } from '../core/errors.ts';

export type { StandardSchemaV1 };

/**
 * A JSON Schema as a plain object (draft 2020-12 where Weft derives one).
 *
 * @example
 * const schema: JsonSchema = { type: 'object', properties: { amount: { type: 'number' } } };
 */
export type JsonSchema = Record<string, unknown>;

/**
 * The value a schema produces from valid input (zod's `z.output`).
 *
 * @example
 * type Order = SchemaOutput<typeof orderSchema>;
 */
export type SchemaOutput<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown;

/**
 * True for a Standard Schema v1: an object (or function) whose `~standard` has `version: 1` and a
 * `validate` function.
 *
 * @example
 * isStandardSchema(z.string()); // true
 * isStandardSchema({ type: 'string' }); // false: a JSON Schema, not a validator
 */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const props = (value as { '~standard'?: unknown })['~standard'];
  if (typeof props !== 'object' || props === null) return false;
  const { version, validate } = props as { version?: unknown; validate?: unknown };
  return version === 1 && typeof validate === 'function';
}

/** `value` when it is absent or a Standard Schema; otherwise an `invalid_argument` naming `where`. */
export function optionalSchema(value: unknown, where: string): StandardSchemaV1 | undefined {
  if (value === undefined) return undefined;
  if (!isStandardSchema(value)) {
    throw new InvalidArgumentError(`${where} must be a Standard Schema (zod, valibot, arktype, …)`);
  }
  return value;
}

/** `value` when it is absent or a string; otherwise an `invalid_argument` naming `where`. */
export function optionalDescription(value: unknown, where: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${where} must be a string`);
  return value;
}
