/**
 * Following one real-time feed (a run's watch or token stream, or the fleet events) as an async
 * iterable that survives its connection: the feed's Server-Sent Events form is read over `fetch`
 * (works in Bun, Node 20 and browsers, with the client's `Authorization` header), and whenever the
 * response ends other than by the server's `end` event — network error, server restart, proxy
 * timeout — it waits and reconnects with `resumeFrom=<last seq yielded>`. Every frame carries its
 * seq (protocol/realtime.ts), so the caller sees each frame once, in order, across reconnects.
 *
 * Traps it avoids:
 * - A duplicate after a reconnect. The cursor is the seq of the last frame *yielded*, not received,
 *   and a frame at or below it is skipped, so a server that replays one frame too many changes nothing.
 * - A connection that died without closing. A silently dropped TCP connection (a sleeping laptop,
 *   a NAT that forgot it) never ends the body; the server sends a comment every 15 s, so a feed
 *   that hears nothing for `idleTimeoutMs` (45 s) is treated as cut and reconnected.
 * - Retrying what cannot succeed. Only 408, 429, 502, 503, 504 and network errors are retried
 *   (429 and 503 after their `Retry-After` when given); any other refusal — an unknown run, a
 *   missing credential, a fleet cursor too far behind — is thrown as the server's `WeftError`.
 * - A reconnect storm. Waits double from `retryDelayMs` up to `maxRetryDelayMs` while connections
 *   keep failing, and start over from `retryDelayMs` once a response opens.
 */
import { InvalidArgumentError, WeftError } from '../core/errors.ts';
import { readResponse } from './read-response.ts';
import { readServerSentEvents } from './server-sent-events.ts';

/** The first wait before reconnecting, ms. */
export const DEFAULT_RETRY_DELAY_MS = 1_000;
/** The longest wait between reconnects, ms. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
/** Silence after which a connection counts as dead: three of the server's 15 s heartbeats. */
export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/** The longest delay `setTimeout` takes (a longer one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;

/** Statuses worth another try: the server (or a proxy before it) is busy, restarting or timed out. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/**
 * How a feed is followed: where it resumes from, what stops it, how it reconnects.
 *
 * @example
 * for await (const frame of client.watch('order-1', { after: 12, signal: AbortSignal.timeout(60_000) })) show(frame);
 */
export interface FollowOptions {
  /**
   * The last seq the caller already has: the feed starts right after it; `-1` starts before
   * everything retained. Omitted: a run's feeds start from their first retained frame, the fleet
   * events from the live tail.
   */
  after?: number;
  /** Aborting it ends the iteration quietly (no error) and closes the connection. */
  signal?: AbortSignal;
  /** The first wait before reconnecting, ms (default 1,000); it doubles while reconnects fail. */
  retryDelayMs?: number;
  /** The longest wait between reconnects, ms (default 30,000). */
  maxRetryDelayMs?: number;
  /**
   * Silence (not even the server's heartbeat comment) after which the connection is dropped and
   * reconnected, ms (default 45,000; `0` never). Keep it above the server's `sseHeartbeatMs`.
   */
  idleTimeoutMs?: number;
}

/** One feed's endpoint, as the client that follows it knows it. */
export interface FeedSource {
  /** Names the feed in errors, e.g. `watch('order-1')`. */
  name: string;
  /** The feed's URL without a cursor; each connection adds `resumeFrom`. */
  url: string;
  /** Headers of every connection (the client's credential among them). */
  headers: Headers;
  fetch: (request: Request) => Promise<Response>;
  /** The SSE `event:` name of the feed's frames: `watch`, `chunk` or `event`. */
  frameEvent: string;
  /** Whether the server's `end` event completes the feed (a run's feeds) or only closes a connection (fleet events). */
  ends: boolean;
}

/**
 * The feed at `source` as a lazy async iterable: nothing is sent until it is iterated, and each
 * `for await` follows the feed from `options.after` on its own connection. Options are checked here,
 * so a bad one throws at the call.
 *
 * @example
 * const frames = followFeed<WatchFrame>(source, { after: -1 });
 * for await (const frame of frames) if (frame.status === 'completed') console.log('done');
 */
export function followFeed<F extends { seq: number }>(
  source: FeedSource,
  options: FollowOptions = {},
): AsyncIterable<F> {
  const settings = settingsOf(source.name, options);
  return { [Symbol.asyncIterator]: () => follow<F>(source, settings) };
}

type Settings = Required<Omit<FollowOptions, 'after' | 'signal'>> & Pick<FollowOptions, 'after' | 'signal'>;

