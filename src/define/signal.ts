/**
 * Typed signal definitions. A signal is a named, one-way message into a run; defining it once
 * and sharing the value between workflow and sender makes a misspelled name a type error.
 */

/** What `signal()` returns: a frozen name, typed with the payload `T` it carries. */
export interface SignalDefinition<T> {
  readonly kind: 'signal';
  readonly name: string;
  /** Type-only marker; never set at runtime. */
  readonly __payload?: T;
}

/**
 * Defines a signal.
 *
 * @example
 * const approval = signal<{ approved: boolean }>('approval');
 * const decision = yield* ctx.waitForSignal(approval, { timeout: '7d' });
 * await engine.signal(runId, approval, { approved: true });
 */
export function signal<T = unknown>(name: string): SignalDefinition<T> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('signal(name) needs a non-empty name');
  return Object.freeze({ kind: 'signal', name });
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
