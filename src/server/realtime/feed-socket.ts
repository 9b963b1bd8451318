/**
 * A raw feed socket (`/watch`, `/stream`): the feed's frames, one message each, in order, paced by
 * the client (see socket-port.ts), then a normal close (1000) when the run ended. Messages from the
 * client are ignored: the socket only talks.
 */
import { CloseCode } from '../../protocol/realtime.ts';
import type { MediaType } from '../negotiation.ts';
import type { FeedFrame } from './feeds.ts';
import type { RealtimeHub } from './realtime-hub.ts';
import { Outbox, type SocketPort, type SocketSession } from './socket-port.ts';

export class FeedSocket implements SocketSession {
  readonly #frames: AsyncIterable<FeedFrame>;
  readonly #abort: AbortController;
  readonly #format: MediaType;
  readonly #hub: RealtimeHub;
  readonly #route: string;
  readonly #release: () => void;
  #outbox: Outbox | undefined;
  #untrack: (() => void) | undefined;

  /** `abort` is the signal the feed was opened with; `release` frees the caller's connection slot. */
  constructor(
    frames: AsyncIterable<FeedFrame>,
    abort: AbortController,
    options: { format: MediaType; hub: RealtimeHub; route: string; release: () => void },
  ) {
    this.#frames = frames;
    this.#abort = abort;
    this.#format = options.format;
    this.#hub = options.hub;
    this.#route = options.route;
    this.#release = options.release;
  }

  open(port: SocketPort): void {
    const outbox = new Outbox(port, this.#format, this.#hub.limits, this.#route, this.#hub.metrics);
    this.#outbox = outbox;
    this.#hub.metrics?.connectionOpened(this.#route, 'websocket');
    this.#untrack = this.#hub.track({ shutdown: () => outbox.close(CloseCode.goingAway, 'server stopping') });
    void this.#pump(outbox);
  }

  message(): void {}

  drain(): void {
    this.#outbox?.drained();
  }

  closed(): void {
    if (this.#outbox !== undefined) this.#hub.metrics?.connectionClosed(this.#route, 'websocket');
    this.#outbox?.dispose();
    this.#abort.abort();
    this.#untrack?.();
    this.#release();
  }

  async #pump(outbox: Outbox): Promise<void> {
    try {
      for await (const frame of this.#frames) {
        if (!outbox.send(frame)) return;
        if (!(await outbox.whenWritable())) return;
      }
      outbox.close(CloseCode.finished, 'run finished');
    } catch (error) {
      if (outbox.closed) return;
      console.error(`weft: the ${this.#route} feed failed:`, error);
      outbox.close(CloseCode.internalError, 'feed failed: reconnect with the last seq');
    }
  }
}
