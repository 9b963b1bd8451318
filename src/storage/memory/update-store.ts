/**
 * Updates sent to runs, indexed by id, by run and idempotency key, by run alone (for the
 * `deleteRun` cascade) and by pending status (for `listPendingUpdates`).
 *
 * Traps it avoids:
 * - Stale index entries. Replacing an update removes the old version from every index first, so a
 *   changed key or a finished update leaves nothing behind.
 * - An update conflicting with itself. Replacing an update that keeps its idempotency key is not a
 *   conflict; only another update of the same run holding the key is.
 * - Half-applied commits. Every change returns its undo, for the adapter's undo log.
 */
import type { UpdateRecord } from '../storage.ts';
import { StorageConflict, StorageConflictError, UpdateStatus } from '../storage.ts';
import { compareStrings } from './ordering.ts';

type Undo = () => void;

export class UpdateStore {
  readonly #byId = new Map<string, UpdateRecord>();
  /** runId → idempotency key → update id. */
  readonly #idByKey = new Map<string, Map<string, string>>();
  /** runId → update ids. */
  readonly #idsByRun = new Map<string, Set<string>>();
  readonly #pendingIds = new Set<string>();

  /** The stored record; the caller copies it out. */
  get(id: string): UpdateRecord | undefined {
    return this.#byId.get(id);
  }

  findByKey(runId: string, key: string): UpdateRecord | undefined {
    const id = this.#idByKey.get(runId)?.get(key);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  /** Pending updates of all runs, oldest first (by `createdAt`, then `id`); the caller copies them out. */
  pending(): UpdateRecord[] {
    const found = [...this.#pendingIds].flatMap((id) => this.#byId.get(id) ?? []);
    return found.sort((a, b) => a.createdAt - b.createdAt || compareStrings(a.id, b.id));
  }

  /** Inserts `update` (the caller's copy becomes the stored object) or replaces the one with its id. */
  put(update: UpdateRecord): Undo {
    const holder =
      update.idempotencyKey === null ? undefined : this.#idByKey.get(update.runId)?.get(update.idempotencyKey);
    if (holder !== undefined && holder !== update.id) {
      throw new StorageConflictError(
        StorageConflict.updateKey,
        `Idempotency key '${update.idempotencyKey}' of run '${update.runId}' is already used by update '${holder}'`,
      );
    }
    const previous = this.#byId.get(update.id);
    if (previous) this.#remove(previous);
    this.#insert(update);
    return () => {
      this.#remove(update);
      if (previous) this.#insert(previous);
    };
  }

  removeRun(runId: string): Undo {
    const removed = [...(this.#idsByRun.get(runId) ?? [])].flatMap((id) => this.#byId.get(id) ?? []);
    for (const update of removed) this.#remove(update);
    return () => removed.forEach((update) => this.#insert(update));
  }

  clear(): void {
    this.#byId.clear();
    this.#idByKey.clear();
    this.#idsByRun.clear();
    this.#pendingIds.clear();
  }

  #insert(update: UpdateRecord): void {
    this.#byId.set(update.id, update);
    if (update.idempotencyKey !== null) {
      let byKey = this.#idByKey.get(update.runId);
      if (!byKey) this.#idByKey.set(update.runId, (byKey = new Map<string, string>()));
      byKey.set(update.idempotencyKey, update.id);
    }
    let ids = this.#idsByRun.get(update.runId);
    if (!ids) this.#idsByRun.set(update.runId, (ids = new Set<string>()));
    ids.add(update.id);
    if (update.status === UpdateStatus.pending) this.#pendingIds.add(update.id);
  }

  /** `update` must be the stored version, so its index entries are exactly the ones to drop. */
  #remove(update: UpdateRecord): void {
    this.#byId.delete(update.id);
    if (update.idempotencyKey !== null) {
      const byKey = this.#idByKey.get(update.runId);
      byKey?.delete(update.idempotencyKey);
      if (byKey?.size === 0) this.#idByKey.delete(update.runId);
    }
    const ids = this.#idsByRun.get(update.runId);
    ids?.delete(update.id);
    if (ids?.size === 0) this.#idsByRun.delete(update.runId);
    this.#pendingIds.delete(update.id);
  }
}
