/**
 * The resident suspended runs, oldest suspension first: the order in which they are evicted.
 *
 * Traps it avoids: a Map used as a queue (evicting from its front leaves deleted slots every
 * later iteration walks again) and a Map lookup per suspension on the start path. The front is an
 * index into an array; each item carries its own ticket, so an entry made stale by a resume or a
 * newer suspension is recognised in O(1) and skipped once.
 */
export interface Queueable {
  /** Owned by the queue: the ticket of the item's current entry, or -1 when not queued. */
  suspensionTicket: number;
}

export class SuspensionQueue<T extends Queueable> {
  #entries: { item: T; ticket: number }[] = [];
  #head = 0;
  #nextTicket = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Queues `item` as the newest suspension (moving it to the back if it was queued). */
  add(item: T): void {
    if (item.suspensionTicket === -1) this.#size++;
    const ticket = this.#nextTicket++;
    item.suspensionTicket = ticket;
    this.#entries.push({ item, ticket });
  }

  remove(item: T): void {
    if (item.suspensionTicket === -1) return;
    item.suspensionTicket = -1;
    this.#size--;
  }

  /** Removes and returns the oldest queued item. */
  takeOldest(): T | undefined {
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head++]!;
      if (entry.item.suspensionTicket !== entry.ticket) continue;
      this.remove(entry.item);
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
