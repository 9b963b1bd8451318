/**
 * Which error codes each catalog operation can answer with, for the discovery documents: the
 * OpenAPI document turns them into response statuses, the OpenRPC document into JSON-RPC error
 * codes, both through the one table in protocol/wire-errors.ts.
 *
 * Trap it avoids: an operation added without its errors. The table is keyed by every catalog
 * name, so a new operation is a compile error here until its errors are listed.
 */
import type { OperationSpec } from '../../protocol/operation-spec.ts';
import type { CatalogOperation } from '../../protocol/operations.ts';
import type { SubscriptionMethod } from '../../protocol/realtime.ts';

/** What the handler of each operation raises itself (from the engine or the server layer). */
const RAISED_BY: { readonly [K in CatalogOperation['name']]: readonly string[] } = {
  'weft.system.health': [],
  'weft.workflows.start': [
    'engine_closed',
    'workflow_type_not_registered',
    'invalid_argument',
    'invalid_duration',
    // The workflow's declared input schema refused the input (nothing stored).
    'invalid_input',
    'payload_not_serializable',
    'workflow_already_exists',
    'payload_too_large',
    // Back-pressure (catalog.ts SHED_WHEN_OVERLOADED), with Retry-After.
    'overloaded',
  ],
  // A read over the storage's budget (SQLite's read worker), with Retry-After.
  'weft.workflows.list': ['invalid_argument', 'invalid_cursor', 'read_timeout'],
  'weft.workflows.aggregate': ['invalid_argument', 'read_timeout'],
  'weft.workflows.get': ['workflow_not_found'],
  'weft.workflows.result': [
    'workflow_not_found',
    'result_timeout',
    'workflow_failed',
    'workflow_cancelled',
    'workflow_timed_out',
  ],
  'weft.workflows.delete': ['engine_closed', 'workflow_not_found'],
  'weft.workflows.cancel': ['engine_closed', 'workflow_not_found', 'workflow_not_running'],
  'weft.workflows.signal': [
    'engine_closed',
    'invalid_argument',
    'invalid_input',
    'payload_not_serializable',
    'workflow_not_found',
    'workflow_not_running',
    'payload_too_large',
  ],
  'weft.workflows.update': [
    'engine_closed',
    'invalid_argument',
    'invalid_duration',
    'invalid_input',
    'payload_not_serializable',
    'workflow_not_found',
    'workflow_not_running',
    'payload_too_large',
    'update_failed',
    'update_not_handled',
  ],
  'weft.updates.get': ['update_not_found'],
  'weft.workflows.getAttributes': ['workflow_not_found'],
  'weft.workflows.setAttributes': ['engine_closed', 'invalid_argument', 'workflow_not_found'],
  'weft.workflows.query': [
    'engine_closed',
    'invalid_argument',
    'payload_not_serializable',
    'workflow_not_found',
    'workflow_not_running',
    'query_not_handled',
  ],
  'weft.events.list': ['read_timeout'],
};

/**
 * What each subscription method raises itself, besides `websocket_required` over HTTP: the feed it
 * opens (an unknown run, a fleet cursor too far behind) and the socket's subscription bound.
 */
const RAISED_BY_SUBSCRIPTION: { readonly [K in SubscriptionMethod['name']]: readonly string[] } = {
  'weft.workflows.subscribe': ['workflow_not_found', 'too_many_subscriptions'],
  'weft.workflows.unsubscribe': [],
  'weft.events.subscribe': ['replay_window_too_large', 'too_many_subscriptions'],
  'weft.events.unsubscribe': [],
};

/** Read a body (REST): malformed, too large, or in a format other than JSON and MessagePack. */
const BODY_ERRORS = ['bad_request', 'request_too_large', 'unsupported_media_type'] as const;

/** Turned away by the security layer: no or a bad credential, a missing scope, over the rate limit. */
const SECURITY_ERRORS = ['unauthenticated', 'forbidden', 'rate_limited'] as const;

/**
 * Every error code `spec` can answer with over `transport`: invalid parameters (over REST on every
 * route, since an unknown query parameter is refused even where none is taken), the body errors of
 * a REST body, its own, the security layer's for a non-public operation, and `internal`.
 */
export function errorCodesOf(spec: OperationSpec, transport: 'rest' | 'jsonrpc'): string[] {
  const codes = new Set<string>(['invalid_params']);
  if (transport === 'rest' && spec.rest.from === 'body') for (const code of BODY_ERRORS) codes.add(code);
  for (const code of RAISED_BY[spec.name as CatalogOperation['name']] ?? []) codes.add(code);
  // The security layer's answers, on a server configured with `auth` / `rateLimit`.
  if (spec.scope !== null) for (const code of SECURITY_ERRORS) codes.add(code);
  codes.add('internal');
  return [...codes];
}

/** Every error code a subscription method can answer with (it exists over JSON-RPC only). */
export function subscriptionErrorCodesOf(method: SubscriptionMethod): string[] {
  return [
    'invalid_params',
    'websocket_required',
    ...RAISED_BY_SUBSCRIPTION[method.name],
    ...SECURITY_ERRORS,
    'internal',
  ];
}

/**
 * The operations that can answer "accepted, still pending" (REST 202): an update that outlived
 * its `timeout`, and an update asked for while it runs.
 */
export const MAY_BE_PENDING: ReadonlySet<string> = new Set<CatalogOperation['name']>([
  'weft.workflows.update',
  'weft.updates.get',
]);
