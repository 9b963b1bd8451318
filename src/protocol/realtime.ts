/**
 * The real-time half of the wire, as data: the frames of the three feeds (a run's watch, a run's
 * token stream, the fleet events), the JSON-RPC subscription methods and the notifications they
 * send, the WebSocket subprotocols and the close codes. The server, the client, the OpenRPC and
 * AsyncAPI documents all read them from here (docs/realtime.md explains them for people).
 *
 * Every frame carries its `seq`: the cursor a client hands back (`resumeFrom`, `Last-Event-ID`,
 * `after`) to continue exactly after it — no gap, no duplicate, across reconnects and restarts.
 */
import { z } from 'zod';
import { Scope } from './operation-spec.ts';

const STATUSES = ['pending', 'running', 'suspended', 'completed', 'failed', 'cancelled', 'timed_out'] as const;
const isoDate = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time');
const seq = z.number().int().min(1).describe("The frame's cursor: resume after it with this value");
/** A cursor a client sends: `-1` (before everything retained) or a seq it has seen. */
const cursor = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER);
const workflowId = z.string().min(1).max(256).describe('Workflow id');
const subscription = z.string().describe('The subscription id the subscribe call answered');

/** One state change of a run (`/watch`, `weft.workflows.changed`). */
export const watchFrame = z.object({
  seq,
  type: z.string().describe('The event that changed the state, e.g. `workflow:suspended`'),
  status: z.enum(STATUSES).describe("The run's status after the change"),
  timestamp: isoDate,
  data: z.record(z.string(), z.unknown()),
});

/** One token chunk of a run (`/stream`): what `ctx.stream.write` or `actx.stream.write` wrote. */
export const chunkFrame = z.object({
  seq,
  data: z.unknown().describe('The chunk as written'),
  timestamp: isoDate,
});

/** One fleet event (`GET /events` as SSE, `weft.events.published`). */
export const eventFrame = z.object({
  seq,
  type: z.string(),
  workflowId: z.string().nullable(),
  timestamp: isoDate,
  data: z.record(z.string(), z.unknown()),
});

export type WatchFrame = z.infer<typeof watchFrame>;
export type ChunkFrame = z.infer<typeof chunkFrame>;
export type EventFrame = z.infer<typeof eventFrame>;

/**
 * Most retained fleet events a subscription may replay from its cursor. A subscriber further
 * behind pages through `GET /events` (or `weft.events.list`) first, then subscribes from there.
 */
export const MAX_EVENT_REPLAY = 1000;

/** WebSocket subprotocols: the frame encoding (the server echoes the one it chose) and the credential carrier. */
export const Subprotocol = {
  /** Text frames of JSON (the default, also when no subprotocol is offered). */
  json: 'weft.json.v1',
  /** Binary frames of MessagePack, both ways. */
  msgpack: 'weft.msgpack.v1',
  /**
   * Prefix of the credential offer for clients that cannot set headers (browsers): `weft.auth.`
   * followed by the API key or bearer token in base64url without padding. Offer it beside
   * `weft.json.v1` or `weft.msgpack.v1`: the server never echoes it.
   */
  authPrefix: 'weft.auth.',
} as const;

/** Close codes the server sends (1000–1011 from RFC 6455, 4000–4999 Weft's own). */
export const CloseCode = {
  /** The feed is complete: the run ended (watch after its terminal frame, stream after its last chunk). */
  finished: 1000,
  /** The server is stopping; reconnect (with the last `seq`) to another or the restarted one. */
  goingAway: 1001,
  /** A client message over `maxMessageBytes` (Bun closes the socket itself). */
  messageTooBig: 1009,
  /** The feed failed on the server (a storage error); reconnect with the last `seq`. */
  internalError: 1011,
  /** The client read too slowly: its unsent frames passed the bound. Reconnect with the last `seq`. */
  slowConsumer: 4008,
} as const;

/** Why a JSON-RPC subscription ended (`weft.subscription.ended`). */
export const SubscriptionEndReason = {
  /** The run ended: its terminal change was the last notification. */
  finished: 'finished',
  /** The feed failed on the server; subscribe again with `after` = the last `seq` seen. */
  failed: 'failed',
} as const;

/** The JSON-RPC methods only a WebSocket session answers (over HTTP they fail with `websocket_required`). */
export const subscribeWorkflow = {
  name: 'weft.workflows.subscribe',
  summary: "A run's state changes as `weft.workflows.changed` notifications, from `after` on",
  scope: Scope.eventsRead,
  params: z.object({
    id: workflowId,
    after: cursor.optional().describe('Last seq already seen; default -1 (every retained change)'),
  }),
  result: z.object({ subscription }),
} as const;

export const unsubscribeWorkflow = {
  name: 'weft.workflows.unsubscribe',
  summary: 'Ends a subscription made with weft.workflows.subscribe',
  scope: Scope.eventsRead,
  params: z.object({ subscription }),
  result: z.object({ unsubscribed: z.boolean().describe('False when no such subscription was open') }),
} as const;

export const subscribeEvents = {
  name: 'weft.events.subscribe',
  summary: 'Fleet events as `weft.events.published` notifications, live or from a cursor',
  scope: Scope.eventsRead,
  params: z.object({
    after: cursor
      .optional()
      .describe(
        `Last fleet seq already seen: replays what follows (at most ${MAX_EVENT_REPLAY} retained events). Omitted: live events only`,
      ),
  }),
  result: z.object({ subscription }),
} as const;

export const unsubscribeEvents = {
  name: 'weft.events.unsubscribe',
  summary: 'Ends a subscription made with weft.events.subscribe',
  scope: Scope.eventsRead,
  params: z.object({ subscription }),
  result: z.object({ unsubscribed: z.boolean().describe('False when no such subscription was open') }),
} as const;

/** The subscription methods, in the order the documents list them. */
export const subscriptionMethods = [
  subscribeWorkflow,
  unsubscribeWorkflow,
  subscribeEvents,
  unsubscribeEvents,
] as const;
export type SubscriptionMethod = (typeof subscriptionMethods)[number];

/** The notifications a WebSocket JSON-RPC session sends. */
export const notifications = {
  workflowChanged: {
    method: 'weft.workflows.changed',
    summary: 'A state change of a run subscribed with weft.workflows.subscribe',
    params: z.object({ subscription, frame: watchFrame }),
  },
  eventPublished: {
    method: 'weft.events.published',
    summary: 'A fleet event of a weft.events.subscribe subscription',
    params: z.object({ subscription, frame: eventFrame }),
  },
  subscriptionEnded: {
    method: 'weft.subscription.ended',
    summary: 'No more notifications follow for this subscription',
    params: z.object({
      subscription,
      reason: z.enum([SubscriptionEndReason.finished, SubscriptionEndReason.failed]),
    }),
  },
} as const;
