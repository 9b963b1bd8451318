/**
 * The `ctx` handed to workflow code. Every argument is checked here, at the call, so a typo in
 * an activity name or a duration fails where it was written rather than as a broken journal
 * entry later. A class, so a run costs one object and the methods live on the prototype.
 */
import { parseDuration } from '../core/duration.ts';
import { ActivityNotRegisteredError, InvalidArgumentError, TaskQueueUnavailableError } from '../core/errors.ts';
import { resolveRetryPolicy } from '../core/retry-policy.ts';
import { isActivityDefinition, type ActivityDefinition } from '../define/activity.ts';
import { isComposite, Operation, type LeafCommand } from '../define/operation.ts';
import { signalName, type SignalRef } from '../define/signal.ts';
import { updateName, type UpdateRef } from '../define/update.ts';
import type {
  ChildWorkflowHandle,
  RunActivityOptions,
  StartChildOptions,
  WaitForSignalOptions,
  WorkflowContext,
  WorkflowStream,
} from '../define/workflow-context.ts';
import { childInboxName } from './child-runs.ts';
import type { RunExecutor } from './run-executor.ts';

export interface ContextHost {
  readonly id: string;
  readonly run: RunExecutor['run'];
  readonly definition: RunExecutor['definition'];
  readonly signal: AbortSignal;
  recordValue<T>(kind: 'now' | 'random' | 'uuid', produce: () => T): T;
  setAttribute(name: string, value: string | number | boolean): void;
  writeStream(chunk: unknown): void;
  onUpdate(name: unknown, handler: unknown): void;
  onQuery(name: unknown, handler: unknown): void;
  startChild(type: string, input: unknown, options: StartChildOptions | undefined): { id: string };
  readonly services: {
    now(): number;
    random(): number;
    uuid(): string;
  };
}

class Context {
  readonly #host: ContextHost;
  readonly workflowId: string;
  readonly workflowType: string;

  constructor(host: ContextHost) {
    this.#host = host;
    this.workflowId = host.id;
    this.workflowType = host.run.type;
  }

  /** A getter: the run's AbortController is only created when someone asks for its signal. */
  get signal(): AbortSignal {
    return this.#host.signal;
  }

  run(ref: unknown, input: unknown, options?: RunActivityOptions): Operation<unknown> {
    const definition = this.#resolveActivity(ref);
    return new Operation({
      kind: 'activity',
      name: typeof ref === 'string' ? ref : definition.name,
      input,
      retry: options?.retry === undefined ? definition.retry : resolveRetryPolicy(options.retry),
      timeoutMs: options?.timeout === undefined ? definition.timeoutMs : parseDuration(options.timeout),
      definition,
    });
  }

  sleep(duration: unknown): Operation<void> {
    return new Operation({ kind: 'sleep', ms: parseDuration(duration) });
  }

  waitForSignal(ref: SignalRef<unknown>, options?: WaitForSignalOptions): Operation<unknown> {
    const name = signalName(ref);
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError('ctx.waitForSignal needs a signal() definition or a non-empty name');
    }
    const timeoutMs = options?.timeout === undefined ? undefined : parseDuration(options.timeout);
    return new Operation({ kind: 'signal', name, timeoutMs });
  }

  all(operations: readonly unknown[]): Operation<unknown> {
    return new Operation({ kind: 'all', children: Array.from(operations, leafOf) });
  }

  race(operations: readonly unknown[]): Operation<unknown> {
    if (operations.length === 0) throw new InvalidArgumentError('ctx.race needs at least one operation');
    return new Operation({ kind: 'race', children: Array.from(operations, leafOf) });
  }

  now(): number {
    const services = this.#host.services;
    return this.#host.recordValue('now', () => services.now());
  }

  random(): number {
    const services = this.#host.services;
    return this.#host.recordValue('random', () => services.random());
  }

  uuid(): string {
    const services = this.#host.services;
    return this.#host.recordValue('uuid', () => services.uuid());
  }

  setAttribute(name: string, value: string | number | boolean): void {
    this.#host.setAttribute(name, value);
  }

  onUpdate(update: UpdateRef, handler: unknown): void {
    this.#host.onUpdate(updateName(update), handler);
  }

  onQuery(name: unknown, handler: unknown): void {
    this.#host.onQuery(name, handler);
  }

  /** Created on first use: most runs never stream. */
  get stream(): WorkflowStream {
    const host = this.#host;
    return (this.#stream ??= { write: (chunk: unknown) => host.writeStream(chunk) });
  }

  #stream: WorkflowStream | undefined;

  startChild(type: unknown, input?: unknown, options?: StartChildOptions): ChildWorkflowHandle<unknown> {
    if (typeof type !== 'string' || type.length === 0) {
      throw new InvalidArgumentError('ctx.startChild needs a workflow type name');
    }
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new InvalidArgumentError('ctx.startChild options must be an object');
    }
    const { id } = this.#host.startChild(type, input, options);
    const wait = new Operation<unknown>({ kind: 'signal', name: childInboxName(id), timeoutMs: undefined });
    return { id, result: () => wait };
  }

  #resolveActivity(ref: unknown): ActivityDefinition<never, unknown> {
    if (typeof ref === 'string') {
      const found = this.#host.definition.activities.get(ref);
      if (found === undefined) throw new ActivityNotRegisteredError(this.#host.run.type, ref);
      return found;
    }
    if (isActivityDefinition(ref)) {
      if (ref.queue !== undefined) throw new TaskQueueUnavailableError(this.#host.run.type, ref.name, ref.queue);
      return ref;
    }
    throw new InvalidArgumentError('ctx.run needs an activity name or an activity() definition');
  }
}

function leafOf(operation: unknown): LeafCommand {
  if (!(operation instanceof Operation)) {
    throw new InvalidArgumentError('ctx.all / ctx.race take operations such as ctx.run(...), ctx.sleep(...)');
  }
  const command = operation.command;
  if (isComposite(command)) throw new InvalidArgumentError('ctx.all / ctx.race cannot nest another ctx.all / ctx.race');
  return command;
}

export function createWorkflowContext(host: ContextHost): WorkflowContext {
  return new Context(host) as unknown as WorkflowContext;
}
