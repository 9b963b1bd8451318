/**
 * One run's signal waits: which steps wait for which signal name (oldest first), and the lock that
 * serializes deliveries with the inbox check of a new wait.
 *
 * Trap it avoids: a lost or reordered signal. Without the lock, a signal arriving while a new wait
 * reads the inbox could be stored after the read found nothing (lost until the next wait), or be
 * handed to the waiter ahead of an older inbox message.
 */
import type { JournalEntry, Mutation } from '../storage/storage.ts';

/** Hands a signal (or its timeout) to a waiting step; undefined when the step had already settled. */
export type Delivery = (entry: JournalEntry, mutations: Mutation[], durable: boolean) => Promise<void> | undefined;

export class SignalWaits {
  /**
   * Waits by signal name, oldest first. Created on the second name: most runs wait for one signal
   * at a time, and a map per run is most of what a suspended run costs to start.
   */
  #byName: Map<string, { seq: number; deliver: Delivery }[]> | undefined;
  #only: { name: string; waits: { seq: number; deliver: Delivery }[] } | undefined;
  #lock: Promise<unknown> | undefined;
  #holders = 0;
  /** False only while a run this engine created has certainly received no signal: skips an inbox read. */
  inboxMayHoldMessages = true;

  add(name: string, seq: number, deliver: Delivery): void {
    const wait = { seq, deliver };
    if (this.#byName === undefined) {
      if (this.#only === undefined || this.#only.waits.length === 0) {
        this.#only = { name, waits: [wait] };
        return;
      }
      if (this.#only.name === name) {
        this.#only.waits.push(wait);
        return;
      }
      this.#byName = new Map([[this.#only.name, this.#only.waits]]);
      this.#only = undefined;
    }
    let waits = this.#byName.get(name);
    if (waits === undefined) this.#byName.set(name, (waits = []));
    waits.push(wait);
  }

  remove(name: string, seq: number): void {
    const waits = this.#waitsFor(name);
    const index = waits?.findIndex((wait) => wait.seq === seq) ?? -1;
    if (waits !== undefined && index >= 0) waits.splice(index, 1);
  }

  /** The step that has waited longest for `name`. */
  oldest(name: string): { seq: number; deliver: Delivery } | undefined {
    return this.#waitsFor(name)?.[0];
  }

  clear(): void {
    this.#byName = undefined;
    this.#only = undefined;
  }

  /** True while a delivery or inbox check is queued or running. */
  get busy(): boolean {
    return this.#holders > 0;
  }

  /** Runs `fn` after every earlier locked operation of this run settled. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    this.#holders++;
    const run = (this.#lock ?? Promise.resolve()).then(fn, fn).finally(() => this.#holders--);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  #waitsFor(name: string): { seq: number; deliver: Delivery }[] | undefined {
    if (this.#byName !== undefined) return this.#byName.get(name);
    return this.#only?.name === name ? this.#only.waits : undefined;
  }
}
