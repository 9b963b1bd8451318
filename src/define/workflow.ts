/**
 * The workflow builder: `workflow({ name, version, input, output }).activities({...}).execute(fn)`.
 *
 * The builder carries the activity map's type into `ctx.run`, so a call to an activity the
 * workflow does not declare is a type error, and the runtime check repeats it for JS callers. With
 * an `input` (or `output`) schema it also carries that type into the body, so the schema and the
 * body's `input` parameter cannot disagree; without one, the body's annotation types the input.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import {
  activity,
  isActivityDefinition,
  type ActivityDefinition,
  type ActivityFunction,
  type ActivityMap,
} from './activity.ts';
import { optionalDescription, optionalSchema, type StandardSchemaV1 } from './schema.ts';
import { isSignalDefinition, type SignalDefinition } from './signal.ts';
import { isUpdateDefinition, type UpdateDefinition } from './update.ts';
import type { WorkflowContext } from './workflow-context.ts';

/**
 * A workflow body: an `async function*` of `(ctx, input)` whose `yield*`s are the durable steps
 * and whose return value is the run's result. Recovery runs it again from the top against the
 * journal, so anything that steers it must come from `ctx` or from recorded results.
 */
export type WorkflowFunction<A extends ActivityMap, I, O> = (
  ctx: WorkflowContext<A>,
  input: I,
) => AsyncGenerator<unknown, O, unknown>;

/**
 * What `.execute()` returns: a frozen, typed value to register with the engine and pass to
 * `engine.start`, so input and result types follow it. `I` is what the body receives, `S` what a
 * start passes: they differ only where an input schema fills in defaults or transforms.
 */
export interface WorkflowDefinition<I = unknown, O = unknown, A extends ActivityMap = ActivityMap, S = I> {
  readonly kind: 'workflow';
  readonly name: string;
  readonly version: string | null;
  readonly description: string | null;
  /** Checks a start's input before anything is stored (`invalid_input` otherwise); the body gets its output. */
  readonly inputSchema: StandardSchemaV1 | undefined;
  /** The result's schema, published by introspection (not checked at run time). */
  readonly outputSchema: StandardSchemaV1 | undefined;
  /** Signals this workflow declares, by name: their schemas check payloads sent to its runs. */
  readonly signals: ReadonlyMap<string, SignalDefinition<unknown>>;
  /** Updates this workflow declares, by name: their schemas check payloads sent to its runs. */
  readonly updates: ReadonlyMap<string, UpdateDefinition>;
  /** Activities by the name `ctx.run` uses. */
  readonly activities: ReadonlyMap<string, ActivityDefinition<never, unknown>>;
  readonly execute: WorkflowFunction<A, I, O>;
  /** Type-only marker of what `engine.start` takes (the input schema's input type); never set at runtime. */
  readonly __startInput?: S;
}

/** Any workflow definition, whatever its types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- erases the definition's type parameters
export type AnyWorkflowDefinition = WorkflowDefinition<any, any, any>;

/**
 * The input type of a workflow definition: what `engine.start` takes (with an input schema, the
 * schema's input type, so a field with a default may be left out).
 *
 * @example
 * type OrderInput = WorkflowInput<typeof order>;
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches any body input, result and activity map
export type WorkflowInput<W> = W extends WorkflowDefinition<any, any, any, infer S> ? S : never;
/**
 * The result type of a workflow definition: what `handle.result()` resolves with.
 *
 * @example
 * type OrderResult = WorkflowOutput<typeof order>;
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches any input and activity map
export type WorkflowOutput<W> = W extends WorkflowDefinition<any, infer O, any> ? O : never;

/**
 * What `workflow()` takes. Only `name` is required.
 *
 * @example
 * workflow({ name: 'order', version: '1' })
 * workflow({
 *   name: 'order',
 *   description: 'Charges and ships an order',
 *   input: z.object({ amount: z.number().positive() }),
 *   output: z.object({ receipt: z.string() }),
 *   signals: [approval],
 *   updates: [discount],
 * })
 */
export interface WorkflowOptions<In = unknown, Out = unknown, Arg = In> {
  /** The name runs are stored and registered under; `engine.start('order', ...)` uses it. */
  name: string;
  /** Recorded with each run (`WorkflowState.version`); `null` when omitted. */
  version?: string;
  /** What the workflow does, for people and agents reading its introspection. */
  description?: string;
  /**
   * A Standard Schema (zod, valibot, …) every start's input must pass, on every path (embedded,
   * REST, JSON-RPC, MCP); a mismatch is refused with `invalid_input` before anything is stored.
   * The body receives the schema's output (defaults and transforms applied), typed from it.
   */
  input?: StandardSchemaV1<Arg, In>;
  /** The result's schema: published by introspection and types the body's return value; not checked at run time. */
  output?: StandardSchemaV1<unknown, Out>;
  /** Signals its runs accept: a payload sent under one of these names is checked against its schema. */
  signals?: readonly SignalDefinition<unknown>[];
  /** Updates its runs handle: a payload sent under one of these names is checked against its schema. */
  updates?: readonly UpdateDefinition<unknown, unknown>[];
}

