/**
 * Logs of records keyed by a unique numeric `seq`, kept sorted: the fleet event log is one
 * `SeqLog`, and each run's watch frames and stream chunks are one `RunSeqLogs` each.
 *
 * Traps it avoids:
 * - Scans on the readers' hot path. Watchers and event consumers poll "after my last seq"; that is a
 *   binary search and a slice here, not a pass over everything stored.
 * - Out-of-order appends. An insert lands at its sorted place, so reads stay ascending whatever
 *   order the records arrived in.
 * - Half-applied commits. Every change returns its undo, for the adapter's undo log.
 */
import type { StorageConflict } from '../storage.ts';
import { StorageConflictError } from '../storage.ts';
import { firstIndex } from './ordering.ts';

type Undo = () => void;

/** Records sorted by `seq`, which is unique; a taken seq is the `conflict` given at construction. */
export class SeqLog<T extends { seq: number }> {
  #items: T[] = [];
  readonly #conflict: StorageConflict;
  readonly #label: string;

  /** `label` names the log in conflict messages, e.g. "Fleet event" or "Run 'r1' watch frame". */
  constructor(conflict: StorageConflict, label: string) {
    this.#conflict = conflict;
    this.#label = label;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Stores `item` (the caller's copy becomes the stored object); throws before changing anything on a taken seq. */
  insert(item: T): Undo {
    const index = this.#indexOf(item.seq);
    if (this.#items[index]?.seq === item.seq) {
      throw new StorageConflictError(this.#conflict, `${this.#label} seq ${item.seq} is taken`);
    }
    this.#items.splice(index, 0, item);
    return () => {
      const at = this.#indexOf(item.seq);
      if (this.#items[at] === item) this.#items.splice(at, 1);
    };
  }

  /** The stored records with `seq > afterSeq`, ascending, at most `limit`; the caller copies them out. */
  after(afterSeq: number, limit: number): readonly T[] {
    const start = firstIndex(this.#items, (item) => item.seq > afterSeq);
    return this.#items.slice(start, start + Math.max(0, Math.floor(limit)));
  }

  /** The highest seq stored, 0 when empty. */
  last(): number {
    return this.#items.at(-1)?.seq ?? 0;
  }

  /** Removes every record with `seq <= throughSeq`. */
  removeThrough(throughSeq: number): Undo {
    const removed = this.#items.splice(
      0,
      firstIndex(this.#items, (item) => item.seq > throughSeq),
    );
    // Undo runs newest-first, so at this point the log holds exactly what the removal left.
    return () => {
      this.#items = removed.concat(this.#items);
    };
  }

  clear(): void {
    this.#items = [];
  }

  #indexOf(seq: number): number {
    return firstIndex(this.#items, (item) => item.seq >= seq);
  }
}

/** One `SeqLog` per run, created on the first append and dropped when the run's last record goes. */
export class RunSeqLogs<T extends { runId: string; seq: number }> {
  readonly #logs = new Map<string, SeqLog<T>>();
  readonly #conflict: StorageConflict;
  readonly #label: string;

  /** `label` names a record in conflict messages, e.g. "watch frame". */
  constructor(conflict: StorageConflict, label: string) {
    this.#conflict = conflict;
    this.#label = label;
  }

  /** Stores `item` in its run's log; throws before changing anything when `(runId, seq)` is taken. */
  insert(item: T): Undo {
    const existing = this.#logs.get(item.runId);
    const log = existing ?? new SeqLog<T>(this.#conflict, `Run '${item.runId}' ${this.#label}`);
    const undo = log.insert(item);
    if (!existing) this.#logs.set(item.runId, log);
    return () => {
      undo();
      this.#dropIfEmpty(item.runId, log);
    };
  }

  after(runId: string, afterSeq: number, limit: number): readonly T[] {
    return this.#logs.get(runId)?.after(afterSeq, limit) ?? [];
  }

  last(runId: string): number {
    return this.#logs.get(runId)?.last() ?? 0;
  }

  removeRun(runId: string): Undo {
    const log = this.#logs.get(runId);
    if (!log) return () => {};
    this.#logs.delete(runId);
    return () => this.#logs.set(runId, log);
  }

  clear(): void {
    this.#logs.clear();
  }

  #dropIfEmpty(runId: string, log: SeqLog<T>): void {
    if (log.size === 0 && this.#logs.get(runId) === log) this.#logs.delete(runId);
  }
}
