/**
 * JSON-RPC 2.0 on a WebSocket (`/api/jsonrpc` upgraded): every catalog method exactly as over HTTP
 * (same validation, errors, batches and notifications, `rpc.discover`), answered in the socket's
 * encoding, plus the subscription methods of protocol/realtime.ts, whose frames arrive as
 * notifications until unsubscribed (or, for a run, until it ended).
 *
 * The caller was authenticated at the upgrade; each message is then admitted like an HTTP body:
 * every call counts against the rate limit and needs its catalog scope.
 *
 * Traps it avoids:
 * - A notification before its subscription id. A subscription's feed starts only after the
 *   answer naming it was sent, so the client knows the id of every notification it gets.
 * - A socket that holds the server hostage. Calls in flight and subscriptions per socket are
 *   bounded (429 `too_many_subscriptions`), answers and notifications share the outbox's
 *   back-pressure (socket-port.ts), and a message over the size limit closes the socket (Bun, 1009).
 */
import { WeftError } from '../../core/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Scope } from '../../protocol/operation-spec.ts';
import {
  CloseCode,
  notifications,
  subscribeEvents,
  subscribeWorkflow,
  SubscriptionEndReason,
  unsubscribeEvents,
  unsubscribeWorkflow,
} from '../../protocol/realtime.ts';
import type { OperationContext } from '../catalog.ts';
import {
  guardedCalls,
  handleJsonRpc,
  jsonRpcParseError,
  jsonRpcRefusal,
  type JsonRpcResponse,
  type SessionMethods,
} from '../jsonrpc/jsonrpc.ts';
import { decodeMessage, type MediaType } from '../negotiation.ts';
import { OPEN_ADMISSION, type AccessGate, type GateRequest, type Identity } from '../security/access-gate.ts';
import { ForbiddenError, TooManySubscriptionsError } from '../server-errors.ts';
import { openFeed, type FeedFrame, type FeedRequest } from './feeds.ts';
import type { RealtimeHub } from './realtime-hub.ts';
import { Outbox, type SocketPort, type SocketSession } from './socket-port.ts';

const ROUTE = 'jsonrpc';

/** What an RPC socket was upgraded with. */
export interface RpcSocketOptions {
  engine: Engine;
  format: MediaType;
  hub: RealtimeHub;
  /** The gate and the identity the upgrade was admitted with; absent on an open server. */
  gate: AccessGate | undefined;
  identity: Identity;
  /** The upgrade request's facts, for the audit trail and the rate limit of each message. */
  gateRequest: Omit<GateRequest, 'calls'>;
  /** The operation context of every call (its `signal` aborts when the socket closes). */
  context: Omit<OperationContext, 'signal'>;
  release: () => void;
}

interface Subscription {
  abort: AbortController;
  kind: 'watch' | 'events';
}

export class RpcSocket implements SocketSession {
  readonly #options: RpcSocketOptions;
  readonly #closed = new AbortController();
  readonly #subscriptions = new Map<string, Subscription>();
  #outbox: Outbox | undefined;
  #untrack: (() => void) | undefined;
  #inFlight = 0;
  #nextSubscription = 1;
  /** Subscribe calls whose feed is being opened. */
  #opening = 0;

  constructor(options: RpcSocketOptions) {
    this.#options = options;
  }

