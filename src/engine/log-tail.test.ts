import { describe, expect, test } from 'bun:test';
import { MAX_LIVE_BACKLOG, MAX_LIVE_BACKLOG_BYTES, tailLog, type TailSource } from './log-tail.ts';

interface Entry {
  seq: number;
}

/** A log in memory: `append` stores an entry, then publishes it live, as the event log does after a commit. */
function memoryLog() {
  const stored: Entry[] = [];
  const listeners = new Set<{ onEntry: (entry: Entry) => void; onEnd: () => void }>();
  let reads = 0;
  let ended = false;
  const source: TailSource<Entry> = {
    read: async (after, limit) => {
      reads++;
      return stored.filter((entry) => entry.seq > after).slice(0, limit);
    },
    listen: (onEntry, onEnd) => {
      const listener = { onEntry, onEnd };
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    ended: () => ended,
  };
  return {
    source,
    listeners,
    get reads() {
      return reads;
    },
    append(count: number) {
      for (let i = 0; i < count; i++) {
        const entry = { seq: stored.length + 1 };
        stored.push(entry);
        for (const listener of listeners) listener.onEntry(entry);
      }
    },
    end() {
      ended = true;
      for (const listener of listeners) listener.onEnd();
    },
  };
}

describe('tailLog', () => {
  test('delivers stored then live entries once each, in order', async () => {
    const log = memoryLog();
    log.append(300);
    const reader = tailLog(log.source, 0)[Symbol.asyncIterator]();
    const seen: number[] = [];
    for (let i = 0; i < 300; i++) seen.push((await reader.next()).value!.seq);
    log.append(5);
    log.end();
    for (let next = await reader.next(); next.done !== true; next = await reader.next()) seen.push(next.value.seq);
    expect(seen).toEqual(Array.from({ length: 305 }, (_, i) => i + 1));
    expect(log.listeners.size).toBe(0);
  });

  test('a reader that stops reading holds a bounded backlog and catches up from storage without gaps', async () => {
    const log = memoryLog();
    const reader = tailLog(log.source, 0)[Symbol.asyncIterator]();
    log.append(1);
    expect((await reader.next()).value?.seq).toBe(1);
    const readsBefore = log.reads;
    // The reader is stalled while far more than its backlog is published.
    log.append(10 * MAX_LIVE_BACKLOG);
    log.end();
    const seen: number[] = [1];
    for (let next = await reader.next(); next.done !== true; next = await reader.next()) seen.push(next.value.seq);
    expect(seen).toEqual(Array.from({ length: 10 * MAX_LIVE_BACKLOG + 1 }, (_, i) => i + 1));
    // It caught up by reading storage, not from a queue of every entry.
    expect(log.reads).toBeGreaterThan(readsBefore);
    expect(log.listeners.size).toBe(0);
  });

  test('large entries switch a stalled reader to storage long before the entry count bound', async () => {
    const log = memoryLog();
    // Each entry weighs a quarter of the byte bound: the fifth queued one overflows it.
    let weighed = 0;
    const source: TailSource<Entry> = {
      ...log.source,
      weigh: () => {
        weighed++;
        return MAX_LIVE_BACKLOG_BYTES / 4;
      },
    };
    const reader = tailLog(source, 0)[Symbol.asyncIterator]();
    log.append(1);
    expect((await reader.next()).value?.seq).toBe(1);
    const readsBefore = log.reads;
    log.append(50);
    log.end();
    const seen: number[] = [1];
    for (let next = await reader.next(); next.done !== true; next = await reader.next()) seen.push(next.value.seq);
    expect(seen).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(log.reads).toBeGreaterThan(readsBefore);
    // Weighed on the way in, and never more than the bound's worth queued: the rest was dropped for storage.
    expect(weighed).toBeLessThan(50);
  });
});
