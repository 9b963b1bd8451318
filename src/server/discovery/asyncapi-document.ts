/**
 * The AsyncAPI 3.0 document of the real-time API, served at `GET /asyncapi.json`: the feed sockets
 * (`/watch`, `/stream`, `/events`) and the JSON-RPC session on `/api/jsonrpc`. Frames, subscription
 * methods, notifications, subprotocols and close codes come from protocol/realtime.ts, the methods a
 * session calls from the operation catalog, payload schemas from the same zod schemas the server
 * checks — so it is built like the OpenAPI and OpenRPC documents, and drifts no more than they do.
 *
 * The document describes the server: a `send` operation is what the server sends, a `receive`
 * operation what it accepts.
 *
 * Traps it avoids:
 * - Prose that drifts from the tables. The subprotocols and close codes are listed from
 *   protocol/realtime.ts, each explained in a table keyed by its names: a new close code without
 *   its explanation does not build.
 * - A document the parser refuses. AsyncAPI 3 operations name their messages through their channel
 *   (`#/channels/<channel>/messages/<message>`), and a security scheme of an API key sent as a
 *   header is `httpApiKey` (`apiKey` is the user/password kind); the test parses the document with
 *   `@asyncapi/parser`. Scopes have no field outside OAuth: each operation names its own in its
 *   description and in `x-weft-scope`.
 */
import type { z } from 'zod';
import { Scope, type OperationSpec } from '../../protocol/operation-spec.ts';
import { operations } from '../../protocol/operations.ts';
import {
  chunkFrame,
  CloseCode,
  eventFrame,
  MAX_EVENT_REPLAY,
  notifications,
  Subprotocol,
  subscribeEvents,
  subscribeWorkflow,
  subscriptionMethods,
  watchFrame,
} from '../../protocol/realtime.ts';
import { JSON_RPC_MAX_BATCH } from '../jsonrpc/limits.ts';
import { jsonSchemaOf, objectFields, type JsonSchema } from './json-schema.ts';
import { JSON_RPC_RESPONSE_SCHEMA } from './openapi-document.ts';

/** The AsyncAPI version the document declares. */
export const ASYNCAPI_VERSION = '3.0.0';

/** Where `servers` points when no request origin is known: `serve()`'s default address. */
const DEFAULT_ORIGIN = 'http://127.0.0.1:3000';

/**
 * What the server reads as a `resumeFrom` cursor: `-1`, or a plain decimal seq (no sign, padding,
 * leading zero, fraction or exponent) up to 2^53-1. The test holds it to `parseCursor`.
 */
export const RESUME_FROM_PATTERN = '^(?:-1|0|[1-9][0-9]{0,15})$';

const SUBPROTOCOL_TEXT: Readonly<Record<keyof typeof Subprotocol, string>> = {
  json: 'text frames of JSON (the default, also when no subprotocol is offered)',
  msgpack: 'binary frames of MessagePack, both ways',
  authPrefix:
    'the prefix of a credential offer: followed by an API key or bearer token in base64url without padding, for a client that cannot set headers (a browser); offered beside an encoding, never echoed',
};

const CLOSE_TEXT: Readonly<Record<keyof typeof CloseCode, string>> = {
  finished: "the feed is complete: the run ended (after a watch's terminal frame, a stream's last chunk)",
  goingAway: 'the server is stopping: reconnect with the last seq',
  messageTooBig: 'a client message over the size limit (maxMessageBytes)',
  internalError: 'the feed failed on the server: reconnect with the last seq',
  slowConsumer: 'the client read too slowly and its unsent frames passed the bound: reconnect with the last seq',
};

/** One ``- `value`: text`` line per key of `values`, in its order. */
function bullets<K extends string>(
  values: Readonly<Record<K, string | number>>,
  text: Readonly<Record<K, string>>,
): string {
  return (Object.keys(values) as K[]).map((key) => `- \`${values[key]}\`: ${text[key]}`).join('\n');
}

const ref = (...path: string[]): { $ref: string } => ({ $ref: `#/${path.join('/')}` });

const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      `An API key or a JWT as \`Authorization: Bearer <credential>\` (only when the server is configured with \`auth\`). ` +
      `A client that cannot set headers offers it as the subprotocol \`${Subprotocol.authPrefix}<base64url credential>\` ` +
      'instead: the server reads it as this header, and never echoes or logs it.',
  },
  apiKey: {
    type: 'httpApiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'An API key, when no `Authorization` header is sent',
  },
};

