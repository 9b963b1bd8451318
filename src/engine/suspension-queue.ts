/**
 * The resident suspended runs, oldest suspension first: the order in which they are evicted.
 *
 * Trap it avoids: a Map used as a queue. Evicting from the front of a Map leaves deleted slots
 * that every later iteration walks over again; here the front is an index into an array, and an
 * entry made stale by a resume or a newer suspension is recognised by its ticket and skipped once.
 */
export class SuspensionQueue<T> {
  /** Current ticket of every queued item; absent once it resumed or was taken. */
  readonly #tickets = new Map<T, number>();
  #entries: { item: T; ticket: number }[] = [];
  #head = 0;
  #nextTicket = 0;

  get size(): number {
    return this.#tickets.size;
  }

  /** Queues `item` as the newest suspension (moving it to the back if it was queued). */
  add(item: T): void {
    const ticket = this.#nextTicket++;
    this.#tickets.set(item, ticket);
    this.#entries.push({ item, ticket });
  }

  remove(item: T): void {
    this.#tickets.delete(item);
  }

  /** Removes and returns the oldest queued item. */
  takeOldest(): T | undefined {
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head++]!;
      if (this.#tickets.get(entry.item) !== entry.ticket) continue;
      this.#tickets.delete(entry.item);
      this.#compact();
      return entry.item;
    }
    this.#compact();
    return undefined;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
