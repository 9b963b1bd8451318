/**
 * Typed signal definitions. A signal is a named, one-way message into a run; defining it once
 * and sharing the value between workflow and sender makes a misspelled name a type error.
 *
 * With a `schema`, the engine checks every payload sent under this name before it is stored (see
 * `engine.signal`), and introspection publishes its JSON Schema.
 */
import { optionalDescription, optionalSchema, type StandardSchemaV1 } from './schema.ts';

/** What `signal()` returns: a frozen name, typed with the payload `T` it carries. */
export interface SignalDefinition<T> {
  readonly kind: 'signal';
  readonly name: string;
  /** Checks each payload before it is stored; `undefined` takes any storable value. */
  readonly schema: StandardSchemaV1 | undefined;
  readonly description: string | null;
  /** Type-only marker; never set at runtime. */
  readonly __payload?: T;
}

/**
 * What `signal(name, options)` takes.
 *
 * @example
 * signal('approval', { schema: z.object({ approved: z.boolean() }), description: 'A manager decides' });
 */
export interface SignalDefinitionOptions<T> {
  /** A Standard Schema (zod, valibot, …) every payload must pass; the payload type follows from it. */
  schema?: StandardSchemaV1<unknown, T>;
  /** What the signal means, for people and agents reading the workflow's introspection. */
  description?: string;
}

/**
 * Defines a signal. With a schema, its payload type is the schema's output and a payload that
 * fails it is refused with `invalid_input` before anything is stored.
 *
 * @example
 * const approval = signal<{ approved: boolean }>('approval');
 * const decision = yield* ctx.waitForSignal(approval, { timeout: '7d' });
 * await engine.signal(runId, approval, { approved: true });
 *
 * const checked = signal('approval', { schema: z.object({ approved: z.boolean() }) });
 */
export function signal<T = unknown>(name: string, options: SignalDefinitionOptions<T> = {}): SignalDefinition<T> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('signal(name) needs a non-empty name');
  return Object.freeze({
    kind: 'signal',
    name,
    schema: optionalSchema(options?.schema, `signal '${name}': schema`),
    description: optionalDescription(options?.description, `signal '${name}': description`),
  });
}

/** True for a value made by `signal()`. */
export function isSignalDefinition(value: unknown): value is SignalDefinition<unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'signal';
}

/**
 * A signal by definition (typed payload) or by bare name (untyped), as `engine.signal` and
 * `ctx.waitForSignal` accept it.
 *
 * @example
 * await engine.signal('o-1', 'approval', { approved: true }); // same as passing `approval`
 */
export type SignalRef<T> = SignalDefinition<T> | string;

/** The name a `SignalRef` stands for. */
export function signalName(ref: SignalRef<unknown>): string {
  return typeof ref === 'string' ? ref : ref.name;
}
