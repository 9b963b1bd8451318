import { describe, expect, test } from 'bun:test';
import { EventLoopLagProbe } from './event-loop-lag.ts';

/** A probe on a hand-driven clock and timer: `tickAt(t)` runs the timer's callback at time `t`. */
function manualProbe(intervalMs = 100) {
  let now = 0;
  let tick: (() => void) | undefined;
  let stops = 0;
  const probe = new EventLoopLagProbe({
    intervalMs,
    now: () => now,
    every: (callback, ms) => {
      expect(ms).toBe(intervalMs);
      tick = callback;
      return () => {
        stops += 1;
        tick = undefined;
      };
    },
  });
  const tickAt = (at: number): void => {
    now = at;
    if (tick === undefined) throw new Error('the probe is not sampling');
    tick();
  };
  return { probe, tickAt, stops: () => stops, sampling: () => tick !== undefined };
}

describe('EventLoopLagProbe', () => {
  test('reports no lag while the timer runs on time', () => {
    const { probe, tickAt } = manualProbe();
    probe.start();
    for (let i = 1; i <= 10; i++) tickAt(i * 100);
    expect(probe.lagMs).toBe(0);
  });

  test('one late tick moves the lag a third of the way, so a single pause is damped', () => {
    const { probe, tickAt } = manualProbe();
    probe.start();
    tickAt(100);
    tickAt(100 + 100 + 300); // ran 300 ms late
    expect(probe.lagMs).toBeCloseTo(100, 6);
    tickAt(600); // on time again: the lag decays
    expect(probe.lagMs).toBeCloseTo(200 / 3, 6);
  });

  test('a loop that stays late converges to its real lag', () => {
    const { probe, tickAt } = manualProbe();
    probe.start();
    let at = 0;
    for (let i = 0; i < 30; i++) tickAt((at += 100 + 250));
    expect(probe.lagMs).toBeCloseTo(250, 1);
  });

  test('a timer that fires early never reads as negative lag', () => {
    const { probe, tickAt } = manualProbe();
    probe.start();
    tickAt(40);
    expect(probe.lagMs).toBe(0);
  });

  test('stop ends sampling and keeps the last value; start again begins from zero', () => {
    const { probe, tickAt, stops, sampling } = manualProbe();
    probe.start();
    probe.start(); // idempotent: one timer
    tickAt(400);
    const lag = probe.lagMs;
    expect(lag).toBeGreaterThan(0);
    probe.stop();
    probe.stop();
    expect(stops()).toBe(1);
    expect(sampling()).toBe(false);
    expect(probe.lagMs).toBe(lag);
    probe.start();
    expect(probe.lagMs).toBe(0);
    tickAt(500);
    expect(probe.lagMs).toBe(0);
  });

  test('with the real timer, a blocked loop is measured', async () => {
    const probe = new EventLoopLagProbe({ intervalMs: 5 }).start();
    try {
      const blockedUntil = performance.now() + 60;
      while (performance.now() < blockedUntil) {
        // Busy: the probe's timer cannot run.
      }
      // Wait for samples by events, not by time: until one measured the block.
      while (probe.lagMs === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(probe.lagMs).toBeGreaterThan(0);
    } finally {
      probe.stop();
    }
  });
});
