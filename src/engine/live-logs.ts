/**
 * Live readers of the durable logs: who listens to the fleet events, to a run's watch frames and
 * to a run's token stream, and the async iterables the engine hands out for each (stored entries
 * from a cursor, then live ones — see log-tail.ts).
 *
 * Trap it avoids: listeners for runs nobody watches. Per-run listener sets exist only while someone
 * listens and are dropped with the last one — or with the run's terminal frame, whichever comes
 * first — so a million runs cost nothing here.
 */
import type { Codec } from '../core/codec.ts';
import { InvalidArgumentError, WorkflowNotFoundError } from '../core/errors.ts';
import { isFinished, type RunStatus, type Storage, type StreamChunk, type WatchFrame } from '../storage/storage.ts';
import { toEventRecord, type EngineEventRecord, type Published } from './event-log.ts';
import { tailLog } from './log-tail.ts';

/** One state change of a run, as `engine.watch` and `engine.readWatch` return it. */
export interface WatchRecord {
  seq: number;
  /** The event that changed the state, e.g. `workflow:suspended`. */
  type: string;
  /** The run's status after the change. */
  status: RunStatus;
  /** Epoch milliseconds. */
  timestamp: number;
  data: Record<string, unknown>;
}

/** One chunk of a run's token stream. */
export interface StreamChunkRecord {
  seq: number;
  data: unknown;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** Where a reader starts: entries with `seq > after` (default -1: everything retained) — `after` is the last seq it has. */
export interface ReadLogOptions {
  after?: number;
  /** Default and maximum 1000. */
  limit?: number;
}

/** A page of a run's token stream; `closed` once the run ended and no chunk follows. */
export interface StreamPage {
  chunks: StreamChunkRecord[];
  closed: boolean;
}

export interface FollowLogOptions {
  after?: number;
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
}

type Listener<T> = { onEntry: (entry: T) => void; onEnd: () => void };

export class LiveLogs {
  readonly #storage: Storage;
  readonly #codec: Codec;
  readonly #fleet = new Set<Listener<EngineEventRecord>>();
  readonly #watchers = new Map<string, Set<Listener<WatchFrame>>>();
  readonly #streamers = new Map<string, Set<Listener<StreamChunk>>>();

  constructor(storage: Storage, codec: Codec) {
    this.#storage = storage;
    this.#codec = codec;
  }

