/**
 * The activity step (`ctx.run`): starts the activity with its retry policy, counts the run's
 * activities in flight, and turns the final result into the step's journal entry and events.
 *
 * Traps it avoids:
 * - Side effects ahead of what they were given: values recorded before the activity starts
 *   (`ctx.now()` and the like) are committed first, so a crash cannot hand a re-run activity
 *   different ones.
 * - A late result deciding anything: an activity whose step was abandoned (a lost race), or whose
 *   run stopped, settles nothing.
 * - A result the codec refuses failing the run: it fails the step instead, as the activity's error,
 *   which workflow code may catch.
 */
import { ActivityFailedError, serializeError } from '../core/errors.ts';
import type { ActivityCommand } from '../define/operation.ts';
import type { Mutation } from '../storage/storage.ts';
import { runActivity } from './activity-runner.ts';
import type { EngineEventType } from './engine-events.ts';
import { STOP, type LiveStep, type Outcome, type SettleFn } from './executor-host.ts';
import type { LiveTable, StepHost } from './step-host.ts';

/** What the activity step needs from its run executor, beyond every step's host. */
export interface ActivityHost extends StepHost {
  /** The run's abort signal: cancel, execution timeout and close reach every activity through it. */
  runSignal(): AbortSignal;
  /** A fleet event about this run, to commit with the change it reports. */
  event(type: EngineEventType, detail: Record<string, unknown>): Mutation;
  /** `actx.stream`: the run's token stream, as activities write to it. */
  activityStream(): { write(chunk: unknown): Promise<void> };
}

export class ActivitySteps {
  readonly #host: ActivityHost;
  readonly #table: LiveTable;
  #inFlight = 0;
  #idle: PromiseWithResolvers<void> | undefined;

  constructor(host: ActivityHost, table: LiveTable) {
    this.#host = host;
    this.#table = table;
  }

  /** Activities of this run now running; while any is, the run is `running` and stays in memory. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when no activity of this run is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  async start(seq: number, command: ActivityCommand, settle: SettleFn): Promise<LiveStep> {
    const host = this.#host;
    try {
      // Checked here, not at ctx.run, so replaying journaled steps never pays for encoding inputs.
      host.codec.encode(command.input, `input of activity '${command.name}'`);
    } catch (error) {
      const refused: LiveStep = { seq, command, settled: true, abandon: () => [] };
      void settle(host.journal.encodedEntry(seq, 'activity', command.name, { ok: false, error }), [], false);
      return refused;
    }
    const definition = command.definition;
    // A single step can only be stopped with its run, so it shares the run's signal. A child of
    // ctx.all/race can be abandoned alone: it gets its own signal, which follows the run's.
    const runSignal = host.runSignal();
    const own = this.#table.composing ? new AbortController() : undefined;
    const onRunAbort = own === undefined ? undefined : (): void => own.abort(runSignal.reason);
    if (onRunAbort !== undefined) runSignal.addEventListener('abort', onRunAbort, { once: true });
    const step: LiveStep = {
      seq,
      command,
      settled: false,
      abandon: () => {
        own?.abort(new Error('step abandoned'));
        return [];
      },
    };
    this.#table.open(step);
    // Recorded values the activity may have been given must be durable before its side effects.
    if (host.writes.hasPending) await host.writes.commit(host.writes.take());
    if (host.isStopped()) throw STOP;
    this.#inFlight++;
    // Published with the run's next commit (its result at the latest): no write of its own.
    host.writes.queue(host.event('activity:started', { activity: command.name, seq }));
    runActivity({
      name: command.name,
      execute: definition.execute,
      input: command.input,
      retry: command.retry,
      timeoutMs: command.timeoutMs,
      signal: own?.signal ?? runSignal,
      stopWaitingOnAbort: own !== undefined,
      workflowId: host.id,
      workflowType: host.workflowType,
      idempotencyKey: `${host.id}:${seq}`,
      clock: host.clock,
      stream: host.activityStream(),
    })
      .then((result) => {
        this.#inFlight--;
        if (this.#inFlight === 0) {
          this.#idle?.resolve();
          this.#idle = undefined;
        }
        if (onRunAbort !== undefined) runSignal.removeEventListener('abort', onRunAbort);
        if (result.status === 'aborted' || step.settled || host.isStopped()) return;
        let outcome: Outcome;
        if (result.status === 'completed') {
          try {
            const bytes = host.codec.encode(result.value, `result of activity '${command.name}'`);
            outcome = { ok: true, value: bytes };
          } catch (error) {
            outcome = {
              ok: false,
              error: new ActivityFailedError(command.name, result.attempts, serializeError(error)),
            };
          }
        } else {
          outcome = { ok: false, error: result.error };
        }
        const event = host.event(outcome.ok ? 'activity:completed' : 'activity:failed', {
          activity: command.name,
          seq,
          attempts: result.attempts,
        });
        step.settled = true;
        this.#table.forget(seq);
        return settle(host.journal.encodedEntry(seq, 'activity', command.name, outcome), [event], false);
      })
      .catch((error: unknown) => host.fault(error));
    return step;
  }
}
