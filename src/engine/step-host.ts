/**
 * What a run executor lends the modules that run its steps (`live-steps.ts`, `activity-step.ts`,
 * `wait-steps.ts`, `recorded-steps.ts`, `run-stream.ts`, `park-point.ts`): the run's identity, codec
 * and clock, its journal, and its one path to storage. Each module's own host interface adds what
 * only it needs; the executor satisfies them all with one object.
 *
 * Trap it avoids: a step module writing around the executor. Writes only go through `writes`
 * (`run-writes.ts`), which keeps a new run's creating rows first and stops the run when they fail.
 */
import type { Clock } from '../core/clock.ts';
import type { Codec } from '../core/codec.ts';
import type { Mutation } from '../storage/storage.ts';
import type { LiveStep } from './executor-host.ts';
import type { RunJournal } from './run-journal.ts';
import type { RunWrites } from './run-writes.ts';

export interface StepHost {
  readonly id: string;
  readonly workflowType: string;
  readonly codec: Codec;
  readonly clock: Clock;
  /** The run's journal: entries by seq, the seq cursor, and building this run's entries. */
  readonly journal: RunJournal;
  /** The run's path to storage: writes wait for its next commit (`queue`), or are taken and committed now. */
  readonly writes: Pick<RunWrites, 'queue' | 'hasPending' | 'take' | 'commit'>;
  /** True once the run ended, was halted or evicted: a callback that still arrives does nothing. */
  isStopped(): boolean;
  /** Storage failed under the run in a write nobody awaits. */
  fault(error: unknown): void;
}

/** The run's table of live steps (`live-steps.ts`), which the activity and wait steps enter and leave. */
export interface LiveTable {
  /** A step the run now waits on. */
  open(step: LiveStep): void;
  /** A step that settled or was abandoned. */
  forget(seq: number): void;
  /** True while a ctx.all / ctx.race starts its children. */
  readonly composing: boolean;
  /**
   * The writes marking the run suspended when nothing but waits keeps it busy now (no activity in
   * flight, no ctx.all / ctx.race still starting children); none otherwise.
   */
  suspendIfOnlyWaiting(): Mutation[];
}
