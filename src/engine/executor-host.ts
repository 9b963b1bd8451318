/**
 * What a run executor needs from its engine, and the small types the executor's parts share.
 * Kept apart so the executor's step modules can import them without importing the executor.
 */
import type { Clock } from '../core/clock.ts';
import type { Codec } from '../core/codec.ts';
import type { SerializedError } from '../core/errors.ts';
import type { RandomSource } from '../core/random.ts';
import type { LeafCommand } from '../define/operation.ts';
import type { JournalEntry, Mutation, RunStatus, Storage } from '../storage/storage.ts';
import type { EngineEventType } from './engine-events.ts';
import type { RunExecutor } from './run-executor.ts';
import type { TimerService } from './timer-service.ts';

export interface ExecutorHost {
  readonly storage: Storage;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly timers: TimerService;
  /** True once the engine is closing: finish in-flight work, start nothing new. */
  isClosing(): boolean;
  commit(mutations: Mutation[]): Promise<void>;
  /** A fleet event to commit with the change it reports; published once that commit resolved. */
  event(
    type: EngineEventType,
    runId: string,
    detail?: Record<string, unknown>,
  ): Extract<Mutation, { op: 'appendEvent' }>;
  /** Writes that go with the run's terminal commit (a parent's wake-up, say). */
  ending(executor: RunExecutor, end: RunEnd): Mutation[];
  /**
   * Checks a child start (type registered, id, input storable) and returns how to create it; the
   * `extra` writes (the parent's journal entry) commit with the child's creation.
   */
  prepareChild(parent: RunExecutor, type: string, input: unknown, id: string): { create(extra: Mutation[]): void };
  /** The run reached a terminal status (committed). */
  finished(executor: RunExecutor): void;
  /** The run only waits on timers or signals now, with everything committed: it may be evicted. */
  suspended(executor: RunExecutor): void;
  /** The run left `suspended`. */
  resumed(executor: RunExecutor): void;
  /** Storage failed under this run; it stays as last committed. */
  fault(executor: RunExecutor, error: unknown): void;
}

/** How a run ended, as its terminal commit records it. */
export interface RunEnd {
  status: RunStatus;
  result: Uint8Array | null;
  error: SerializedError | null;
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Ends the drive loop without touching storage (cancelled, timed out, closing, faulted). */
export class Stop extends Error {}
/** One shared instance: a stop is control flow, and building a stack trace per run costs more than the run. */
export const STOP = new Stop('run stopped');

export interface LiveStep {
  seq: number;
  command: LeafCommand;
  settled: boolean;
  /** Frees in-memory resources of an abandoned step and returns the rows to delete. */
  abandon: () => Mutation[];
}

/**
 * Records a step's outcome. `durable` asks for the writes to be committed before this resolves,
 * for outcomes someone outside the run already relies on: a sender told its signal arrived, or an
 * inbox message the next wait must not read again. Otherwise they ride with the run's next commit.
 */
export type SettleFn = (entry: JournalEntry, mutations: Mutation[], durable: boolean) => Promise<void>;

export interface SettleOptions {
  /** The run goes on after this (false while a ctx.all still waits for other children). */
  resumes: boolean;
  durable: boolean;
}

export const DEADLINE_TIMER = 'deadline';
export const stepTimerKey = (seq: number): string => `step:${seq}`;
