/**
 * Group commit: the commits that callers issue close together are written as one group, and every
 * caller learns its own outcome only once the whole group is settled.
 *
 * Traps it avoids:
 * - One transaction (and, with `durability: 'full'`, one fsync) per commit. Commits submitted before
 *   the scheduled flush runs join the same group, so a burst of N commits costs one transaction.
 * - Early "done". A caller's promise settles only after `write` returned for its whole group, i.e.
 *   after SQLite's COMMIT returned; a failed group rejects every caller in it.
 * - Interleaving. `write` is synchronous, so nothing else touches the connection while a group is
 *   written, and a read never sees a group half-way.
 * - Closing a group too early. The boundary is `setImmediate`, not a microtask: SQLite writes are
 *   synchronous, so with a microtask boundary a run woken by one event (an activity result, a timer)
 *   commits, resumes and commits again inside the same microtask drain, one transaction per commit,
 *   before the runs woken by the next events get a turn. `setImmediate` lets every event of the loop
 *   turn add its commits first. Measured (docs/storage-sqlite.md): 2-3x the throughput with
 *   `synchronous=NORMAL` and about 20x with FULL for commits arriving from separate events, the same
 *   for commits issued in one tick, and no measurable cost for one lone chain of awaited commits.
 */

/**
 * Writes one group; returns, per item and in order, the error that rejected that item alone, or
 * undefined for an item that was committed. Throwing means nothing of the group was committed.
 */
export type GroupWriter<T> = (items: readonly T[]) => readonly (Error | undefined)[];

/** Runs `flush` later, at the boundary that closes a group. */
export type FlushScheduler = (flush: () => void) => void;

export const flushAtNextTurn: FlushScheduler = (flush) => {
  setImmediate(flush);
};

interface Waiting<T> {
  item: T;
  outcome: PromiseWithResolvers<void>;
}

export class GroupCommit<T> {
  readonly #write: GroupWriter<T>;
  readonly #schedule: FlushScheduler;
  #waiting: Waiting<T>[] = [];
  #scheduled = false;

  constructor(write: GroupWriter<T>, schedule: FlushScheduler = flushAtNextTurn) {
    this.#write = write;
    this.#schedule = schedule;
  }

  /**
   * Commits accepted and not yet written: what the next group will hold. `write` is synchronous, so
   * this is the work queued since the last flush (one event-loop turn's worth); it is deep only when
   * a turn produced a burst of commits or the loop is late to flush them.
   */
  get pending(): number {
    return this.#waiting.length;
  }

  /** Queues `item` for the current group; settles once that group was written. */
  submit(item: T): Promise<void> {
    const outcome = Promise.withResolvers<void>();
    this.#waiting.push({ item, outcome });
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => this.flush());
    }
    return outcome.promise;
  }

  /** Writes everything queued so far, now (also used by `close()` so accepted commits still land). */
  flush(): void {
    this.#scheduled = false;
    const group = this.#waiting;
    if (group.length === 0) return;
    this.#waiting = [];
    let failures: readonly (Error | undefined)[];
    try {
      failures = this.#write(group.map((waiting) => waiting.item));
    } catch (error) {
      for (const { outcome } of group) outcome.reject(error);
      return;
    }
    group.forEach(({ outcome }, index) => {
      const failure = failures[index];
      if (failure === undefined) outcome.resolve();
      else outcome.reject(failure);
    });
  }
}
