/**
 * The storage conformance suite: one set of tests every adapter must pass, so an adapter's own test
 * file is a few lines and "done" means the same thing for memory, SQLite and Postgres. This file is
 * the entry: it owns the options and the open/close bookkeeping, and registers one area of the
 * contract per file under `storage-conformance/` (runs, journal, timers, inbox, attributes, listing,
 * updates, event log, watch frames and chunks, commit, copies, close).
 *
 * Traps it avoids:
 * - Adapter-specific byte types. Postgres clients hand back `Buffer`s, others plain `Uint8Array`s;
 *   comparisons go through `plain()` so they check bytes, not classes.
 * - Silent gaps. The mutation and method tables are typed against the contract, so a new mutation
 *   or a new `Storage` method does not compile here until the suite covers it.
 * - Leaked handles. Every storage a test opens is closed after it, even when the test fails.
 */
import { afterEach, describe } from 'bun:test';
import type { Storage } from '../storage/storage.ts';
import { describeAttributes } from './storage-conformance/attributes.ts';
import { describeClose } from './storage-conformance/close.ts';
import { describeCommit } from './storage-conformance/commit.ts';
import { describeCopies } from './storage-conformance/copies.ts';
import { describeEventLog } from './storage-conformance/event-log.ts';
import type { ConformanceContext } from './storage-conformance/helpers.ts';
import { describeInbox } from './storage-conformance/inbox.ts';
import { describeJournal } from './storage-conformance/journal.ts';
import { describeListing } from './storage-conformance/listing.ts';
import { describeListingPages } from './storage-conformance/listing-pages.ts';
import { describeRuns } from './storage-conformance/runs.ts';
import { describeTimers } from './storage-conformance/timers.ts';
import { describeUpdates } from './storage-conformance/updates.ts';
import { describeWatchAndChunks } from './storage-conformance/watch-and-chunks.ts';

export interface StorageConformanceOptions {
  /** Shown in test titles, e.g. 'SQLiteStorage'. */
  name: string;
  /** Returns a fresh, empty storage; called once per test. */
  create: () => Storage | Promise<Storage>;
}

/**
 * Registers the conformance tests (with `bun:test`) for one storage adapter.
 *
 * @example
 * // sqlite-storage.test.ts
 * runStorageConformance({ name: 'SQLiteStorage', create: () => new SQLiteStorage(':memory:') });
 */
export function runStorageConformance(options: StorageConformanceOptions): void {
  describe(`${options.name} conforms to the Storage contract`, () => {
    const opened = new Set<Storage>();
    const context: ConformanceContext = {
      open: async () => {
        const storage = await options.create();
        opened.add(storage);
        return storage;
      },
    };
    afterEach(async () => {
      const toClose = [...opened];
      opened.clear();
      await Promise.all(toClose.map((storage) => storage.close()));
    });

    describeRuns(context);
    describeJournal(context);
    describeTimers(context);
    describeInbox(context);
    describeAttributes(context);
    describeListing(context);
    describeListingPages(context);
    describeUpdates(context);
    describeEventLog(context);
    describeWatchAndChunks(context);
    describeCommit(context);
    describeCopies(context);
    describeClose(context);
  });
}
