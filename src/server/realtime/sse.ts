/**
 * A feed as Server-Sent Events, for clients and proxies without WebSockets: each frame is an
 * event whose `id` is its `seq` (so a browser's `EventSource` resumes by itself with
 * `Last-Event-ID`) and whose `data` is the frame as JSON; a run's feed ends with an `end` event
 * and the response closes. Nothing Bun-specific: a Service Worker can answer with it too.
 *
 * Traps it avoids:
 * - A quiet stream cut by an idle timeout. Bun closes a connection that sends nothing for 10 s,
 *   proxies after their own timeout; the listener is told the response may stay quiet
 *   indefinitely (`keepOpen`), and a comment line goes out every `sseHeartbeatMs` anyway.
 * - A buffer that grows for a reader that does not read. The stream is pulled: the next frame is
 *   taken from the feed only when the client has read the previous ones.
 */
import { encodeMessage, MediaType } from '../negotiation.ts';
import type { FeedFrame } from './feeds.ts';
import type { RealtimeHub } from './realtime-hub.ts';

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** The feed name of an SSE `event:` line per frame. */
const EVENT_NAMES = { watch: 'watch', stream: 'chunk', events: 'event' } as const;

/**
 * The response streaming `frames` as SSE. `abort` is the feed's controller: aborted when the
 * client goes away or the server stops. `release` frees the caller's connection slot.
 *
 * @example
 * return sseResponse(await openFeed(engine, feed, abort.signal), abort, { kind: 'watch', hub, release });
 */
export function sseResponse(
  frames: AsyncIterable<FeedFrame>,
  abort: AbortController,
  options: { kind: keyof typeof EVENT_NAMES; hub: RealtimeHub; release: () => void },
): Response {
  const { hub, kind, release } = options;
  const encoder = new TextEncoder();
  const iterator = frames[Symbol.asyncIterator]();
  const eventName = EVENT_NAMES[kind];
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let untrack: (() => void) | undefined;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearInterval(heartbeat);
    abort.abort();
    untrack?.();
    release();
    hub.metrics?.connectionClosed(kind, 'sse');
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        hub.metrics?.connectionOpened(kind, 'sse');
        untrack = hub.track({
          shutdown: () => {
            finish();
            try {
              controller.close();
            } catch {
              // Already closed.
            }
          },
        });
        // Sent at once so the client (and any proxy) sees the stream open; also sets the reconnect delay.
        controller.enqueue(encoder.encode('retry: 1000\n: connected\n\n'));
        heartbeat = setInterval(() => {
          try {
            controller.enqueue(encoder.encode(': keep-alive\n\n'));
          } catch {
            finish();
          }
        }, hub.limits.sseHeartbeatMs);
      },
      async pull(controller) {
        if (finished) return;
        try {
          const next = await iterator.next();
          if (finished) return;
          if (next.done) {
            controller.enqueue(encoder.encode('event: end\ndata: {}\n\n'));
            finish();
            controller.close();
            return;
          }
          const data = encodeMessage(next.value, MediaType.json) as string;
          controller.enqueue(encoder.encode(`id: ${next.value.seq}\nevent: ${eventName}\ndata: ${data}\n\n`));
          hub.metrics?.framesSent(kind, 1);
        } catch (error) {
          if (finished) return;
          console.error(`weft: the ${kind} feed failed:`, error);
          finish();
          controller.error(error);
        }
      },
      cancel() {
        finish();
      },
    },
    // One frame at a time: the next is read from the feed only once the client took this one.
    { highWaterMark: 1 },
  );
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': SSE_CONTENT_TYPE,
      'cache-control': 'no-store',
      // Tells nginx not to buffer the stream.
      'x-accel-buffering': 'no',
    },
  });
}