  /** Hands one committed batch to the live readers. */
  publish(published: Published): void {
    if (this.#fleet.size > 0) {
      for (const event of published.events) {
        const record = toEventRecord(event.event, this.#codec, event.detail);
        for (const listener of this.#fleet) listener.onEntry(record);
      }
    }
    if (this.#streamers.size > 0) {
      for (const chunk of published.chunks) for (const l of this.#streamers.get(chunk.runId) ?? []) l.onEntry(chunk);
    }
    if (this.#watchers.size === 0 && this.#streamers.size === 0) return;
    for (const frame of published.frames) {
      for (const listener of this.#watchers.get(frame.runId) ?? []) listener.onEntry(frame);
      if (!isFinished(frame.status)) continue;
      // A terminal frame is the run's last write: its watch and its stream are complete. The run's
      // listener sets go with it, so a reader that never resumes its iteration (and so never
      // detaches) keeps only its own iterator alive, not an entry here per finished run.
      for (const listener of this.#watchers.get(frame.runId) ?? []) listener.onEnd();
      for (const listener of this.#streamers.get(frame.runId) ?? []) listener.onEnd();
      this.#watchers.delete(frame.runId);
      this.#streamers.delete(frame.runId);
    }
  }

  async readEvents(options: ReadLogOptions | undefined): Promise<EngineEventRecord[]> {
    const { after, limit } = readBounds(options);
    const events = await this.#storage.readEvents(after, limit);
    return events.map((event) => toEventRecord(event, this.#codec));
  }

  /** `tail`: the last stamped fleet seq, to clamp a future cursor to. */
  subscribeEvents(options: FollowLogOptions | undefined, tail: number | undefined): AsyncIterable<EngineEventRecord> {
    return this.#followEvents(followStart(options, tail), options?.signal);
  }

  async readWatch(runId: string, options: ReadLogOptions | undefined): Promise<WatchRecord[]> {
    const { after, limit } = readBounds(options);
    const frames = await this.#storage.readWatch(runId, after, limit);
    return frames.map((frame) => this.#toWatchRecord(frame));
  }

  async watch(runId: string, options: FollowLogOptions | undefined): Promise<AsyncIterable<WatchRecord>> {
    const start = checkedAfter(options);
    if ((await this.#storage.getRun(runId)) === undefined) throw new WorkflowNotFoundError(runId);
    const { watch } = await this.#storage.runTails(runId);
    return this.#followWatch(runId, Math.min(start, watch), options?.signal);
  }

  async readStream(runId: string, options: ReadLogOptions | undefined): Promise<StreamPage> {
    const { after, limit } = readBounds(options);
    const run = await this.#storage.getRun(runId);
    if (run === undefined) throw new WorkflowNotFoundError(runId);
    const chunks = await this.#storage.readChunks(runId, after, limit);
    const closed = isFinished(run.status) && chunks.length < limit;
    return { chunks: chunks.map((chunk) => this.#toChunkRecord(chunk)), closed };
  }

  async stream(runId: string, options: FollowLogOptions | undefined): Promise<AsyncIterable<StreamChunkRecord>> {
    const start = checkedAfter(options);
    if ((await this.#storage.getRun(runId)) === undefined) throw new WorkflowNotFoundError(runId);
    const { chunk } = await this.#storage.runTails(runId);
    return this.#followStream(runId, Math.min(start, chunk), options?.signal);
  }

  #followEvents(after: number, signal?: AbortSignal): AsyncIterable<EngineEventRecord> {
    return tailLog<EngineEventRecord>(
      {
        read: async (from, limit) =>
          (await this.#storage.readEvents(from, limit)).map((e) => toEventRecord(e, this.#codec)),
        listen: (onEntry, onEnd) => attach(this.#fleet, { onEntry, onEnd }),
      },
      after,
      signal,
    );
  }

  #followWatch(runId: string, after: number, signal?: AbortSignal): AsyncIterable<WatchRecord> {
    const frames = tailLog<WatchFrame>(
      {
        read: (from, limit) => this.#storage.readWatch(runId, from, limit),
        listen: (onEntry, onEnd) => attachTo(this.#watchers, runId, { onEntry, onEnd }),
        ended: (last) => (last !== undefined && isFinished(last.status)) || this.#runFinished(runId),
        weigh: (frame) => ENTRY_OVERHEAD_BYTES + (frame.data?.byteLength ?? 0),
      },
      after,
      signal,
    );
    return mapIterable(frames, (frame) => this.#toWatchRecord(frame));
  }

  #followStream(runId: string, after: number, signal?: AbortSignal): AsyncIterable<StreamChunkRecord> {
    const chunks = tailLog<StreamChunk>(
      {
        read: (from, limit) => this.#storage.readChunks(runId, from, limit),
        listen: (onEntry, onEnd) => attachTo(this.#streamers, runId, { onEntry, onEnd }),
        ended: () => this.#runFinished(runId),
        weigh: (chunk) => ENTRY_OVERHEAD_BYTES + chunk.data.byteLength,
      },
      after,
      signal,
    );
    return mapIterable(chunks, (chunk) => this.#toChunkRecord(chunk));
  }

  #toWatchRecord(frame: WatchFrame): WatchRecord {
    return {
      seq: frame.seq,
      type: frame.type,
      status: frame.status,
      timestamp: frame.at,
      data: frame.data === null ? {} : (this.#codec.decode(frame.data) as Record<string, unknown>),
    };
  }

  #toChunkRecord(chunk: StreamChunk): StreamChunkRecord {
    return { seq: chunk.seq, data: this.#codec.decode(chunk.data), timestamp: chunk.at };
  }

  async #runFinished(runId: string): Promise<boolean> {
    const run = await this.#storage.getRun(runId);
    return run === undefined || isFinished(run.status);
  }
}

function attach<T>(set: Set<Listener<T>>, listener: Listener<T>): () => void {
  set.add(listener);
  return () => set.delete(listener);
}

function attachTo<T>(map: Map<string, Set<Listener<T>>>, key: string, listener: Listener<T>): () => void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && map.get(key) === set) map.delete(key);
  };
}

async function* mapIterable<T, U>(source: AsyncIterable<T>, map: (value: T) => U): AsyncGenerator<U, void, undefined> {
  for await (const value of source) yield map(value);
}

const MAX_READ_LIMIT = 1000;
/** What a queued log entry costs besides its payload, about (the object, its fields, the queue slot). */
const ENTRY_OVERHEAD_BYTES = 96;

function readBounds(options: ReadLogOptions | undefined): { after: number; limit: number } {
  const after = checkedAfter(options);
  const limit = options?.limit ?? MAX_READ_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_READ_LIMIT}`, { details: { limit } });
  }
  return { after, limit };
}

function checkedAfter(options: { after?: number } | undefined): number {
  const after = options?.after ?? -1;
  if (!Number.isInteger(after) || after < -1) {
    throw new InvalidArgumentError('after must be an integer >= -1', { details: { after } });
  }
  return after;
}

/** Where a live reader starts: `after` checked and clamped to the tail (a future cursor waits for new entries). */
function followStart(options: FollowLogOptions | undefined, tail: number | undefined): number {
  const after = checkedAfter(options);
  return tail === undefined ? after : Math.min(after, tail);
}
