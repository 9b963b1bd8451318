import { describe, expect, test } from 'bun:test';
import { ManualClock } from '../testing/index.ts';
import { TimerService } from './timer-service.ts';

describe('TimerService', () => {
  test('fires timers in time order, once each', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const timers = new TimerService(clock, (runId, key) => fired.push(`${runId}/${key}`));
    timers.schedule('b', 't', clock.now() + 2000);
    timers.schedule('a', 't', clock.now() + 1000);
    timers.schedule('c', 't', clock.now() + 3000);
    timers.cancel('c', 't');
    await clock.advance('1h');
    expect(fired).toEqual(['a/t', 'b/t']);
    expect(timers.size).toBe(0);
  });

  test('cancelled timers behind an earlier live one do not pile up until their fire time', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const timers = new TimerService(clock, (runId, key) => fired.push(`${runId}/${key}`));
    // A long sleep due first pins the top of the schedule; 20,000 runs with a day's deadline end at once.
    timers.schedule('sleeper', 'sleep', clock.now() + 60_000);
    for (let i = 0; i < 20_000; i++) {
      timers.schedule(`run-${i}`, 'deadline', clock.now() + 86_400_000);
      if (i % 10 !== 0) timers.cancel(`run-${i}`, 'deadline');
    }
    // 2,001 live timers: the heap holds at most about twice that, not 20,001 slots.
    expect(timers.heapSize).toBeLessThanOrEqual(2 * 2001 + 1024 + 1);
    await clock.advance('1m');
    expect(fired).toEqual(['sleeper/sleep']);
    timers.cancel('sleeper', 'sleep');
    await clock.advance('1d');
    const expected = Array.from({ length: 2000 }, (_, i) => `run-${i * 10}/deadline`);
    expect(fired.slice(1).sort()).toEqual(expected.sort());
  });

  test('a timer rescheduled under the same key fires once, at its new time', async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const timers = new TimerService(clock, () => fired.push(clock.now()));
    const start = clock.now();
    timers.schedule('a', 't', start + 5000);
    timers.schedule('a', 't', start + 1000);
    await clock.advance('1m');
    expect(fired).toEqual([start + 1000]);
  });
});
