/**
 * The resident suspended runs, oldest suspension first: the order in which they are evicted.
 *
 * An intrusive doubly linked list: each item holds its own node, so adding, moving to the back,
 * removing and taking the oldest are all O(1), with no Map lookup on the start path.
 *
 * Traps it avoids:
 * - A Map used as a queue: evicting from its front leaves deleted slots every later iteration
 *   walks again.
 * - Stale entries that outlive their item. The previous design (an array with a moving head and a
 *   ticket per entry) left the entry of a resumed or finished run in the array until eviction
 *   reached it — and eviction only runs above `maxSuspendedInMemory`, so below it every finished run
 *   that had ever suspended stayed reachable through its entry, with its executor, journal and steps
 *   (issue 20: ~1.5 KB per finished run, forever). Here `remove` unlinks the node at once: the
 *   queue references exactly the items queued now, and nothing else.
 */
export interface Queueable {
  /** Owned by the queue: the item's node while it is queued, undefined otherwise. */
  suspensionNode: object | undefined;
}

interface Node<T> {
  item: T;
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
}

export class SuspensionQueue<T extends Queueable> {
  #oldest: Node<T> | undefined;
  #newest: Node<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Queues `item` as the newest suspension (moving it to the back if it was queued). */
  add(item: T): void {
    this.remove(item);
    const node: Node<T> = { item, prev: this.#newest, next: undefined };
    if (this.#newest === undefined) this.#oldest = node;
    else this.#newest.next = node;
    this.#newest = node;
    item.suspensionNode = node;
    this.#size++;
  }

  /** Takes `item` out of the queue (a no-op when it is not queued). */
  remove(item: T): void {
    const node = item.suspensionNode as Node<T> | undefined;
    if (node === undefined) return;
    item.suspensionNode = undefined;
    if (node.prev === undefined) this.#oldest = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#newest = node.prev;
    else node.next.prev = node.prev;
    this.#size--;
  }

  /** Removes and returns the oldest queued item. */
  takeOldest(): T | undefined {
    const node = this.#oldest;
    if (node === undefined) return undefined;
    this.remove(node.item);
    return node.item;
  }
}
