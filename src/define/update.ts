/**
 * Typed update definitions. An update is a named request into a run that its `ctx.onUpdate`
 * handler answers; defining it once and sharing the value between the workflow (`ctx.onUpdate`)
 * and the caller (`engine.update`) types both the payload and the result.
 *
 * With a `schema`, the engine checks every payload sent under this name before the update is
 * recorded (see `engine.update`), and introspection publishes its JSON Schema.
 */
import { optionalDescription, optionalSchema, type StandardSchemaV1 } from './schema.ts';

/** What `update()` returns: a frozen name, typed with its payload `T` and result `R`. */
export interface UpdateDefinition<T = unknown, R = unknown> {
  readonly kind: 'update';
  readonly name: string;
  /** Checks each payload before the update is recorded; `undefined` takes any storable value. */
  readonly schema: StandardSchemaV1 | undefined;
  readonly description: string | null;
  /** Type-only markers; never set at runtime. */
  readonly __payload?: T;
  readonly __result?: R;
}

/**
 * What `update(name, options)` takes.
 *
 * @example
 * update('discount', { schema: z.number().min(0).max(100), description: 'Percent off the order' });
 */
export interface UpdateDefinitionOptions<T> {
  /** A Standard Schema (zod, valibot, …) every payload must pass; the payload type follows from it. */
  schema?: StandardSchemaV1<unknown, T>;
  /** What the update does, for people and agents reading the workflow's introspection. */
  description?: string;
}

/**
 * Defines an update. With a schema, its payload type is the schema's output and a payload that
 * fails it is refused with `invalid_input` before the update is recorded.
 *
 * @example
 * const discount = update<number, number>('discount');
 * ctx.onUpdate(discount, (pct) => (percent = pct));
 * const { result } = await engine.update(runId, discount, 10);
 */
export function update<T = unknown, R = unknown>(
  name: string,
  options: UpdateDefinitionOptions<T> = {},
): UpdateDefinition<T, R> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('update(name) needs a non-empty name');
  return Object.freeze({
    kind: 'update',
    name,
    schema: optionalSchema(options?.schema, `update '${name}': schema`),
    description: optionalDescription(options?.description, `update '${name}': description`),
  });
}

/** True for a value made by `update()`. */
export function isUpdateDefinition(value: unknown): value is UpdateDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'update';
}

/**
 * An update by definition (typed) or by bare name (untyped), as `engine.update` and `ctx.onUpdate`
 * accept it.
 *
 * @example
 * await engine.update('o-1', 'discount', 10); // same as passing `discount`
 */
export type UpdateRef<T = unknown, R = unknown> = UpdateDefinition<T, R> | string;

/** The name an `UpdateRef` stands for (a non-string, non-definition value is returned as is, for the caller's check). */
export function updateName(ref: UpdateRef<unknown, unknown>): string {
  return isUpdateDefinition(ref) ? ref.name : ref;
}
