/**
 * The workflow builder: `workflow({ name, version }).activities({...}).execute(fn)`.
 *
 * The builder carries the activity map's type into `ctx.run`, so a call to an activity the
 * workflow does not declare is a type error, and the runtime check repeats it for JS callers.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import {
  activity,
  isActivityDefinition,
  type ActivityDefinition,
  type ActivityFunction,
  type ActivityMap,
} from './activity.ts';
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
 * `engine.start`, so input and result types follow it.
 */
export interface WorkflowDefinition<I = unknown, O = unknown, A extends ActivityMap = ActivityMap> {
  readonly kind: 'workflow';
  readonly name: string;
  readonly version: string | null;
  /** Activities by the name `ctx.run` uses. */
  readonly activities: ReadonlyMap<string, ActivityDefinition<never, unknown>>;
  readonly execute: WorkflowFunction<A, I, O>;
}

/** Any workflow definition, whatever its types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- erases the definition's type parameters
export type AnyWorkflowDefinition = WorkflowDefinition<any, any, any>;

/**
 * The input type of a workflow definition.
 *
 * @example
 * type OrderInput = WorkflowInput<typeof order>;
 */
export type WorkflowInput<W> = W extends WorkflowDefinition<infer I, unknown, ActivityMap> ? I : never;
/**
 * The result type of a workflow definition: what `handle.result()` resolves with.
 *
 * @example
 * type OrderResult = WorkflowOutput<typeof order>;
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches any input and activity map
export type WorkflowOutput<W> = W extends WorkflowDefinition<any, infer O, any> ? O : never;

/**
 * What `workflow()` takes.
 *
 * @example
 * workflow({ name: 'order', version: '1' })
 */
export interface WorkflowOptions {
  /** The name runs are stored and registered under; `engine.start('order', ...)` uses it. */
  name: string;
  /** Recorded with each run (`WorkflowState.version`); `null` when omitted. */
  version?: string;
}

/**
 * What `workflow()` returns: declare activities with `.activities({...})` (each call adds to them),
 * then finish with `.execute(fn)`. Carries the activity map's type into `ctx.run`.
 */
export class WorkflowBuilder<A extends ActivityMap> {
  readonly #options: WorkflowOptions;
  readonly #activities: A;

  constructor(options: WorkflowOptions, activities: A) {
    this.#options = options;
    this.#activities = activities;
  }

  /** Declares the activities `ctx.run` may call by name: plain functions or `activity()` definitions. */
  activities<B extends ActivityMap>(activities: B): WorkflowBuilder<A & B> {
    if (typeof activities !== 'object' || activities === null) {
      throw new InvalidArgumentError(`workflow '${this.#options.name}': activities must be an object`);
    }
    return new WorkflowBuilder(this.#options, { ...this.#activities, ...activities });
  }

  /** Sets the workflow body, an `async function*`, and returns the finished definition. */
  execute<I, O>(fn: WorkflowFunction<A, I, O>): WorkflowDefinition<I, O, A> {
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
    return Object.freeze({
      kind: 'workflow',
      name: this.#options.name,
      version: this.#options.version ?? null,
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
export function workflow(options: WorkflowOptions): WorkflowBuilder<Record<never, never>> {
  if (typeof options?.name !== 'string' || options.name.length === 0) {
    throw new InvalidArgumentError('workflow({ name }) needs a non-empty name');
  }
  if (options.version !== undefined && typeof options.version !== 'string') {
    throw new InvalidArgumentError(`workflow '${options.name}': version must be a string`);
  }
  return new WorkflowBuilder(options, {});
}