/** Marks a builder type parameter no schema declared: the body's own annotation decides. */
declare const _undeclared: unique symbol;
/** The type of a builder parameter no schema fixed. */
export type Undeclared = typeof _undeclared;
/** `Declared` when a schema fixed it, else `Inferred` (from the body). */
type Chosen<Declared, Inferred> = [Declared] extends [Undeclared] ? Inferred : Declared;

/**
 * What `workflow()` returns: declare activities with `.activities({...})` (each call adds to them),
 * then finish with `.execute(fn)`. Carries the activity map's type into `ctx.run`, and the input
 * and output types of declared schemas into the body (`Undeclared` where none was given).
 */
export class WorkflowBuilder<A extends ActivityMap, In = Undeclared, Out = Undeclared, Arg = In> {
  readonly #options: WorkflowOptions<unknown, unknown, unknown>;
  readonly #activities: A;

  constructor(options: WorkflowOptions<unknown, unknown, unknown>, activities: A) {
    this.#options = options;
    this.#activities = activities;
  }

  /** Declares the activities `ctx.run` may call by name: plain functions or `activity()` definitions. */
  activities<B extends ActivityMap>(activities: B): WorkflowBuilder<A & B, In, Out, Arg> {
    if (typeof activities !== 'object' || activities === null) {
      throw new InvalidArgumentError(`workflow '${this.#options.name}': activities must be an object`);
    }
    return new WorkflowBuilder(this.#options, { ...this.#activities, ...activities });
  }

  /**
   * Sets the workflow body, an `async function*`, and returns the finished definition. With an
   * `input` schema the body's `input` is the schema's output type; without, its annotation.
   */
  execute<I = Chosen<In, unknown>, O = Chosen<Out, unknown>>(
    fn: WorkflowFunction<A, Chosen<In, I>, Chosen<Out, O>>,
  ): WorkflowDefinition<Chosen<In, I>, Chosen<Out, O>, A, Chosen<Arg, I>> {
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError(`workflow '${this.#options.name}': execute needs an async generator function`);
    }
    const activities = new Map<string, ActivityDefinition<never, unknown>>();
    for (const [key, entry] of Object.entries(this.#activities)) {
      if (isActivityDefinition(entry)) activities.set(key, entry as ActivityDefinition<never, unknown>);
      else if (typeof entry === 'function') {
        activities.set(key, activity({ name: key, execute: entry as ActivityFunction<never, unknown> }));
      } else
        throw new InvalidArgumentError(
          `workflow '${this.#options.name}': activity '${key}' is neither a function nor an activity()`,
        );
    }
    const options = this.#options;
    const name = options.name;
    return Object.freeze({
      kind: 'workflow',
      name,
      version: options.version ?? null,
      description: optionalDescription(options.description, `workflow '${name}': description`),
      inputSchema: optionalSchema(options.input, `workflow '${name}': input`),
      outputSchema: optionalSchema(options.output, `workflow '${name}': output`),
      signals: byName(name, 'signals', options.signals, isSignalDefinition, 'signal()'),
      updates: byName(name, 'updates', options.updates, isUpdateDefinition, 'update()'),
      activities,
      execute: fn,
    });
  }
}

/**
 * Starts a workflow definition.
 *
 * @example
 * const greet = workflow({ name: 'greet', version: '1' })
 *   .activities({ hello: async (name: string) => `hello ${name}` })
 *   .execute(async function* (ctx, name: string) {
 *     return yield* ctx.run('hello', name);
 *   });
 */
export function workflow<In = Undeclared, Out = Undeclared, Arg = In>(
  options: WorkflowOptions<In, Out, Arg>,
): WorkflowBuilder<Record<never, never>, In, Out, Arg> {
  if (typeof options?.name !== 'string' || options.name.length === 0) {
    throw new InvalidArgumentError('workflow({ name }) needs a non-empty name');
  }
  if (options.version !== undefined && typeof options.version !== 'string') {
    throw new InvalidArgumentError(`workflow '${options.name}': version must be a string`);
  }
  return new WorkflowBuilder(options, {});
}

/** Declared signals or updates by name: each a definition of that kind, no name twice. */
function byName<D extends { readonly name: string }>(
  workflowName: string,
  field: 'signals' | 'updates',
  list: readonly unknown[] | undefined,
  is: (value: unknown) => value is D,
  maker: string,
): ReadonlyMap<string, D> {
  const map = new Map<string, D>();
  if (list === undefined) return map;
  if (!Array.isArray(list)) throw new InvalidArgumentError(`workflow '${workflowName}': ${field} must be an array`);
  for (const entry of list) {
    if (!is(entry)) throw new InvalidArgumentError(`workflow '${workflowName}': ${field} takes ${maker} definitions`);
    if (map.has(entry.name)) {
      throw new InvalidArgumentError(`workflow '${workflowName}': ${field} names '${entry.name}' twice`);
    }
    map.set(entry.name, entry);
  }
  return map;
}
