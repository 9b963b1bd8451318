/**
 * The engine side of updates: `engine.update` and `engine.getUpdate`. It checks the call, finds the
 * run (rebuilding an evicted one), answers a repeated idempotency key with the first outcome, and
 * waits for the outcome up to the caller's timeout.
 *
 * Traps it avoids:
 * - Running a handler twice for one key: a key is looked up in storage first, and calls racing
 *   with the same key share one attempt in memory.
 * - A timeout that loses the update: when the caller stops waiting, the update still applies and
 *   `getUpdate` reports `pending` until it is committed, then its outcome.
 */
import type { Clock } from '../core/clock.ts';
import type { Codec } from '../core/codec.ts';
import { parseDuration, type Duration } from '../core/duration.ts';
import {
  type SerializedError,
  UpdateFailedError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
} from '../core/errors.ts';
import type { RandomSource } from '../core/random.ts';
import { isFinished, type Storage, type UpdateRecord } from '../storage/storage.ts';
import { checkKey } from './engine-options.ts';
import type { RunExecutor } from './run-executor.ts';

/**
 * Options of `engine.update`.
 *
 * @example
 * await engine.update('o-1', 'discount', 10, { timeout: '5s', idempotencyKey: 'req-7' });
 */
export interface UpdateOptions {
  /** Stop waiting after this long and report `pending` (the update still applies). Default: wait. */
  timeout?: Duration;
  /** A repeated key returns the first update's outcome without running the handler again. */
  idempotencyKey?: string;
}

/** What `engine.update` resolves with: the result, or `pending` when the timeout passed first. */
export type UpdateOutcome<R = unknown> =
  { updateId: string; status: 'completed'; result: R } | { updateId: string; status: 'pending' };

/** An update as `engine.getUpdate` reports it. */
export interface UpdateState {
  updateId: string;
  workflowId: string;
  name: string;
  status: 'pending' | 'completed' | 'failed';
  /** Set when completed. */
  result?: unknown;
  /** Set when failed. */
  error?: SerializedError;
}

export interface UpdateBrokerHost {
  storage: Storage;
  codec: Codec;
  clock: Clock;
  random: RandomSource;
  /** The run's executor, rebuilt if evicted; undefined when the run is gone or finished. */
  executorOf(id: string): Promise<RunExecutor | undefined>;
}

interface Pending {
  workflowId: string;
  name: string;
  outcome: Promise<UpdateRecord>;
}

export class UpdateBroker {
  readonly #host: UpdateBrokerHost;
  readonly #pending = new Map<string, Pending>();
  /** Attempts by `runId \0 key`, so concurrent calls with one key share one. */
  readonly #byKey = new Map<string, Promise<{ updateId: string; outcome: Promise<UpdateRecord> }>>();

  constructor(host: UpdateBrokerHost) {
    this.#host = host;
  }

  async update(id: string, name: string, payload: unknown, options: UpdateOptions = {}): Promise<UpdateOutcome> {
    checkKey(id, 'id');
    checkKey(name, 'update name');
    const key = options.idempotencyKey;
    if (key !== undefined) checkKey(key, 'idempotencyKey');
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout);
    const bytes = this.#host.codec.encode(payload, `payload of update '${name}'`);
    let attempt: Promise<{ updateId: string; outcome: Promise<UpdateRecord> }>;
    if (key === undefined) attempt = this.#submit(id, name, bytes, null);
    else {
      const slot = `${id}\0${key}`;
      attempt = this.#byKey.get(slot) ?? this.#keyed(id, name, bytes, key);
      if (!this.#byKey.has(slot)) {
        this.#byKey.set(slot, attempt);
        const forget = (): void => void (this.#byKey.get(slot) === attempt && this.#byKey.delete(slot));
        attempt.then((a) => a.outcome.then(forget, forget), forget);
      }
    }
    const { updateId, outcome } = await attempt;
    const record = await this.#wait(outcome, timeoutMs);
    if (record === undefined) return { updateId, status: 'pending' };
    if (record.status === 'failed') throw new UpdateFailedError(updateId, name, record.error!);
    return {
      updateId,
      status: 'completed',
      result: record.result === null ? undefined : this.#host.codec.decode(record.result),
    };
  }

  async getUpdate(updateId: string): Promise<UpdateState | undefined> {
    checkKey(updateId, 'updateId');
    const pending = this.#pending.get(updateId);
    if (pending !== undefined)
      return { updateId, workflowId: pending.workflowId, name: pending.name, status: 'pending' };
    const record = await this.#host.storage.getUpdate(updateId);
    return record === undefined ? undefined : this.#toState(record);
  }

  #toState(record: UpdateRecord): UpdateState {
    const state: UpdateState = {
      updateId: record.id,
      workflowId: record.runId,
      name: record.name,
      status: record.status,
    };
    if (record.status === 'completed') {
      state.result = record.result === null ? undefined : this.#host.codec.decode(record.result);
    }
    if (record.error !== null) state.error = record.error;
    return state;
  }

  async #keyed(id: string, name: string, bytes: Uint8Array, key: string) {
    const existing = await this.#host.storage.findUpdateByIdempotencyKey(id, key);
    if (existing !== undefined) return { updateId: existing.id, outcome: Promise.resolve(existing) };
    return this.#submit(id, name, bytes, key);
  }

  async #submit(id: string, name: string, payload: Uint8Array, idempotencyKey: string | null) {
    const executor = await this.#host.executorOf(id);
    if (executor === undefined) {
      const run = await this.#host.storage.getRun(id);
      if (run === undefined) throw new WorkflowNotFoundError(id);
      throw new WorkflowNotRunningError(id, isFinished(run.status) ? run.status : 'unknown');
    }
    const updateId = this.#host.random.uuid();
    const outcome = executor.submitUpdate({
      id: updateId,
      name,
      payload,
      idempotencyKey,
      createdAt: this.#host.clock.now(),
    });
    this.#pending.set(updateId, { workflowId: id, name, outcome });
    const forget = (): void => void this.#pending.delete(updateId);
    outcome.then(forget, forget);
    // Refusals before anything is recorded (no handler, run ended) reach the caller as errors.
    return { updateId, outcome };
  }

  async #wait(outcome: Promise<UpdateRecord>, timeoutMs: number | undefined): Promise<UpdateRecord | undefined> {
    if (timeoutMs === undefined) return outcome;
    const expired = Promise.withResolvers<undefined>();
    const timer = this.#host.clock.setTimer(timeoutMs, () => expired.resolve(undefined));
    try {
      return await Promise.race([outcome, expired.promise]);
    } finally {
      timer.cancel();
    }
  }
}