const SECURITY = [ref('components', 'securitySchemes', 'bearer'), ref('components', 'securitySchemes', 'apiKey')];

/**
 * The `servers` of the document: the WebSocket server at `origin` (`ws`, or `wss` behind
 * `https`), by default `ws://127.0.0.1:3000`.
 */
export function asyncApiServers(origin: string = DEFAULT_ORIGIN): Record<string, unknown> {
  const url = URL.parse(origin) ?? new URL(DEFAULT_ORIGIN);
  return {
    weft: {
      host: url.host,
      protocol: url.protocol === 'https:' ? 'wss' : 'ws',
      description: 'The Weft server (authentication applies only when it is configured with `auth`)',
      security: SECURITY,
    },
  };
}

/** The WebSocket binding of a channel: the upgrade is a GET, with `resumeFrom` on a feed. */
function wsBinding(resumeFrom?: string): Record<string, unknown> {
  return {
    ws: {
      method: 'GET',
      ...(resumeFrom === undefined
        ? {}
        : {
            query: {
              type: 'object',
              properties: { resumeFrom: { type: 'string', pattern: RESUME_FROM_PATTERN, description: resumeFrom } },
            },
          }),
      headers: {
        type: 'object',
        properties: {
          'Sec-WebSocket-Protocol': {
            type: 'string',
            description: `\`${Subprotocol.json}\` or \`${Subprotocol.msgpack}\` (the encoding), optionally with \`${Subprotocol.authPrefix}<base64url credential>\``,
          },
        },
      },
      bindingVersion: '0.1.0',
    },
  };
}

const RESUME_RUN =
  'The last seq the client has: frames after it follow. `-1` or omitted: from the first retained frame. ' +
  'A seq above the durable tail is clamped: the socket stays open for later frames. ' +
  'Anything but `-1` or a plain decimal is refused with 400 before the upgrade.';

const RESUME_EVENTS =
  `The last fleet seq the client has: the retained events after it are replayed (at most ${MAX_EVENT_REPLAY}; ` +
  'further behind is 400 `replay_window_too_large`: page through `GET /api/v1/events` first), then live ones. ' +
  'Omitted: live events only.';

const RUN_ID = { id: { description: 'Workflow id (an unknown run is 404 before the upgrade)' } };

function channels(): Record<string, unknown> {
  return {
    workflowWatch: {
      address: '/api/v1/workflows/{id}/watch',
      title: "A run's state changes",
      description:
        "One `watchFrame` per state change of the run, in order; after the run's terminal frame the server closes the socket with 1000.",
      parameters: RUN_ID,
      messages: { watchFrame: ref('components', 'messages', 'watchFrame') },
      bindings: wsBinding(RESUME_RUN),
    },
    workflowStream: {
      address: '/api/v1/workflows/{id}/stream',
      title: "A run's token stream",
      description:
        'One `chunkFrame` per `ctx.stream.write` / `actx.stream.write` of the run, in order; after the run ended and its last chunk was sent, the server closes the socket with 1000.',
      parameters: RUN_ID,
      messages: { chunkFrame: ref('components', 'messages', 'chunkFrame') },
      bindings: wsBinding(RESUME_RUN),
    },
    events: {
      address: '/api/v1/events',
      title: 'The fleet events',
      description:
        'One `eventFrame` per fleet event; the feed never ends by itself. A plain GET of this address is the REST list.',
      messages: { eventFrame: ref('components', 'messages', 'eventFrame') },
      bindings: wsBinding(RESUME_EVENTS),
    },
    jsonrpc: {
      address: '/api/jsonrpc',
      title: 'JSON-RPC 2.0 session',
      description:
        'Every method of `/openrpc.json` as over `POST /api/jsonrpc` (same params, errors, batches and notifications), ' +
        "in the socket's encoding, plus the subscription methods, whose frames arrive as notifications. " +
        'A message over the size limit closes the socket with 1009.',
      messages: Object.fromEntries(rpcMessageNames().map((name) => [name, ref('components', 'messages', name)])),
      bindings: wsBinding(),
    },
  };
}

const resultName = (method: string): string => `${method}.result`;

