import { describe, expect, test } from 'bun:test';
import { SignalWaits, type Delivery } from './signal-waits.ts';

const deliver: Delivery = () => undefined;

describe('SignalWaits', () => {
  test('keeps waits per name oldest first, across one and several names', () => {
    const waits = new SignalWaits();
    waits.add('a', 1, deliver);
    waits.add('a', 2, deliver);
    expect(waits.oldest('a')?.seq).toBe(1);
    expect(waits.oldest('b')).toBeUndefined();
    waits.add('b', 3, deliver);
    waits.add('a', 4, deliver);
    waits.remove('a', 1);
    expect(waits.oldest('a')?.seq).toBe(2);
    expect(waits.oldest('b')?.seq).toBe(3);
    waits.remove('a', 2);
    expect(waits.oldest('a')?.seq).toBe(4);
  });

  test('a name whose waits all ended can be replaced by another name', () => {
    const waits = new SignalWaits();
    waits.add('a', 1, deliver);
    waits.remove('a', 1);
    waits.add('b', 2, deliver);
    expect(waits.oldest('a')).toBeUndefined();
    expect(waits.oldest('b')?.seq).toBe(2);
    waits.clear();
    expect(waits.oldest('b')).toBeUndefined();
  });

  test('the lock runs operations one after another and reports when busy', async () => {
    const waits = new SignalWaits();
    const order: string[] = [];
    const gate = Promise.withResolvers<void>();
    const first = waits.withLock(async () => {
      await gate.promise;
      order.push('first');
    });
    const second = waits.withLock(async () => void order.push('second'));
    expect(waits.busy).toBe(true);
    gate.resolve();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(waits.busy).toBe(false);
  });
});
