/**
 * Reading a durable log from a cursor and then following it live, as one async iterable: the
 * shape shared by the fleet event subscription, a run's watch and a run's token stream.
 *
 * Trap it avoids: gaps and duplicates at the seam between stored and live entries. The live
 * listener is attached before the first read, so nothing committed meanwhile is missed, and every
 * entry is delivered only if its seq is above the last one delivered, so nothing read from storage
 * is delivered again when it is also published live.
 */

export interface TailSource<T extends { seq: number }> {
  /** Stored entries with `seq > after`, ascending, at most `limit`. */
  read(after: number, limit: number): Promise<T[]>;
  /** Attaches a live listener (entries in seq order, after commit); returns the detach function. */
  listen(onEntry: (entry: T) => void, onEnd: () => void): () => void;
  /** True when the log will get no more entries (checked after the stored entries are drained). */
  ended?: (last: T | undefined) => boolean | Promise<boolean>;
}

const PAGE = 256;

/** Yields every entry with `seq > after`, stored then live, until the source ends or `signal` aborts. */
export async function* tailLog<T extends { seq: number }>(
  source: TailSource<T>,
  after: number,
  signal?: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  const queue: T[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const detach = source.listen(
    (entry) => {
      queue.push(entry);
      notify();
    },
    () => {
      ended = true;
      notify();
    },
  );
  const onAbort = (): void => notify();
  signal?.addEventListener('abort', onAbort, { once: true });
  let last = after;
  let lastEntry: T | undefined;
  /** Delivers stored entries after `last` until a short page; false when aborted. */
  async function* drainStored(): AsyncGenerator<T, boolean, undefined> {
    for (;;) {
      if (signal?.aborted) return false;
      const page = await source.read(last, PAGE);
      for (const entry of page) {
        if (entry.seq <= last) continue;
        last = entry.seq;
        lastEntry = entry;
        yield entry;
        if (signal?.aborted) return false;
      }
      if (page.length < PAGE) return true;
    }
  }
  try {
    if (!(yield* drainStored())) return;
    if (source.ended !== undefined && (await source.ended(lastEntry))) {
      // Ended means everything is committed: whatever the first pass missed is stored by now.
      yield* drainStored();
      return;
    }
    for (;;) {
      while (queue.length > 0) {
        const entry = queue.shift()!;
        if (entry.seq <= last) continue;
        last = entry.seq;
        yield entry;
        if (signal?.aborted) return;
      }
      if (ended || signal?.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    detach();
    signal?.removeEventListener('abort', onAbort);
  }
}