function rpcMessageNames(): string[] {
  return [
    'rpcCall',
    'rpcAnswer',
    ...subscriptionMethods.flatMap((method) => [method.name, resultName(method.name)]),
    ...Object.values(notifications).map((notification) => notification.method),
  ];
}

const RPC_ID = { type: ['string', 'number'], description: 'The call id; the answer carries it back' };
const CORRELATION = ref('components', 'correlationIds', 'rpcId');

/** A JSON-RPC message with `fields` beside `"jsonrpc": "2.0"`; `required` names the fields it must have. */
function rpcEnvelope(fields: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return {
    type: 'object',
    required: ['jsonrpc', ...required],
    properties: { jsonrpc: { const: '2.0' }, ...fields },
  };
}

function messages(): Record<string, unknown> {
  const frame = (name: string, summary: string, schema: z.ZodType) => ({
    name,
    title: name,
    summary,
    payload: jsonSchemaOf(schema, 'output', 'draft-07'),
  });
  const methodNames = [
    ...(operations as readonly OperationSpec[]).map((spec) => spec.name),
    'rpc.discover',
    ...subscriptionMethods.map((method) => method.name),
  ];
  const call = rpcEnvelope(
    {
      id: { type: ['string', 'number', 'null'], description: 'Absent for a notification, which is never answered' },
      method: { type: 'string', enum: methodNames },
      params: { type: 'object', description: "The method's params, by name (see /openrpc.json)" },
    },
    ['method'],
  );
  const entries: [string, unknown][] = [
    ['watchFrame', frame('watchFrame', 'One state change of a run', watchFrame)],
    ['chunkFrame', frame('chunkFrame', 'One token chunk of a run', chunkFrame)],
    ['eventFrame', frame('eventFrame', 'One fleet event', eventFrame)],
    [
      'rpcCall',
      {
        name: 'rpcCall',
        summary: `A JSON-RPC call or notification, or a batch of up to ${JSON_RPC_MAX_BATCH}`,
        payload: {
          oneOf: [call, { type: 'array', minItems: 1, maxItems: JSON_RPC_MAX_BATCH, items: call }],
        },
      },
    ],
    [
      'rpcAnswer',
      {
        name: 'rpcAnswer',
        summary: "The answer to a call, or a batch's answers in request order (notifications left out)",
        payload: {
          oneOf: [
            ref('components', 'schemas', 'JsonRpcResponse'),
            { type: 'array', items: ref('components', 'schemas', 'JsonRpcResponse') },
          ],
        },
      },
    ],
  ];
  for (const method of subscriptionMethods) {
    const params = jsonSchemaOf(method.params, 'input', 'draft-07');
    const paramsRequired = objectFields(params).required.length > 0 ? ['params'] : [];
    entries.push([
      method.name,
      {
        name: method.name,
        summary: method.summary,
        correlationId: CORRELATION,
        payload: rpcEnvelope({ id: RPC_ID, method: { const: method.name }, params }, [
          'id',
          'method',
          ...paramsRequired,
        ]),
      },
    ]);
    entries.push([
      resultName(method.name),
      {
        name: resultName(method.name),
        summary: `The answer to ${method.name}`,
        correlationId: CORRELATION,
        payload: rpcEnvelope({ id: RPC_ID, result: jsonSchemaOf(method.result, 'output', 'draft-07') }, [
          'id',
          'result',
        ]),
      },
    ]);
  }
  for (const notification of Object.values(notifications)) {
    entries.push([
      notification.method,
      {
        name: notification.method,
        summary: notification.summary,
        payload: rpcEnvelope(
          {
            method: { const: notification.method },
            params: jsonSchemaOf(notification.params, 'output', 'draft-07'),
          },
          ['method', 'params'],
        ),
      },
    ]);
  }
  return Object.fromEntries(entries);
}

/** The scope each feed needs: a run's changes and the fleet events as their subscriptions, a stream its own. */
const FEED_SCOPES = {
  workflowWatch: subscribeWorkflow.scope,
  workflowStream: Scope.streamsRead,
  events: subscribeEvents.scope,
} as const;

function guarded(scope: string): Record<string, unknown> {
  return { security: SECURITY, 'x-weft-scope': scope };
}

