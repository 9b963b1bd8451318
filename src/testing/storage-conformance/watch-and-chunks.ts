/**
 * Conformance tests for a run's watch frames and stream chunks: both read back with every field
 * intact, per run, after a seq in ascending order (whatever order they were appended in) and at most
 * `limit`; a taken `(runId, seq)` is a `watch_seq` or `chunk_seq` conflict that applies nothing of
 * its commit, while the same seq in another run is fine; and `runTails` reports each kind's highest
 * seq independently, 0 where there is none.
 */
import { describe, expect, test } from 'bun:test';
import type { Storage } from '../../storage/storage.ts';
import { RunStatus, StorageConflictError } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeChunk, makeFrame, plain, rejectionOf } from './helpers.ts';

/** Registers the `watch frames and stream chunks` conformance tests; `open` gives each test a fresh storage. */
export function describeWatchAndChunks({ open }: ConformanceContext): void {
  const seqs = (records: { seq: number }[]): number[] => records.map((record) => record.seq);

  /** Frames and chunks 1, 2, 3 and 5 of r1 (appended out of order), and frame and chunk 1 and 2 of r2. */
  async function seeded(): Promise<Storage> {
    const storage = await open();
    await storage.commit([
      { op: 'appendWatch', frame: makeFrame('r1', 3) },
      { op: 'appendChunk', chunk: makeChunk('r1', 3, 3) },
      { op: 'appendWatch', frame: makeFrame('r2', 2) },
      { op: 'appendChunk', chunk: makeChunk('r2', 2, 22) },
    ]);
    await storage.commit([
      { op: 'appendWatch', frame: makeFrame('r1', 1) },
      { op: 'appendWatch', frame: makeFrame('r1', 5) },
      { op: 'appendWatch', frame: makeFrame('r1', 2) },
      { op: 'appendWatch', frame: makeFrame('r2', 1) },
      { op: 'appendChunk', chunk: makeChunk('r1', 5, 5) },
      { op: 'appendChunk', chunk: makeChunk('r1', 1, 1) },
      { op: 'appendChunk', chunk: makeChunk('r1', 2, 2) },
      { op: 'appendChunk', chunk: makeChunk('r2', 1, 21) },
    ]);
    return storage;
  }

  describe('watch frames', () => {
    test('watch frames read back with every field intact', async () => {
      const storage = await open();
      const first = makeFrame('r1', 1, {
        type: 'workflow:suspended',
        status: RunStatus.suspended,
        at: 42,
        data: new Uint8Array([0, 255]),
      });
      const second = makeFrame('r1', 2, { type: 'workflow:completed', status: RunStatus.completed, data: null });
      await storage.commit([
        { op: 'appendWatch', frame: first },
        { op: 'appendWatch', frame: second },
      ]);
      const frames = await storage.readWatch('r1', 0, 10);
      expect(frames[0]?.data).toBeInstanceOf(Uint8Array);
      expect(plain(frames)).toEqual(plain([first, second]));
    });

    test('readWatch returns the frames of the run after a seq, ascending, at most limit', async () => {
      const storage = await seeded();
      expect(seqs(await storage.readWatch('r1', 0, 100))).toEqual([1, 2, 3, 5]);
      expect(seqs(await storage.readWatch('r1', 2, 100))).toEqual([3, 5]);
      expect(seqs(await storage.readWatch('r1', 4, 100))).toEqual([5]);
      expect(seqs(await storage.readWatch('r1', 5, 100))).toEqual([]);
      expect(seqs(await storage.readWatch('r1', 0, 2))).toEqual([1, 2]);
      expect(seqs(await storage.readWatch('r1', 1, 2))).toEqual([2, 3]);
      expect(seqs(await storage.readWatch('r1', 0, 0))).toEqual([]);
      expect((await storage.readWatch('r2', 0, 100)).map((frame) => [frame.runId, frame.seq])).toEqual([
        ['r2', 1],
        ['r2', 2],
      ]);
      expect(await storage.readWatch('nope', 0, 100)).toEqual([]);
    });

    test('appending a taken (runId, seq) fails with a watch_seq conflict and applies nothing', async () => {
      const storage = await seeded();
      const error = await rejectionOf(
        storage.commit([
          { op: 'appendWatch', frame: makeFrame('r1', 6) },
          { op: 'appendChunk', chunk: makeChunk('r1', 6, 6) },
          { op: 'appendWatch', frame: makeFrame('r1', 3, { type: 'other' }) },
        ]),
      );
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'watch_seq' });
      expect(seqs(await storage.readWatch('r1', 0, 100))).toEqual([1, 2, 3, 5]);
      expect((await storage.readWatch('r1', 2, 1))[0]?.type).toBe('workflow:running');
      expect(await storage.runTails('r1')).toEqual({ watch: 5, chunk: 5 });
    });

    test('appending the same frame seq twice in one commit fails and stores neither', async () => {
      const storage = await open();
      const error = await rejectionOf(
        storage.commit([
          { op: 'appendWatch', frame: makeFrame('r1', 1) },
          { op: 'appendWatch', frame: makeFrame('r1', 1) },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'watch_seq' });
      expect(await storage.readWatch('r1', 0, 10)).toEqual([]);
      expect(await storage.runTails('r1')).toEqual({ watch: 0, chunk: 0 });
    });
  });

  describe('stream chunks', () => {
    test('stream chunks read back with every field intact', async () => {
      const storage = await open();
      const first = { runId: 'r1', seq: 1, data: new Uint8Array([0, 255]), at: 42 };
      const empty = { runId: 'r1', seq: 2, data: new Uint8Array(), at: 43 };
      await storage.commit([
        { op: 'appendChunk', chunk: first },
        { op: 'appendChunk', chunk: empty },
      ]);
      const chunks = await storage.readChunks('r1', 0, 10);
      expect(chunks[0]?.data).toBeInstanceOf(Uint8Array);
      expect(plain(chunks)).toEqual(plain([first, empty]));
    });

    test('readChunks returns the chunks of the run after a seq, ascending, at most limit', async () => {
      const storage = await seeded();
      expect(plain((await storage.readChunks('r1', 0, 100)).map((chunk) => chunk.data))).toEqual([[1], [2], [3], [5]]);
      expect(seqs(await storage.readChunks('r1', 2, 100))).toEqual([3, 5]);
      expect(seqs(await storage.readChunks('r1', 3, 1))).toEqual([5]);
      expect(seqs(await storage.readChunks('r1', 0, 3))).toEqual([1, 2, 3]);
      expect(seqs(await storage.readChunks('r1', 0, 0))).toEqual([]);
      expect(plain((await storage.readChunks('r2', 0, 100)).map((chunk) => chunk.data))).toEqual([[21], [22]]);
      expect(await storage.readChunks('nope', 0, 100)).toEqual([]);
    });

    test('appending a taken (runId, seq) fails with a chunk_seq conflict and applies nothing', async () => {
      const storage = await seeded();
      const error = await rejectionOf(
        storage.commit([
          { op: 'appendWatch', frame: makeFrame('r1', 6) },
          { op: 'appendChunk', chunk: makeChunk('r1', 6, 6) },
          { op: 'appendChunk', chunk: makeChunk('r1', 5, 99) },
        ]),
      );
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'chunk_seq' });
      expect(plain((await storage.readChunks('r1', 4, 100)).map((chunk) => chunk.data))).toEqual([[5]]);
      expect(await storage.runTails('r1')).toEqual({ watch: 5, chunk: 5 });
    });

    test('the same seq in different runs, or as a frame and a chunk, does not conflict', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'appendChunk', chunk: makeChunk('r1', 1, 1) },
        { op: 'appendChunk', chunk: makeChunk('r2', 1, 2) },
        { op: 'appendWatch', frame: makeFrame('r1', 1) },
        { op: 'appendWatch', frame: makeFrame('r2', 1) },
      ]);
      expect(await storage.readChunks('r2', 0, 10)).toHaveLength(1);
      expect(await storage.readWatch('r2', 0, 10)).toHaveLength(1);
    });
  });

  describe('runTails', () => {
    test('runTails is 0 for each kind a run has none of', async () => {
      const storage = await open();
      expect(await storage.runTails('nope')).toEqual({ watch: 0, chunk: 0 });
      await storage.commit([{ op: 'appendWatch', frame: makeFrame('r1', 4) }]);
      expect(await storage.runTails('r1')).toEqual({ watch: 4, chunk: 0 });
      await storage.commit([{ op: 'appendChunk', chunk: makeChunk('r2', 7, 1) }]);
      expect(await storage.runTails('r2')).toEqual({ watch: 0, chunk: 7 });
    });

    test('runTails is the highest seq of each kind, per run', async () => {
      const storage = await seeded();
      expect(await storage.runTails('r1')).toEqual({ watch: 5, chunk: 5 });
      expect(await storage.runTails('r2')).toEqual({ watch: 2, chunk: 2 });
      await storage.commit([
        { op: 'appendWatch', frame: makeFrame('r1', 4) },
        { op: 'appendChunk', chunk: makeChunk('r1', 9, 9) },
      ]);
      expect(await storage.runTails('r1')).toEqual({ watch: 5, chunk: 9 });
    });
  });
}
