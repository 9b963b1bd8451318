/**
 * Durable operations as values. `ctx.run(...)`, `ctx.sleep(...)` and friends return an
 * `Operation`: an iterable that yields one command to the engine and returns what the engine
 * sends back. Workflow code consumes it with `yield*`, which is what makes a step durable —
 * and why calling `ctx.run()` without `yield*` does nothing at all.
 */
import type { ResolvedRetryPolicy } from '../core/retry-policy.ts';
import type { ActivityDefinition } from './activity.ts';

/** Run an activity (`ctx.run`): name, input and the retry/timeout in force for this call. */
export interface ActivityCommand {
  kind: 'activity';
  name: string;
  input: unknown;
  retry: ResolvedRetryPolicy;
  timeoutMs: number | undefined;
  /** The definition that runs it in-process (not part of the journal). */
  definition: ActivityDefinition<never, unknown>;
}
/** A durable timer of `ms` milliseconds (`ctx.sleep`). */
export interface SleepCommand {
  kind: 'sleep';
  ms: number;
}
/** Take a signal of this name from the inbox (`ctx.waitForSignal`); `timeoutMs` undefined waits forever. */
export interface SignalCommand {
  kind: 'signal';
  name: string;
  timeoutMs: number | undefined;
}
/** A command that is one journaled step: the only kind `ctx.all` / `ctx.race` accept as children. */
export type LeafCommand = ActivityCommand | SleepCommand | SignalCommand;

/** `ctx.all` / `ctx.race` over leaf commands; composites do not nest. */
export interface CompositeCommand {
  kind: 'all' | 'race';
  children: LeafCommand[];
}
/** What an `Operation` yields to the engine. */
export type Command = LeafCommand | CompositeCommand;

/** True for `ctx.all` / `ctx.race` commands. */
export function isComposite(command: Command): command is CompositeCommand {
  return command.kind === 'all' || command.kind === 'race';
}

/**
 * One durable step; use it with `yield*` inside a workflow. Creating one does nothing: only
 * `yield*` performs the step, so a `ctx.run(...)` without it never runs.
 *
 * An async iterable rather than a generator: `yield*` inside an async generator drives an async
 * iterator directly, while a sync one gets wrapped and awaited at every step — twice the cost,
 * which is most of what replaying a long journal costs.
 *
 * @example
 * const nap: Operation<void> = ctx.sleep('1h'); // nothing happens yet
 * yield* nap; // now the durable timer is armed and awaited
 */
export class Operation<T> implements AsyncIterable<Command, T, unknown> {
  constructor(readonly command: Command) {}

  [Symbol.asyncIterator](): AsyncIterator<Command, T, unknown> {
    const command = this.command;
    let yielded = false;
    return {
      next(value?: unknown): Promise<IteratorResult<Command, T>> {
        if (yielded) return Promise.resolve({ value: value as T, done: true });
        yielded = true;
        return Promise.resolve({ value: command, done: false });
      },
      // The engine throws a step's failure into the workflow: it surfaces at the `yield*`.
      throw(error?: unknown): Promise<IteratorResult<Command, T>> {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      },
      return(value?: T | PromiseLike<T>): Promise<IteratorResult<Command, T>> {
        return Promise.resolve(value).then((resolved) => ({ value: resolved as T, done: true as const }));
      },
    };
  }
}

/** True for a value an `Operation` yields; anything else a workflow yields fails the run. */
export function isCommand(value: unknown): value is Command {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'activity' || kind === 'sleep' || kind === 'signal' || kind === 'all' || kind === 'race';
}

/** The results of a tuple of operations, element by element. */
export type OperationResults<T extends readonly Operation<unknown>[]> = {
  -readonly [K in keyof T]: T[K] extends Operation<infer R> ? R : never;
};