  /** The subscription methods for one message; feeds they open go to `starting`, started once its answer is sent. */
  #methodsFor(starting: (() => void)[]): SessionMethods {
    return new Map<string, (params: Record<string, unknown>) => Promise<unknown>>([
      [
        subscribeWorkflow.name,
        (params) =>
          this.#subscribe({ kind: 'watch', workflowId: String(params['id']), after: cursorOf(params) }, starting),
      ],
      [subscribeEvents.name, (params) => this.#subscribe({ kind: 'events', after: cursorOf(params) }, starting)],
      [
        unsubscribeWorkflow.name,
        async (params) => ({ unsubscribed: this.#unsubscribe(String(params['subscription']), 'watch') }),
      ],
      [
        unsubscribeEvents.name,
        async (params) => ({ unsubscribed: this.#unsubscribe(String(params['subscription']), 'events') }),
      ],
    ]);
  }

  open(port: SocketPort): void {
    const { hub, format } = this.#options;
    const outbox = new Outbox(port, format, hub.limits, ROUTE, hub.metrics);
    this.#outbox = outbox;
    hub.metrics?.connectionOpened(ROUTE, 'websocket');
    this.#untrack = hub.track({ shutdown: () => outbox.close(CloseCode.goingAway, 'server stopping') });
  }

  message(message: string | Uint8Array): void {
    void this.#answer(message);
  }

  drain(): void {
    this.#outbox?.drained();
  }

  closed(): void {
    if (this.#outbox !== undefined) this.#options.hub.metrics?.connectionClosed(ROUTE, 'websocket');
    this.#outbox?.dispose();
    this.#closed.abort();
    for (const subscription of this.#subscriptions.values()) subscription.abort.abort();
    this.#subscriptions.clear();
    this.#untrack?.();
    this.#options.release();
  }

  async #answer(message: string | Uint8Array): Promise<void> {
    const outbox = this.#outbox;
    if (outbox === undefined || outbox.closed) return;
    const { limits } = this.#options.hub;
    let body: unknown;
    try {
      body = decodeMessage(message);
    } catch {
      outbox.send(jsonRpcParseError());
      return;
    }
    if (this.#inFlight >= limits.maxCallsInFlight) {
      const refusal = jsonRpcRefusal(body, new TooManySubscriptionsError('calls in flight', limits.maxCallsInFlight));
      if (refusal !== undefined) outbox.send(refusal);
      return;
    }
    this.#inFlight += 1;
    const starting: (() => void)[] = [];
    try {
      const reply = await this.#run(body, starting);
      if (reply !== undefined) outbox.send(reply);
    } finally {
      this.#inFlight -= 1;
      for (const start of starting) start();
    }
  }

  async #run(body: unknown, starting: (() => void)[]): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    const { gate, identity, gateRequest, engine, context } = this.#options;
    let admission = OPEN_ADMISSION;
    if (gate !== undefined) {
      try {
        admission = gate.decide({ ...gateRequest, calls: guardedCalls(body) }, identity);
      } catch (error) {
        // Over the rate limit: the whole message is refused, each call under its id.
        if (error instanceof WeftError) return jsonRpcRefusal(body, error);
        throw error;
      }
    }
    const authorize = (method: string, scope: Scope): void => {
      if (!admission.allows(scope)) throw new ForbiddenError(method, scope);
    };
    const methods = this.#methodsFor(starting);
    return handleJsonRpc(body, engine, { ...context, signal: this.#closed.signal }, authorize, methods);
  }

  async #subscribe(
    request: FeedRequest & { kind: 'watch' | 'events' },
    starting: (() => void)[],
  ): Promise<{ subscription: string }> {
    const { hub, engine } = this.#options;
    // Subscriptions still opening count too: a batch of subscribes must not pass the bound together.
    if (this.#subscriptions.size + this.#opening >= hub.limits.maxSubscriptionsPerSocket) {
      throw new TooManySubscriptionsError('subscriptions', hub.limits.maxSubscriptionsPerSocket);
    }
    const abort = new AbortController();
    let frames: AsyncIterable<FeedFrame>;
    this.#opening += 1;
    try {
      frames = await openFeed(engine, request, abort.signal);
    } finally {
      this.#opening -= 1;
    }
    const id = `s${this.#nextSubscription++}`;
    if (this.#closed.signal.aborted) {
      abort.abort();
      return { subscription: id };
    }
    this.#subscriptions.set(id, { abort, kind: request.kind });
    starting.push(() => void this.#pump(id, request.kind, frames, abort.signal));
    return { subscription: id };
  }

  #unsubscribe(id: string, kind: Subscription['kind']): boolean {
    const subscription = this.#subscriptions.get(id);
    if (subscription === undefined || subscription.kind !== kind) return false;
    subscription.abort.abort();
    this.#subscriptions.delete(id);
    return true;
  }

  async #pump(
    id: string,
    kind: Subscription['kind'],
    frames: AsyncIterable<FeedFrame>,
    signal: AbortSignal,
  ): Promise<void> {
    const outbox = this.#outbox;
    if (outbox === undefined) return;
    const method = kind === 'watch' ? notifications.workflowChanged.method : notifications.eventPublished.method;
    let reason: string = SubscriptionEndReason.finished;
    try {
      for await (const frame of frames) {
        if (!outbox.send({ jsonrpc: '2.0', method, params: { subscription: id, frame } })) return;
        if (!(await outbox.whenWritable())) return;
      }
    } catch (error) {
      if (outbox.closed || signal.aborted) return;
      console.error('weft: a JSON-RPC subscription feed failed:', error);
      reason = SubscriptionEndReason.failed;
    }
    // Unsubscribed (or the socket closed): the client asked for the end and needs no notice.
    if (signal.aborted || !this.#subscriptions.delete(id)) return;
    outbox.send({
      jsonrpc: '2.0',
      method: notifications.subscriptionEnded.method,
      params: { subscription: id, reason },
    });
  }
}

function cursorOf(params: Record<string, unknown>): number | undefined {
  return typeof params['after'] === 'number' ? params['after'] : undefined;
}
