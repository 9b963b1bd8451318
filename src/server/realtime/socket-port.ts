/**
 * The seam between real-time sessions and the WebSocket implementation under them (`serve()`
 * adapts Bun's `ServerWebSocket`), and the outbox every session sends through.
 *
 * Trap it avoids: a server that buffers without limit for a client that does not read. A send is
 * queued by the socket whatever the client does; the outbox watches how much is queued. Past a
 * quarter of `maxBufferedBytes` the feeds pause (`whenWritable`) until the client has read —
 * a paused feed holds at most the engine's live backlog (engine/log-tail.ts: 1 MiB or 1,024
 * entries, then it reads from storage instead) — and a client that
 * stays unread for `stallTimeoutMs`, or lets the queue pass `maxBufferedBytes` (answers to its own
 * calls still queue), is closed with 4008: it reconnects with its last `seq` and loses nothing.
 */
import { CloseCode } from '../../protocol/realtime.ts';
import { encodeMessage, type MediaType } from '../negotiation.ts';
import type { RealtimeLimits, RealtimeMetricsSink } from './realtime-hub.ts';

/** What a session needs from a WebSocket. */
export interface SocketPort {
  /** Queues a message; like Bun's `send`: bytes sent, -1 when queued behind back-pressure, 0 when dropped. */
  send(message: string | Uint8Array): number;
  /** Bytes queued and not yet written to the client. */
  bufferedAmount(): number;
  /** Closes with a close frame (`code`, `reason`). */
  close(code: number, reason: string): void;
  /** Drops the connection at once, without a close handshake (a client that does not read cannot take one). */
  terminate(): void;
}

/** A session on an upgraded socket; `serve()` calls these from Bun's WebSocket handlers. */
export interface SocketSession {
  /** The socket is open: start sending. */
  open(port: SocketPort): void;
  /** A message from the client. */
  message(message: string | Uint8Array): void;
  /** The socket's queue drained (Bun's `drain`). */
  drain(): void;
  /** The socket closed, whoever closed it; release everything. */
  closed(): void;
}

/** Time a slow consumer's close handshake gets before the connection is dropped, ms. */
const CLOSE_GRACE_MS = 2_000;

export class Outbox {
  readonly #port: SocketPort;
  readonly #format: MediaType;
  readonly #limits: Readonly<RealtimeLimits>;
  readonly #route: string;
  readonly #metrics: RealtimeMetricsSink | undefined;
  #closed = false;
  #waiters: ((writable: boolean) => void)[] = [];
  #stallTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    port: SocketPort,
    format: MediaType,
    limits: Readonly<RealtimeLimits>,
    route: string,
    metrics?: RealtimeMetricsSink,
  ) {
    this.#port = port;
    this.#format = format;
    this.#limits = limits;
    this.#route = route;
    this.#metrics = metrics;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one message (encoded in the socket's format); false when the socket is closed or was closed for it. */
  send(value: unknown): boolean {
    if (this.#closed) return false;
    const sent = this.#port.send(encodeMessage(value, this.#format));
    if (sent === 0 || this.#port.bufferedAmount() > this.#limits.maxBufferedBytes) {
      this.#closeSlow();
      return false;
    }
    this.#metrics?.framesSent(this.#route, 1);
    return true;
  }

  /**
   * Resolves true at once while little is queued, else when the client has read the queue down
   * (Bun's `drain`); false when the socket closed meanwhile (a stall past `stallTimeoutMs` closes it).
   */
  whenWritable(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#port.bufferedAmount() <= this.#pauseAt()) return Promise.resolve(true);
    this.#stallTimer ??= setTimeout(() => this.#closeSlow(), this.#limits.stallTimeoutMs);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Bun's `drain`: wakes the paused feeds once the queue is below the pause mark. */
  drained(): void {
    if (this.#closed || this.#port.bufferedAmount() > this.#pauseAt()) return;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#wake(true);
  }

  /** Closes the socket with `code`; paused feeds stop. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.dispose();
    this.#port.close(code, reason);
  }

  /** The socket is gone: stop everything without touching it. */
  dispose(): void {
    this.#closed = true;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#wake(false);
  }

  #pauseAt(): number {
    return this.#limits.maxBufferedBytes / 4;
  }

  #wake(writable: boolean): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve(writable);
  }

  #closeSlow(): void {
    if (this.#closed) return;
    this.#metrics?.slowConsumerClosed(this.#route);
    this.close(CloseCode.slowConsumer, 'slow consumer: reconnect with the last seq');
    // A client that does not read never reads the close frame either: drop the connection, and
    // with it everything queued for it, if the handshake does not finish.
    const port = this.#port;
    setTimeout(() => port.terminate(), CLOSE_GRACE_MS).unref?.();
  }
}
