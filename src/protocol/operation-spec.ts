/**
 * The shape of one catalog operation as the wire sees it: its JSON-RPC name, the scope it needs,
 * its REST binding and its input and output schemas. Server and client share these specs — the
 * server binds a handler to each, the client calls them — so a route, a method name or a field is
 * declared exactly once.
 *
 * Trap it avoids: transports drifting apart. REST routes, JSON-RPC methods and the OpenAPI and
 * OpenRPC documents are all derived from the same spec, with the same validation.
 */
import type { z } from 'zod';

/** The scopes an operation can require (see docs/security.md once authentication lands). */
export const Scope = {
  workflowsRead: 'workflows:read',
  workflowsWrite: 'workflows:write',
  workflowsAdmin: 'workflows:admin',
  eventsRead: 'events:read',
  streamsRead: 'streams:read',
  systemRead: 'system:read',
  systemAdmin: 'system:admin',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** How an operation is reached over REST. */
export interface RestBinding {
  method: HttpMethod;
  /** Path under `/api/v1` (also answered under `/v1`), with `:name` parameters, e.g. `/workflows/:id/cancel`. */
  path: string;
  /**
   * Where the input comes from besides the path parameters: the request body (JSON or MessagePack),
   * the query string, or nothing.
   */
  from: 'body' | 'query' | 'none';
  /** Status of a successful response (default 200). 204 responses have no body. */
  status?: 200 | 201 | 204;
}

/**
 * One operation. `input` validates the merged parameters (path parameters plus body or query
 * fields, already turned into their typed form by the transport); `output` describes the result.
 */
export interface OperationSpec<
  I extends z.ZodType = z.ZodType,
  O extends z.ZodType = z.ZodType,
  N extends string = string,
> {
  /** JSON-RPC method name, e.g. `weft.workflows.start`. */
  name: N;
  summary: string;
  description?: string;
  /** The scope a caller needs; `null` for public operations (health). */
  scope: Scope | null;
  rest: RestBinding;
  input: I;
  output: O;
}

/** The TypeScript input and output types of a spec. */
export type OperationInput<S extends OperationSpec> = z.input<S['input']>;
export type OperationOutput<S extends OperationSpec> = z.output<S['output']>;

export function defineOperation<I extends z.ZodType, O extends z.ZodType, N extends string>(
  spec: OperationSpec<I, O, N>,
): OperationSpec<I, O, N> {
  return spec;
}
