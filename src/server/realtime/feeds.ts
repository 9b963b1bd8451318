/**
 * The three real-time feeds as wire frames: a run's state changes (`watch`), a run's token chunks
 * (`stream`) and the fleet events (`events`), each opened from a cursor on top of the engine's
 * durable logs (`engine.watch`, `engine.stream`, `engine.subscribeEvents`) and shaped as
 * protocol/realtime.ts says (timestamps as ISO text, every frame with its `seq`). WebSockets,
 * Server-Sent Events and JSON-RPC subscriptions all deliver these same frames.
 *
 * Opening checks everything a client can get wrong — an unknown run (404), a fleet cursor too far
 * behind (400) — so a socket is only upgraded for a feed that can be served.
 */
import type { Engine } from '../../engine/engine.ts';
import { MAX_EVENT_REPLAY, type ChunkFrame, type EventFrame, type WatchFrame } from '../../protocol/realtime.ts';
import { ReplayWindowTooLargeError } from '../server-errors.ts';

export type FeedKind = 'watch' | 'stream' | 'events';

/** What to follow and from where. */
export interface FeedRequest {
  kind: FeedKind;
  /** The run, for `watch` and `stream`. */
  workflowId?: string;
  /**
   * The last seq the client has (-1: before everything retained). Omitted: from the first retained
   * frame for a run's feeds, from the live tail for fleet events (see `openFeed`).
   */
  after?: number | undefined;
}

/** A frame of any feed. */
export type FeedFrame = WatchFrame | ChunkFrame | EventFrame;

/**
 * Opens a feed; iterate it for its frames, abort `signal` to stop. A run's feeds end after the
 * run ended (watch with its terminal change); the fleet feed never ends by itself.
 *
 * Fleet events from a cursor replay at most `MAX_EVENT_REPLAY` retained events (more is
 * `ReplayWindowTooLargeError`); without a cursor the feed starts at the live tail, since a fleet
 * log can hold far more than any subscriber wants replayed on connect.
 *
 * @example
 * for await (const frame of await openFeed(engine, { kind: 'watch', workflowId: 'order-1' }, signal)) send(frame);
 */
export async function openFeed(
  engine: Engine,
  request: FeedRequest,
  signal: AbortSignal,
): Promise<AsyncIterable<FeedFrame>> {
  const after = request.after;
  switch (request.kind) {
    case 'watch': {
      const records = await engine.watch(request.workflowId ?? '', {
        ...(after === undefined ? {} : { after }),
        signal,
      });
      return mapFrames(records, (record) => ({ ...record, timestamp: isoOf(record.timestamp) }));
    }
    case 'stream': {
      const records = await engine.stream(request.workflowId ?? '', {
        ...(after === undefined ? {} : { after }),
        signal,
      });
      return mapFrames(records, (record) => ({ ...record, timestamp: isoOf(record.timestamp) }));
    }
    case 'events': {
      if (after !== undefined) {
        const behind = await engine.readEvents({ after, limit: MAX_EVENT_REPLAY });
        if (behind.length === MAX_EVENT_REPLAY) {
          const beyond = await engine.readEvents({ after: behind[behind.length - 1]!.seq, limit: 1 });
          if (beyond.length > 0) throw new ReplayWindowTooLargeError(after, MAX_EVENT_REPLAY);
        }
      }
      // A cursor past the tail is clamped to it: the largest one starts at the live tail.
      const records = engine.subscribeEvents({ after: after ?? Number.MAX_SAFE_INTEGER, signal });
      return mapFrames(records, (record) => ({ ...record, timestamp: isoOf(record.timestamp) }));
    }
  }
}

function isoOf(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

async function* mapFrames<T, F extends FeedFrame>(
  records: AsyncIterable<T>,
  map: (record: T) => F,
): AsyncGenerator<F, void, undefined> {
  for await (const record of records) yield map(record);
}
