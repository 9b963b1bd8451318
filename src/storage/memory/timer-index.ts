/**
 * Durable timers for the memory adapter, indexed by run and key (for upserts and the `deleteRun`
 * cascade) and kept in one array sorted as `listTimers` returns them.
 *
 * Traps it avoids:
 * - Sorting on the hot path. The scheduler asks for due timers constantly; the sorted array makes
 *   that a binary search and a slice, paid for once per insert.
 * - Locale-dependent order. Ties on `fireAt` break on binary order of run id, then key.
 * - Half-applied commits. Every change returns its undo, for the adapter's undo log.
 */
import type { TimerRecord } from '../storage.ts';
import { compareStrings, firstIndex } from './ordering.ts';

type Undo = () => void;

function compareTimers(a: TimerRecord, b: TimerRecord): number {
  return a.fireAt - b.fireAt || compareStrings(a.runId, b.runId) || compareStrings(a.key, b.key);
}

export class TimerIndex {
  /** runId → key → timer; `#order` holds the same objects sorted by `compareTimers`. */
  readonly #byRun = new Map<string, Map<string, TimerRecord>>();
  readonly #order: TimerRecord[] = [];

  /** The stored timers due by `dueBy` (all when unset), earliest first, at most `limit`; the caller copies them out. */
  due(dueBy: number | undefined, limit: number | undefined): readonly TimerRecord[] {
    let end = dueBy === undefined ? this.#order.length : firstIndex(this.#order, (t) => t.fireAt > dueBy);
    if (limit !== undefined) end = Math.min(end, Math.max(0, Math.floor(limit)));
    return this.#order.slice(0, end);
  }

  /** The run's stored timers in `listTimers` order; the caller copies them out. */
  ofRun(runId: string): TimerRecord[] {
    return [...(this.#byRun.get(runId)?.values() ?? [])].sort(compareTimers);
  }

  /** Inserts `timer` (the caller's copy becomes the stored object) or replaces the one with its `(runId, key)`. */
  put(timer: TimerRecord): Undo {
    const previous = this.#byRun.get(timer.runId)?.get(timer.key);
    if (previous) this.#remove(previous);
    this.#insert(timer);
    return () => {
      this.#remove(timer);
      if (previous) this.#insert(previous);
    };
  }

  delete(runId: string, key: string): Undo {
    const previous = this.#byRun.get(runId)?.get(key);
    if (!previous) return () => {};
    this.#remove(previous);
    return () => this.#insert(previous);
  }

  removeRun(runId: string): Undo {
    const removed = [...(this.#byRun.get(runId)?.values() ?? [])];
    for (const timer of removed) this.#remove(timer);
    return () => removed.forEach((timer) => this.#insert(timer));
  }

  clear(): void {
    this.#byRun.clear();
    this.#order.length = 0;
  }

  #insert(timer: TimerRecord): void {
    let byKey = this.#byRun.get(timer.runId);
    if (!byKey) this.#byRun.set(timer.runId, (byKey = new Map<string, TimerRecord>()));
    byKey.set(timer.key, timer);
    this.#order.splice(
      firstIndex(this.#order, (t) => compareTimers(t, timer) > 0),
      0,
      timer,
    );
  }

  /** `timer` must be the stored object, so its sort position is exact. */
  #remove(timer: TimerRecord): void {
    const byKey = this.#byRun.get(timer.runId);
    byKey?.delete(timer.key);
    if (byKey?.size === 0) this.#byRun.delete(timer.runId);
    const index = firstIndex(this.#order, (t) => compareTimers(t, timer) >= 0);
    if (this.#order[index] === timer) this.#order.splice(index, 1);
  }
}