async function* follow<F extends { seq: number }>(
  source: FeedSource,
  settings: Settings,
): AsyncGenerator<F, void, undefined> {
  const { signal } = settings;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  if (signal?.aborted === true) return;
  signal?.addEventListener('abort', onAbort, { once: true });
  let cursor = settings.after;
  let failures = 0;
  try {
    for (;;) {
      const connection = new AbortController();
      const cut = (): void => connection.abort();
      stop.signal.addEventListener('abort', cut, { once: true });
      const watchdog = new Watchdog(settings.idleTimeoutMs, cut);
      let wait: number | undefined;
      try {
        watchdog.alive();
        const response = await source.fetch(requestOf(source, cursor, connection.signal));
        if (response.status === 200) {
          checkEventStream(source, response);
          failures = 0;
          for await (const message of readServerSentEvents(response.body ?? emptyBody(), {
            signal: connection.signal,
            onBytes: watchdog.alive,
          })) {
            if (stop.signal.aborted) return;
            if (message.event === 'end') {
              if (source.ends) return;
              break;
            }
            if (message.event !== source.frameEvent) continue;
            const frame = frameOf<F>(source, message.data);
            if (cursor !== undefined && frame.seq <= cursor) continue;
            cursor = frame.seq;
            yield frame;
          }
        } else {
          wait = await refusal(source, response);
        }
      } catch (error) {
        if (stop.signal.aborted) return;
        // A refusal or a malformed frame: reconnecting would meet it again.
        if (error instanceof WeftError) throw error;
        // Anything else is the connection failing (fetch rejected, the body errored, the watchdog cut it).
      } finally {
        watchdog.stop();
        stop.signal.removeEventListener('abort', cut);
        connection.abort();
      }
      if (stop.signal.aborted) return;
      await pause(wait ?? backoff(settings, failures++), stop.signal);
      if (stop.signal.aborted) return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

function requestOf(source: FeedSource, cursor: number | undefined, signal: AbortSignal): Request {
  const headers = new Headers(source.headers);
  // Nothing else is added: a header a CORS policy does not list (`Cache-Control`, `Last-Event-ID`)
  // would fail a browser's preflight, which is also why the cursor travels in the query.
  headers.set('accept', 'text/event-stream');
  const url = cursor === undefined ? source.url : `${source.url}?resumeFrom=${cursor}`;
  return new Request(url, { method: 'GET', headers, signal });
}

function checkEventStream(source: FeedSource, response: Response): void {
  const type = response.headers.get('content-type') ?? '';
  if (/^text\/event-stream\b/i.test(type)) return;
  response.body?.cancel().catch(() => undefined);
  throw new WeftError(
    'unexpected_response',
    `${source.name}: the server answered 200 with '${type || 'no content type'}', not text/event-stream`,
    { details: { status: 200, contentType: type } },
  );
}

/** How long to wait after a retryable refusal (its `Retry-After` when it names seconds); throws any other as its `WeftError`. */
async function refusal(source: FeedSource, response: Response): Promise<number | undefined> {
  if (!RETRYABLE_STATUSES.has(response.status)) {
    await readResponse(source.name, response);
    // A 2xx other than 200 (or a 3xx fetch did not follow) is no feed either.
    throw new WeftError('unexpected_response', `${source.name}: the server answered ${response.status}`, {
      details: { status: response.status },
    });
  }
  await response.body?.cancel().catch(() => undefined);
  const retryAfter = response.headers.get('retry-after')?.trim() ?? '';
  return /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
}

function frameOf<F>(source: FeedSource, data: string): F {
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    frame = undefined;
  }
  if (typeof frame !== 'object' || frame === null || !Number.isSafeInteger((frame as { seq?: unknown }).seq)) {
    throw new WeftError('unexpected_response', `${source.name}: the server sent a frame without a seq`, {
      details: { data: data.slice(0, 1024) },
    });
  }
  return frame as F;
}

/** `retryDelayMs` doubled per failure in a row, at most `maxRetryDelayMs`. */
function backoff(settings: Settings, failures: number): number {
  if (settings.retryDelayMs === 0) return 0;
  return Math.min(settings.retryDelayMs * 2 ** Math.min(failures, 30), settings.maxRetryDelayMs);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
    signal.addEventListener('abort', done, { once: true });
    if (signal.aborted) done();
  });
}

/** Calls `expire` once `timeoutMs` pass without `alive()`; `0` (or more than a timer holds) never. */
class Watchdog {
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #timeoutMs: number;
  readonly #expire: () => void;

  constructor(timeoutMs: number, expire: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#expire = expire;
  }

  readonly alive = (): void => {
    if (this.#timeoutMs === 0 || this.#timeoutMs > MAX_TIMER_MS) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#expire, this.#timeoutMs);
  };

  stop(): void {
    clearTimeout(this.#timer);
  }
}

function emptyBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}

function settingsOf(name: string, options: FollowOptions): Settings {
  const { after, signal } = options;
  if (after !== undefined && !(Number.isSafeInteger(after) && after >= -1)) {
    throw new InvalidArgumentError(`${name}: 'after' must be -1 or a frame's seq (a non-negative integer)`);
  }
  const retryDelayMs = delayOption(name, 'retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS);
  const maxRetryDelayMs = delayOption(name, 'maxRetryDelayMs', options.maxRetryDelayMs, DEFAULT_MAX_RETRY_DELAY_MS);
  const idleTimeoutMs = delayOption(name, 'idleTimeoutMs', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
  return { after, signal, retryDelayMs, maxRetryDelayMs: Math.max(maxRetryDelayMs, retryDelayMs), idleTimeoutMs };
}

function delayOption(name: string, option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(`${name}: '${option}' must be a non-negative number of milliseconds`);
  }
  return value;
}
