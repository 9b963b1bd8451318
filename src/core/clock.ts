/**
 * The engine's only source of time. `Date.now` and raw `setTimeout` stay out of the engine so
 * tests can drive days of durable timers with a manual clock and no real sleeps.
 */

/** Returned by `Clock.setTimer`; `cancel()` stops a timer that has not fired yet. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * The time source the engine reads and arms durable timers on. Pass one to drive time in tests.
 *
 * @example
 * const clock = new ManualClock(); // from '@lostgradient/weft/testing'
 * const engine = await Engine.create({ storage: new MemoryStorage(), clock, workflows: [reminder] });
 * await clock.advance('1d'); // fires every timer due within the day
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now (clamped to >= 0). */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}

/** Wall-clock time and real timers. Long delays are chained so they never overflow setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    const MAX_TIMEOUT = 2_147_483_647;
    let handle: ReturnType<typeof setTimeout>;
    const deadline = Date.now() + Math.max(0, delayMs);
    const arm = (): void => {
      const remaining = deadline - Date.now();
      handle = setTimeout(remaining > MAX_TIMEOUT ? arm : callback, Math.min(Math.max(0, remaining), MAX_TIMEOUT));
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  },
};
