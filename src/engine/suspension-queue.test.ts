import { describe, expect, test } from 'bun:test';
import { SuspensionQueue, type Queueable } from './suspension-queue.ts';

const items = new Map<string | number, Queueable & { name: string | number }>();
function item(name: string | number): Queueable & { name: string | number } {
  let found = items.get(name);
  if (found === undefined) items.set(name, (found = { name, suspensionNode: undefined }));
  return found;
}
const names = (taken: ({ name: string | number } | undefined)[]) => taken.map((t) => t?.name);

describe('SuspensionQueue', () => {
  test('takes items oldest suspension first', () => {
    items.clear();
    const queue = new SuspensionQueue<ReturnType<typeof item>>();
    for (const name of ['a', 'b', 'c']) queue.add(item(name));
    const taken = [queue.takeOldest(), queue.takeOldest(), queue.takeOldest(), queue.takeOldest()];
    expect(names(taken)).toEqual(['a', 'b', 'c', undefined]);
    expect(queue.size).toBe(0);
  });

  test('a re-added item moves to the back and a removed one is never taken', () => {
    items.clear();
    const queue = new SuspensionQueue<ReturnType<typeof item>>();
    for (const name of ['a', 'b', 'c']) queue.add(item(name));
    queue.add(item('a'));
    queue.remove(item('b'));
    expect(queue.size).toBe(2);
    expect(names([queue.takeOldest(), queue.takeOldest(), queue.takeOldest()])).toEqual(['c', 'a', undefined]);
  });

  test('stays correct across compaction with many items', () => {
    items.clear();
    const queue = new SuspensionQueue<ReturnType<typeof item>>();
    for (let i = 0; i < 5000; i++) queue.add(item(i));
    for (let i = 0; i < 5000; i += 2) queue.remove(item(i));
    const taken: (string | number)[] = [];
    for (let next = queue.takeOldest(); next !== undefined; next = queue.takeOldest()) taken.push(next.name);
    expect(taken).toEqual(Array.from({ length: 2500 }, (_, i) => 2 * i + 1));
  });
});
