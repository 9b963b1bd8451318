/**
 * A clock that only moves when told, for tests of durable timers: `advance('1h')` fires every
 * timer due in that hour, in order, without the test sleeping.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { parseDuration, type Duration } from '../core/duration.ts';

interface Pending {
  at: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * @example
 * const clock = new ManualClock();
 * const engine = await Engine.create({ storage, clock, workflows: [wf] });
 * await clock.advance('1d');
 */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  #pending: Pending[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const entry: Pending = { at: this.#now + Math.max(0, delayMs), order: this.#order++, callback, cancelled: false };
    this.#pending.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }

  /** Number of armed, uncancelled timers. */
  get pendingTimers(): number {
    return this.#pending.filter((p) => !p.cancelled).length;
  }

  /**
   * Moves time forward, firing due timers one by one in time order and letting the engine's
   * promise chains settle after each, so timers armed by a fired callback fire too if due.
   */
  async advance(duration: Duration): Promise<void> {
    const target = this.#now + parseDuration(duration);
    for (;;) {
      await settle();
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      this.#pending.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = this.#pending[0];
      if (next === undefined || next.at > target) break;
      this.#pending.shift();
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets pending promise callbacks and I/O of in-memory storage run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
