/**
 * In-memory schedule of the durable timers this engine owns.
 *
 * The rows live in storage; this is the index that decides when to wake up. One clock timer
 * is armed for the earliest deadline, so 10,000 sleeping runs cost one `setTimeout`, not
 * 10,000. A fired entry stays known (`get`) until cancelled, because the run may still be
 * replaying toward the step that owns it and must find the original fire time, not a new one.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';

interface Entry {
  runId: string;
  key: string;
  fireAt: number;
  fired: boolean;
}

export type TimerCallback = (runId: string, key: string) => void;

export class TimerService {
  readonly #clock: Clock;
  readonly #onFire: TimerCallback;
  readonly #entries = new Map<string, Entry>();
  /** Min-heap by fireAt; stale entries (cancelled, rescheduled) are skipped when popped. */
  #heap: Entry[] = [];
  #armed: { at: number; handle: TimerHandle } | undefined;
  #stopped = false;

  constructor(clock: Clock, onFire: TimerCallback) {
    this.#clock = clock;
    this.#onFire = onFire;
  }

  get(runId: string, key: string): { fireAt: number } | undefined {
    return this.#entries.get(id(runId, key));
  }

  schedule(runId: string, key: string, fireAt: number): void {
    const entry: Entry = { runId, key, fireAt, fired: false };
    this.#entries.set(id(runId, key), entry);
    this.#push(entry);
    this.#arm();
  }

  cancel(runId: string, key: string): void {
    this.#entries.delete(id(runId, key));
  }

  cancelRun(runId: string, keys: Iterable<string>): void {
    for (const key of keys) this.#entries.delete(id(runId, key));
  }

  /** Number of timers not yet fired. */
  get size(): number {
    let n = 0;
    for (const entry of this.#entries.values()) if (!entry.fired) n++;
    return n;
  }

  stop(): void {
    this.#stopped = true;
    this.#armed?.handle.cancel();
    this.#armed = undefined;
  }

  #live(entry: Entry): boolean {
    return !entry.fired && this.#entries.get(id(entry.runId, entry.key)) === entry;
  }

  #arm(): void {
    if (this.#stopped) return;
    while (this.#heap.length > 0 && !this.#live(this.#heap[0]!)) this.#pop();
    const next = this.#heap[0];
    if (next === undefined) {
      this.#armed?.handle.cancel();
      this.#armed = undefined;
      return;
    }
    if (this.#armed !== undefined && this.#armed.at <= next.fireAt) return;
    this.#armed?.handle.cancel();
    const at = next.fireAt;
    this.#armed = { at, handle: this.#clock.setTimer(at - this.#clock.now(), () => this.#fireDue()) };
  }

  #fireDue(): void {
    this.#armed = undefined;
    if (this.#stopped) return;
    const now = this.#clock.now();
    const due: Entry[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.fireAt <= now) {
      const entry = this.#pop()!;
      if (this.#live(entry)) {
        entry.fired = true;
        due.push(entry);
      }
    }
    this.#arm();
    for (const entry of due) this.#onFire(entry.runId, entry.key);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.fireAt <= entry.fireAt) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.fireAt < heap[left]!.fireAt ? right : left;
      if (heap[child]!.fireAt >= last.fireAt) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function id(runId: string, key: string): string {
  return `${runId}\u0000${key}`;
}
