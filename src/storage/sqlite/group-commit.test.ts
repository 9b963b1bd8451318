/** Group commit's promises: who shares a group, and when and how each caller learns its outcome. */
import { describe, expect, test } from 'bun:test';
import { GroupCommit } from './group-commit.ts';

describe('GroupCommit', () => {
  test('items submitted in one turn of the event loop are written as one group, in order', async () => {
    const groups: number[][] = [];
    const group = new GroupCommit<number>((items) => {
      groups.push([...items]);
      return items.map(() => undefined);
    });
    await Promise.all([group.submit(1), group.submit(2), group.submit(3)]);
    await group.submit(4);
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  test('pending counts the items waiting for the next group and drops to zero once it is written', async () => {
    let flush: (() => void) | undefined;
    const group = new GroupCommit<number>(
      (items) => items.map(() => undefined),
      (next) => (flush = next),
    );
    expect(group.pending).toBe(0);
    const written = Promise.all([group.submit(1), group.submit(2), group.submit(3)]);
    expect(group.pending).toBe(3);
    flush!();
    expect(group.pending).toBe(0);
    await written;
  });

  test('no promise settles before the writer returned for the whole group', async () => {
    let written = false;
    const group = new GroupCommit<number>((items) => {
      written = true;
      return items.map(() => undefined);
    });
    const seen = await Promise.all([1, 2].map((n) => group.submit(n).then(() => written)));
    expect(seen).toEqual([true, true]);
  });

  test("each caller gets its own item's failure and the others succeed", async () => {
    const group = new GroupCommit<number>((items) => items.map((n) => (n === 2 ? new Error('two') : undefined)));
    const outcomes = await Promise.allSettled([group.submit(1), group.submit(2), group.submit(3)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  test('a writer that throws rejects every caller of the group with that error', async () => {
    const failure = new Error('disk full');
    const group = new GroupCommit<number>(() => {
      throw failure;
    });
    const outcomes = await Promise.allSettled([group.submit(1), group.submit(2)]);
    expect(outcomes).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
  });

  test('flush writes what is queued at once, and the scheduled flush then finds nothing to do', async () => {
    const groups: number[][] = [];
    const group = new GroupCommit<number>((items) => {
      groups.push([...items]);
      return items.map(() => undefined);
    });
    const pending = group.submit(1);
    group.flush();
    expect(groups).toEqual([[1]]);
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    expect(groups).toEqual([[1]]);
  });
});
