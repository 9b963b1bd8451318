/**
 * The engine's durable logs — fleet events, per-run watch frames, token-stream chunks — on their way
 * through storage: every commit passes through `EventLog.commit`, which stamps fleet sequence
 * numbers on the events it carries and, once storage committed it, hands its events, frames and
 * chunks to live listeners.
 *
 * Traps it avoids:
 * - Telling anyone about a change storage has not committed: listeners hear of an entry only after
 *   its commit resolved, and never of one whose commit failed.
 * - Out-of-order publication. Sequence numbers are stamped in commit-call order; publication follows
 *   the same order even if a later commit resolves first, so a live reader never sees seq 7 before 6.
 * - Reusing sequence numbers after a restart: the first commit waits until the stored tail is known.
 */
import type { Codec } from '../core/codec.ts';
import type { EventRecord, Mutation, Storage, StreamChunk, WatchFrame } from '../storage/storage.ts';

/** An event mutation as the engine builds it: `detail` is the decoded data, kept for in-process listeners. */
export type EventMutation = Extract<Mutation, { op: 'appendEvent' }> & { detail?: Record<string, unknown> };

/** What a committed batch publishes, in order. */
export interface Published {
  events: EventMutation[];
  frames: WatchFrame[];
  chunks: StreamChunk[];
}

export interface EventLogOptions {
  storage: Storage;
  codec: Codec;
  /** Fleet events kept: older ones are pruned as new ones arrive. */
  retention: number;
  /** Called once per committed batch, in commit-call order. */
  publish: (published: Published) => void;
}

interface InFlight {
  published: Published | undefined;
  settled: boolean;
}

export class EventLog {
  readonly #storage: Storage;
  readonly #codec: Codec;
  readonly #retention: number;
  readonly #pruneEvery: number;
  readonly #publish: (published: Published) => void;
  /** The last stamped seq; undefined until the stored tail is read. */
  #tail: number | undefined;
  #prunedThrough = 0;
  /** The read of the stored tail, while it runs. */
  #loading: Promise<void> | undefined;
  readonly #inFlight: InFlight[] = [];

  constructor(options: EventLogOptions) {
    this.#storage = options.storage;
    this.#codec = options.codec;
    this.#retention = options.retention;
    this.#pruneEvery = Math.max(100, Math.floor(options.retention / 10));
    this.#publish = options.publish;
  }

  /** The last sequence number handed out (0 before any, undefined until loaded). */
  get tail(): number | undefined {
    return this.#tail;
  }

  /** Reads the stored tail once; later calls share the first read (a failed read is tried again). */
  load(): Promise<void> {
    if (this.#tail !== undefined) return Promise.resolve();
    this.#loading ??= this.#storage.lastEventSeq().then(
      (seq) => {
        this.#tail ??= seq;
        this.#prunedThrough = Math.max(0, seq - this.#retention);
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
  }

  /** Builds an event mutation; its seq is stamped when it is committed. */
  event(type: string, runId: string | null, at: number, detail?: Record<string, unknown>): EventMutation {
    const data = detail === undefined ? null : this.#codec.encodeTrusted(detail);
    const mutation: EventMutation = { op: 'appendEvent', event: { seq: 0, type, runId, at, data } };
    if (detail !== undefined) mutation.detail = detail;
    return mutation;
  }

  /** Commits `mutations` through storage, stamping and later publishing the log entries among them. */
  commit(mutations: Mutation[]): Promise<void> {
    if (this.#tail !== undefined && this.#waiting === 0) return this.#commitNow(mutations);
    // Until the tail is known, commits queue up in call order (and later ones queue behind them).
    this.#waiting++;
    // The chain moves on once a commit is handed to storage, not when storage resolves it.
    const handedOver = this.#queue
      .then(() => this.load())
      .then(
        () => {
          this.#waiting--;
          return { committed: this.#commitNow(mutations) };
        },
        (error: unknown) => {
          this.#waiting--;
          throw error;
        },
      );
    this.#queue = handedOver.then(
      () => undefined,
      () => undefined,
    );
    return handedOver.then((step) => step.committed);
  }

  /** Commits waiting for the tail, and the chain that keeps them in order. */
  #waiting = 0;
  #queue: Promise<void> = Promise.resolve();

  #commitNow(mutations: Mutation[]): Promise<void> {
    const published = this.#stamp(mutations);
    const entry: InFlight = { published, settled: false };
    this.#inFlight.push(entry);
    const committed = this.#storage.commit(mutations);
    committed.then(
      () => this.#settle(entry, true),
      () => this.#settle(entry, false),
    );
    return committed;
  }

  /** Assigns seqs to the events of one commit and collects what it will publish (undefined: nothing). */
  #stamp(mutations: Mutation[]): Published | undefined {
    let published: Published | undefined;
    for (const mutation of mutations) {
      if (mutation.op === 'appendEvent') {
        mutation.event.seq = ++this.#tail!;
        (published ??= { events: [], frames: [], chunks: [] }).events.push(mutation);
      } else if (mutation.op === 'appendWatch') {
        (published ??= { events: [], frames: [], chunks: [] }).frames.push(mutation.frame);
      } else if (mutation.op === 'appendChunk') {
        (published ??= { events: [], frames: [], chunks: [] }).chunks.push(mutation.chunk);
      }
    }
    const tail = this.#tail!;
    if (tail - this.#prunedThrough >= this.#retention + this.#pruneEvery) {
      this.#prunedThrough = tail - this.#retention;
      mutations.push({ op: 'pruneEvents', throughSeq: this.#prunedThrough });
    }
    return published;
  }

  #settle(entry: InFlight, ok: boolean): void {
    entry.settled = true;
    if (!ok) entry.published = undefined;
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.settled) {
      const head = this.#inFlight.shift()!;
      if (head.published !== undefined) this.#publish(head.published);
    }
  }
}

/** A fleet event as readers see it. */
export interface EngineEventRecord {
  seq: number;
  type: string;
  workflowId: string | null;
  /** Epoch milliseconds. */
  timestamp: number;
  data: Record<string, unknown>;
}

export function toEventRecord(event: EventRecord, codec: Codec, detail?: Record<string, unknown>): EngineEventRecord {
  return {
    seq: event.seq,
    type: event.type,
    workflowId: event.runId,
    timestamp: event.at,
    data: detail ?? (event.data === null ? {} : (codec.decode(event.data) as Record<string, unknown>)),
  };
}
