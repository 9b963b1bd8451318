/**
 * In-memory schedule of the durable timers this engine owns.
 *
 * The rows live in storage; this is the index that decides when to wake up. One clock timer
 * is armed for the earliest deadline, so 10,000 sleeping runs cost one `setTimeout`, not
 * 10,000. A fired entry stays known (`get`) until cancelled, because the run may still be
 * replaying toward the step that owns it and must find the original fire time, not a new one.
 *
 * Trap it avoids: a cancelled timer kept until its fire time. Cancelling only forgets the entry; its
 * slot in the heap goes when it reaches the top. A run that ends long before its deadline (an
 * `executionTimeout` of a day, a signal wait with a week's timeout) leaves such a slot, and while an
 * earlier live timer sits at the top none of them is popped — at a thousand runs a second, millions
 * of dead slots, each holding its run id (issue 20). Once dead slots outnumber live entries (plus a
 * small floor), the heap is rebuilt from the live ones: O(n) every n cancellations, so O(1) each, and
 * the heap never holds more than about twice the live timers.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';

interface Entry {
  runId: string;
  key: string;
  fireAt: number;
  fired: boolean;
}

export type TimerCallback = (runId: string, key: string) => void;

/** Dead heap slots tolerated before a rebuild regardless of size, so small heaps are never rebuilt. */
const MIN_DEAD_SLOTS = 1024;

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
    const replaced = this.#entries.has(id(runId, key));
    this.#entries.set(id(runId, key), entry);
    if (replaced) this.#collectDeadSlots();
    this.#push(entry);
    this.#arm();
  }

  cancel(runId: string, key: string): void {
    this.#entries.delete(id(runId, key));
    this.#collectDeadSlots();
  }

  cancelRun(runId: string, keys: Iterable<string>): void {
    for (const key of keys) this.#entries.delete(id(runId, key));
    this.#collectDeadSlots();
  }

  /** Heap slots, live or dead (for tests: the bound on dead slots). */
  get heapSize(): number {
    return this.#heap.length;
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

  /** Rebuilds the heap from its live entries once dead slots outnumber them (see the header). */
  #collectDeadSlots(): void {
    const heap = this.#heap;
    if (heap.length - this.#entries.size <= this.#entries.size + MIN_DEAD_SLOTS) return;
    // An array sorted by fire time is a valid min-heap.
    this.#heap = heap.filter((entry) => this.#live(entry)).sort((a, b) => a.fireAt - b.fireAt);
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