function operationsOf(): Record<string, unknown> {
  const channel = (name: string) => ref('channels', name);
  const message = (channelName: string, name: string) => ref('channels', channelName, 'messages', name);
  const feed = (channelName: keyof typeof FEED_SCOPES, messageName: string, summary: string) => ({
    action: 'send',
    channel: channel(channelName),
    summary,
    description: `Needs the scope \`${FEED_SCOPES[channelName]}\` (with \`auth\`).`,
    messages: [message(channelName, messageName)],
    ...guarded(FEED_SCOPES[channelName]),
  });
  const entries: [string, unknown][] = [
    ['sendWatchFrames', feed('workflowWatch', 'watchFrame', "Sends the run's state changes")],
    ['sendChunkFrames', feed('workflowStream', 'chunkFrame', "Sends the run's token chunks")],
    ['sendEventFrames', feed('events', 'eventFrame', 'Sends the fleet events')],
    [
      'receiveCalls',
      {
        action: 'receive',
        channel: channel('jsonrpc'),
        summary: 'Answers JSON-RPC calls',
        description:
          'Each call needs the scope of its method (`x-weft-scope` in /openapi.json) and counts against the rate limit, as over HTTP.',
        messages: [message('jsonrpc', 'rpcCall')],
        reply: { channel: channel('jsonrpc'), messages: [message('jsonrpc', 'rpcAnswer')] },
        security: SECURITY,
      },
    ],
  ];
  for (const method of subscriptionMethods) {
    entries.push([
      method.name,
      {
        action: 'receive',
        channel: channel('jsonrpc'),
        summary: method.summary,
        description: `Needs the scope \`${method.scope}\` (with \`auth\`). Only on this socket: over HTTP it fails with \`websocket_required\`.`,
        messages: [message('jsonrpc', method.name)],
        reply: {
          channel: channel('jsonrpc'),
          messages: [message('jsonrpc', resultName(method.name)), message('jsonrpc', 'rpcAnswer')],
        },
        ...guarded(method.scope),
      },
    ]);
  }
  for (const notification of Object.values(notifications)) {
    entries.push([
      notification.method,
      {
        action: 'send',
        channel: channel('jsonrpc'),
        summary: notification.summary,
        messages: [message('jsonrpc', notification.method)],
      },
    ]);
  }
  return Object.fromEntries(entries);
}

const DESCRIPTION =
  'The real-time API of a Weft server over WebSocket. This document describes the server: `send` is what it ' +
  'sends, `receive` what it accepts. Every `/api/v1/...` channel also answers under `/v1/...`.\n\n' +
  'Subprotocols (`Sec-WebSocket-Protocol`; the server echoes the encoding it chose):\n' +
  `${bullets(Subprotocol, SUBPROTOCOL_TEXT)}\n\n` +
  'Every frame carries its `seq`: reconnecting with the last one (`resumeFrom`, or `after` on a subscription) ' +
  'gives no gap and no duplicate, across a server restart too.\n\n' +
  'An upgrade is refused with an HTTP error body before it happens: 400 (a bad cursor), 401 and 403 ' +
  '(credential, scope; `origin_not_allowed` for an Origin `cors` does not allow, or `null`), 404 ' +
  '(`workflow_not_found`), 426 (`upgrade_required`: a plain GET), 429 (`rate_limited`, `too_many_connections`).\n\n' +
  `Close codes:\n${bullets(CloseCode, CLOSE_TEXT)}\n\n` +
  'The three feeds are also Server-Sent Events on a plain GET with `Accept: text/event-stream` ' +
  '(the event `id` is the seq; `Last-Event-ID` resumes).';

/** Builds the document (documents.ts caches it; with an origin, it replaces `servers`). */
export function buildAsyncApiDocument(version: string): Record<string, unknown> {
  return {
    asyncapi: ASYNCAPI_VERSION,
    info: { title: 'Weft real-time API', version, description: DESCRIPTION },
    defaultContentType: 'application/json',
    servers: asyncApiServers(),
    channels: channels(),
    operations: operationsOf(),
    components: {
      schemas: { JsonRpcResponse: JSON_RPC_RESPONSE_SCHEMA },
      messages: messages(),
      securitySchemes: SECURITY_SCHEMES,
      correlationIds: {
        rpcId: { description: 'A call and its answer share the JSON-RPC id', location: '$message.payload#/id' },
      },
    },
  };
}
