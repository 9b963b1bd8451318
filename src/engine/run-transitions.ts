/**
 * A run's state changes as it commits them: the status on its row, and the fleet event and watch
 * frame that go with each change (started, suspended, resumed and the terminal ones).
 *
 * Traps it avoids:
 * - A watch log out of step with the run: the row patch, the event and the frame of one change are
 *   built together, to commit in one transaction, and frames are numbered here only.
 * - A stale eviction queue: the engine hears that a run left `suspended` when the change is made,
 *   so it never evicts a run that is running again.
 */
import { RunStatus, type Mutation } from '../storage/storage.ts';
import type { EngineEventType } from './engine-events.ts';
import type { ExecutorHost } from './executor-host.ts';
import type { RunExecutor } from './run-executor.ts';
import type { RunWrites } from './run-writes.ts';

export class RunTransitions {
  readonly #executor: RunExecutor;
  readonly #engine: ExecutorHost;
  readonly #writes: RunWrites;
  /** Last watch frame seq of this run (frames count from 1 per run). */
  #watchSeq: number;

  constructor(executor: RunExecutor, engine: ExecutorHost, writes: RunWrites, watchTail: number) {
    this.#executor = executor;
    this.#engine = engine;
    this.#writes = writes;
    this.#watchSeq = watchTail;
  }

  /** Moves the run to `status` (running ⇄ suspended): the writes of that change, none if it has it already. */
  to(status: RunStatus): Mutation[] {
    const run = this.#executor.run;
    if (run.status === status) return [];
    if (run.status === RunStatus.suspended) this.#engine.resumed(this.#executor);
    run.status = status;
    const event = status === RunStatus.suspended ? 'workflow:suspended' : 'workflow:resumed';
    return [...this.#writes.patchRun({ status, updatedAt: this.#engine.clock.now() }), ...this.record(event, status)];
  }

  /** The fleet event and the watch frame of one state change, to commit with it. */
  record(type: EngineEventType, status: RunStatus, detail?: Record<string, unknown>): Mutation[] {
    return stateChangeWrites(this.#engine, this.#executor.id, ++this.#watchSeq, type, status, detail);
  }
}

/**
 * The event and the watch frame (numbered `watchSeq`) of one state change of a run: the one place
 * that pairs them, for executors and for the engine's changes to runs it does not hold in memory.
 */
export function stateChangeWrites(
  engine: Pick<ExecutorHost, 'event'>,
  runId: string,
  watchSeq: number,
  type: EngineEventType,
  status: RunStatus,
  detail?: Record<string, unknown>,
): Mutation[] {
  const event = engine.event(type, runId, detail);
  const { at, data } = event.event;
  return [event, { op: 'appendWatch', frame: { runId, seq: watchSeq, type, status, at, data } }];
}
