/**
 * Reading a durable log from a cursor and then following it live, as one async iterable: the
 * shape shared by the fleet event subscription, a run's watch and a run's token stream.
 *
 * Trap it avoids: gaps and duplicates at the seam between stored and live entries. The live
 * listener is attached before the first read, so nothing committed meanwhile is missed, and every
 * entry is delivered only if its seq is above the last one delivered, so nothing read from storage
 * is delivered again when it is also published live.
 *
 * Trap it avoids too: a slow reader's backlog growing without bound. Live entries queue until the
 * reader takes them; a reader that stops reading (a stalled WebSocket, a consumer that awaits
 * something else) while a busy engine publishes would hold every entry since. Past
 * `MAX_LIVE_BACKLOG` queued entries, or `MAX_LIVE_BACKLOG_BYTES` of them by the source's `weigh`
 * (1,024 token chunks of 2 MiB each would be 2 GiB), the queue is dropped and the reader catches up
 * from storage instead — every published entry is committed, so nothing is lost that the log still
 * holds (fleet events older than `eventRetention` may be pruned by then, as for any reader that far
 * behind). A paused reader so holds at most that much, however long it pauses.
 */

export interface TailSource<T extends { seq: number }> {
  /** Stored entries with `seq > after`, ascending, at most `limit`. */
  read(after: number, limit: number): Promise<T[]>;
  /** Attaches a live listener (entries in seq order, after commit); returns the detach function. */
  listen(onEntry: (entry: T) => void, onEnd: () => void): () => void;
  /** True when the log will get no more entries (checked after the stored entries are drained). */
  ended?: (last: T | undefined) => boolean | Promise<boolean>;
  /** About how many bytes an entry holds, for the backlog's byte bound (default: none counted). */
  weigh?: (entry: T) => number;
}

const PAGE = 256;
/** Live entries queued for one reader before it is switched to reading from storage. */
export const MAX_LIVE_BACKLOG = 1024;
/** Bytes of live entries (by the source's `weigh`) queued for one reader before the same switch. */
export const MAX_LIVE_BACKLOG_BYTES = 1024 * 1024;

/** Yields every entry with `seq > after`, stored then live, until the source ends or `signal` aborts. */
export async function* tailLog<T extends { seq: number }>(
  source: TailSource<T>,
  after: number,
  signal?: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  let queue: T[] = [];
  let queuedBytes = 0;
  const weigh = source.weigh;
  /** The queue overflowed and was dropped: read from storage before taking live entries again. */
  let behind = false;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const detach = source.listen(
    (entry) => {
      if (behind) return;
      const bytes = weigh === undefined ? 0 : weigh(entry);
      if (queue.length >= MAX_LIVE_BACKLOG || queuedBytes + bytes > MAX_LIVE_BACKLOG_BYTES) {
        queue = [];
        queuedBytes = 0;
        behind = true;
      } else {
        queue.push(entry);
        queuedBytes += bytes;
      }
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
      if (behind) {
        // Live entries published from here on queue again; the read below covers everything
        // committed before, and the seq check drops what both deliver.
        behind = false;
        if (!(yield* drainStored())) return;
      }
      while (queue.length > 0 && !behind) {
        const entry = queue.shift()!;
        if (weigh !== undefined) queuedBytes -= weigh(entry);
        if (entry.seq <= last) continue;
        last = entry.seq;
        yield entry;
        if (signal?.aborted) return;
      }
      if (behind) continue;
      if (ended || signal?.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    detach();
    signal?.removeEventListener('abort', onAbort);
  }
}
