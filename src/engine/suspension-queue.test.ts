import { describe, expect, test } from 'bun:test';
import { SuspensionQueue } from './suspension-queue.ts';

describe('SuspensionQueue', () => {
  test('takes items oldest suspension first', () => {
    const queue = new SuspensionQueue<string>();
    for (const item of ['a', 'b', 'c']) queue.add(item);
    expect([queue.takeOldest(), queue.takeOldest(), queue.takeOldest(), queue.takeOldest()]).toEqual([
      'a',
      'b',
      'c',
      undefined,
    ]);
    expect(queue.size).toBe(0);
  });

  test('a re-added item moves to the back and a removed one is never taken', () => {
    const queue = new SuspensionQueue<string>();
    for (const item of ['a', 'b', 'c']) queue.add(item);
    queue.add('a');
    queue.remove('b');
    expect(queue.size).toBe(2);
    expect([queue.takeOldest(), queue.takeOldest(), queue.takeOldest()]).toEqual(['c', 'a', undefined]);
  });

  test('stays correct across compaction with many items', () => {
    const queue = new SuspensionQueue<number>();
    for (let i = 0; i < 5000; i++) queue.add(i);
    for (let i = 0; i < 5000; i += 2) queue.remove(i);
    const taken: number[] = [];
    for (let item = queue.takeOldest(); item !== undefined; item = queue.takeOldest()) taken.push(item);
    expect(taken).toEqual(Array.from({ length: 2500 }, (_, i) => 2 * i + 1));
  });
});
