/**
 * The signal inbox of every run for the memory adapter: messages by id, and per run and signal name
 * a queue of ids, oldest first, so `peekSignal` is a lookup.
 *
 * Traps it avoids:
 * - Reused ids. Ids only increase; a rolled-back enqueue winds the counter back only as far as
 *   where its commit found it, so no id handed out by a resolved commit is ever handed out again.
 * - Consuming twice. A message that is gone is a `signal_missing` conflict, not a silent no-op.
 * - Half-applied commits. Every change returns its undo, for the adapter's undo log.
 */
import type { InboxMessage } from '../storage.ts';
import { StorageConflict, StorageConflictError } from '../storage.ts';
import { compareStrings, firstIndex } from './ordering.ts';

type Undo = () => void;

export class Inbox {
  readonly #messages = new Map<number, InboxMessage>();
  /** runId → signal name → message ids, ascending, so the oldest is first. */
  readonly #queues = new Map<string, Map<string, number[]>>();
  #nextId = 1;

  /** The oldest stored message named `name` in the run's inbox; the caller copies it out. */
  peek(runId: string, name: string): InboxMessage | undefined {
    const oldest = this.#queues.get(runId)?.get(name)?.[0];
    return oldest === undefined ? undefined : this.#messages.get(oldest);
  }

  /** Ids of the runs with at least one message, in binary order. */
  signalledRunIds(): string[] {
    // Empty queues and runs are dropped as they empty, so every run left has a message.
    return [...this.#queues.keys()].sort(compareStrings);
  }

  /** Stores `message` (the caller's copy, payload included) under the next id. */
  enqueue(message: Omit<InboxMessage, 'id'>): Undo {
    const stored: InboxMessage = { id: this.#nextId++, ...message };
    this.#insert(stored);
    return () => {
      this.#remove(stored);
      // Undo runs newest-first, so this winds the counter back to where the commit found it.
      this.#nextId = stored.id;
    };
  }

  consume(id: number): Undo {
    const message = this.#messages.get(id);
    if (!message) {
      throw new StorageConflictError(StorageConflict.signalMissing, `Inbox message ${id} is gone (already consumed?)`);
    }
    this.#remove(message);
    return () => this.#insert(message);
  }

  removeRun(runId: string): Undo {
    const removed = [...(this.#queues.get(runId)?.values() ?? [])].flatMap((ids) =>
      ids.flatMap((id) => this.#messages.get(id) ?? []),
    );
    for (const message of removed) this.#remove(message);
    return () => removed.forEach((message) => this.#insert(message));
  }

  clear(): void {
    this.#messages.clear();
    this.#queues.clear();
  }

  #insert(message: InboxMessage): void {
    this.#messages.set(message.id, message);
    let byName = this.#queues.get(message.runId);
    if (!byName) this.#queues.set(message.runId, (byName = new Map<string, number[]>()));
    let ids = byName.get(message.name);
    if (!ids) byName.set(message.name, (ids = []));
    // New messages have the highest id and go last; only an undo puts one back in the middle.
    ids.splice(
      firstIndex(ids, (id) => id > message.id),
      0,
      message.id,
    );
  }

  #remove(message: InboxMessage): void {
    this.#messages.delete(message.id);
    const byName = this.#queues.get(message.runId);
    const ids = byName?.get(message.name);
    if (!byName || !ids) return;
    const index = firstIndex(ids, (id) => id >= message.id);
    if (ids[index] === message.id) ids.splice(index, 1);
    if (ids.length === 0) byName.delete(message.name);
    if (byName.size === 0) this.#queues.delete(message.runId);
  }
}
