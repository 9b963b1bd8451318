/**
 * Event-loop lag by timer drift: an interval asks to run every `intervalMs`, and how much later than
 * that it actually runs is time the loop spent on something else (a long synchronous read, a burst
 * of commits, a GC pause, or simply more work than one thread can do). The probe smooths the
 * samples and reports the result in `lagMs`.
 *
 * Traps it avoids:
 * - A probe that keeps the process alive. The interval is unref'd: a server that was stopped (or
 *   never stopped) does not hold the process open because of it.
 * - Shedding on one GC pause. Each sample moves the reported lag a third of the way towards it
 *   (an exponentially weighted average, as toobusy-js does), so a single 300 ms pause reads as
 *   100 ms, while a loop that stays late converges to its real lag within a few samples.
 * - Costing what it measures. One timer callback every 100 ms and a subtraction: nothing per
 *   request. `performance.now()` is monotonic, so a wall-clock step cannot fake (or hide) lag.
 * - Sleeping tests. The clock and the timer are injected, so a test drives samples by hand.
 */

/**
 * How often the probe samples, in ms, unless told otherwise.
 *
 * @example
 * const probe = new EventLoopLagProbe({ intervalMs: LAG_SAMPLE_INTERVAL_MS / 2 });
 */
export const LAG_SAMPLE_INTERVAL_MS = 100;

/** How far each sample moves the reported lag towards itself (1 would report the last sample as is). */
const SMOOTHING = 1 / 3;

/** Calls `tick` every `intervalMs` until the returned function is called. */
export type RepeatingTimer = (tick: () => void, intervalMs: number) => () => void;

/**
 * Options of `new EventLoopLagProbe(options)`; the defaults are the real clock and an unref'd
 * `setInterval`.
 *
 * @example
 * let now = 0;
 * let tick = () => {};
 * const probe = new EventLoopLagProbe({ now: () => now, every: (fn) => ((tick = fn), () => {}) });
 */
export interface EventLoopLagProbeOptions {
  /** Sampling period in ms. Default 100. */
  intervalMs?: number;
  /** A monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
  /** The repeating timer. Default an unref'd `setInterval`. */
  every?: RepeatingTimer;
}

/**
 * Measures how late the event loop runs timers. `start()` begins sampling, `stop()` ends it;
 * `lagMs` is the smoothed lag (0 until the loop is late).
 *
 * @example
 * const probe = new EventLoopLagProbe().start();
 * if (probe.lagMs > 200) console.warn('the event loop is behind');
 * probe.stop();
 */
export class EventLoopLagProbe {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #every: RepeatingTimer;
  #stop: (() => void) | undefined;
  #last = 0;
  #lagMs = 0;

  constructor(options: EventLoopLagProbeOptions = {}) {
    this.#intervalMs = options.intervalMs ?? LAG_SAMPLE_INTERVAL_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#every = options.every ?? unrefInterval;
  }

  /** The smoothed event-loop lag in ms. */
  get lagMs(): number {
    return this.#lagMs;
  }

  /** Starts sampling (again from a lag of 0 if it was stopped); idempotent. */
  start(): this {
    if (this.#stop !== undefined) return this;
    this.#last = this.#now();
    this.#lagMs = 0;
    this.#stop = this.#every(this.#sample, this.#intervalMs);
    return this;
  }

  /** Stops sampling; `lagMs` keeps its last value. Idempotent. */
  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  readonly #sample = (): void => {
    const now = this.#now();
    const drift = Math.max(0, now - this.#last - this.#intervalMs);
    this.#last = now;
    this.#lagMs += (drift - this.#lagMs) * SMOOTHING;
  };
}

const unrefInterval: RepeatingTimer = (tick, intervalMs) => {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};
