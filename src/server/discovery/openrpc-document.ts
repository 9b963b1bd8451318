/**
 * The OpenRPC 1.3.2 document of the JSON-RPC transport, built from the operation catalog: one
 * method per catalog entry, its input fields as by-name params, its output as the result, and the
 * JSON-RPC error codes it can answer with; then the subscription methods of protocol/realtime.ts,
 * which only a WebSocket session answers. OpenRPC has no notification object, so the notifications
 * those send are in `x-weft-notifications` (name, summary, params like a method's), and named in
 * `info.description`.
 *
 * `rpc.discover` itself is not listed: the OpenRPC specification defines it (the `rpc.` prefix is
 * reserved for JSON-RPC system extensions), and every server offering OpenRPC answers it.
 *
 * Trap it avoids: draft mismatch. OpenRPC schemas are JSON Schema draft-07 (its meta-schema says
 * so), unlike OpenAPI 3.1's 2020-12, so the schemas are generated for draft-07 here.
 */
import type { z } from 'zod';
import type { WorkflowDefinitionInfo } from '../../engine/workflow-definitions.ts';
import type { OperationSpec } from '../../protocol/operation-spec.ts';
import { operations, startWorkflow } from '../../protocol/operations.ts';
import { notifications, subscriptionMethods, type SubscriptionMethod } from '../../protocol/realtime.ts';
import { httpStatusOf, JsonRpcCode, jsonRpcCodeOf } from '../../protocol/wire-errors.ts';
import { jsonSchemaOf, objectFields } from './json-schema.ts';
import { tagOf } from './openapi-document.ts';
import { errorCodesOf, subscriptionErrorCodesOf } from './operation-errors.ts';
import { typedWorkflows, workflowsExtension } from './workflow-schemas.ts';

/** The OpenRPC version the document declares. */
export const OPENRPC_VERSION = '1.3.2';

/** What a JSON-RPC error code stands for, by the HTTP status of the Weft codes behind it. */
function errorLabel(code: number, status: number): string {
  if (code === JsonRpcCode.invalidParams) return 'Invalid params';
  if (code === JsonRpcCode.internalError) return 'Internal error';
  return `Server error (HTTP ${status})`;
}

/**
 * A method's errors, one per JSON-RPC code (OpenRPC wants them unique); `data` lists the Weft
 * codes a caller finds in `error.data.code` under it.
 */
function methodErrors(weftCodes: readonly string[]): unknown[] {
  const byCode = new Map<number, { status: number; codes: string[] }>();
  for (const weftCode of weftCodes) {
    const code = jsonRpcCodeOf(weftCode);
    const entry = byCode.get(code) ?? { status: httpStatusOf(weftCode), codes: [] };
    entry.codes.push(weftCode);
    byCode.set(code, entry);
  }
  return [...byCode]
    .sort(([a], [b]) => b - a)
    .map(([code, { status, codes }]) => ({ code, message: errorLabel(code, status), data: { status, codes } }));
}

/** The by-name params of an object schema, required ones first (OpenRPC wants every optional param last). */
function paramsOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown>[] {
  const { properties, required } = objectFields(jsonSchemaOf(schema, io, 'draft-07'));
  // OpenRPC: every optional param comes after every required one.
  const names = Object.keys(properties).sort((a, b) => Number(!required.includes(a)) - Number(!required.includes(b)));
  return names.map((name) => {
    const { description, ...schema } = properties[name] ?? {};
    return {
      name,
      ...(typeof description === 'string' ? { description } : {}),
      required: required.includes(name),
      schema,
    };
  });
}

function method(spec: OperationSpec): Record<string, unknown> {
  return {
    name: spec.name,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: [{ name: tagOf(spec) }],
    paramStructure: 'by-name',
    params: paramsOf(spec.input, 'input'),
    result: { name: 'result', schema: jsonSchemaOf(spec.output, 'output', 'draft-07') },
    errors: methodErrors(errorCodesOf(spec, 'jsonrpc')),
  };
}

const WEBSOCKET_ONLY =
  'Only on a WebSocket session (`/api/jsonrpc` upgraded, see /asyncapi.json); over HTTP it fails with `websocket_required`.';

function subscriptionMethod(spec: SubscriptionMethod): Record<string, unknown> {
  return {
    name: spec.name,
    summary: spec.summary,
    description: WEBSOCKET_ONLY,
    tags: [{ name: tagOf(spec) }],
    paramStructure: 'by-name',
    params: paramsOf(spec.params, 'input'),
    result: { name: 'result', schema: jsonSchemaOf(spec.result, 'output', 'draft-07') },
    errors: methodErrors(subscriptionErrorCodesOf(spec)),
  };
}

/** The notifications a WebSocket session sends, shaped like methods (OpenRPC has no object for them). */
function notificationList(): Record<string, unknown>[] {
  return Object.values(notifications).map((notification) => ({
    name: notification.method,
    summary: notification.summary,
    paramStructure: 'by-name',
    params: paramsOf(notification.params, 'output'),
  }));
}

/**
 * The `servers` of the document: `origin`'s JSON-RPC endpoint, or, not knowing the origin, a URL
 * template over the host (the meta-schema wants an absolute URL; the specification would allow a
 * relative one).
 */
export function openRpcServers(origin?: string): Record<string, unknown>[] {
  if (origin !== undefined) return [{ name: 'JSON-RPC', url: `${origin}/api/jsonrpc` }];
  return ['http', 'https'].map((scheme) => ({
    name: `JSON-RPC over ${scheme.toUpperCase()}`,
    url: `${scheme}://{host}/api/jsonrpc`,
    variables: { host: { default: 'localhost:3000', description: 'Host and port of the Weft server' } },
  }));
}

/** What the start method's description adds when workflows declare input schemas. */
const TYPED_START =
  ' The workflows that declare an input schema are listed in the root `x-weft-workflows` with their input and ' +
  'output JSON Schemas (2020-12): `input` must match the schema of the workflow named by `type`, else the call ' +
  'fails with `invalid_input`.';

/**
 * Builds the document (documents.ts caches it; with an origin, it replaces `servers`). With
 * `workflows` (an engine's `listWorkflowDefinitions()`), those that declare an input schema are
 * listed in `x-weft-workflows` (see workflow-schemas.ts).
 */
export function buildOpenRpcDocument(
  version: string,
  workflows: readonly WorkflowDefinitionInfo[] = [],
): Record<string, unknown> {
  const typed = typedWorkflows(workflows);
  const catalogMethods = (operations as readonly OperationSpec[]).map((spec) => {
    const described = method(spec);
    if (typed.length === 0 || spec.name !== startWorkflow.name) return described;
    return {
      ...described,
      description: `${(described['description'] as string | undefined) ?? ''}${TYPED_START}`.trim(),
    };
  });
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'Weft',
      version,
      description:
        'The JSON-RPC 2.0 methods of a Weft server: the same operations as the REST API, with the ' +
        'same validation. Params are by name. Errors carry the Weft error code in ' +
        '`error.data = { code, status, details? }`. `rpc.discover` returns this document. ' +
        'The subscription methods work only on a WebSocket session; it then sends the notifications ' +
        `${Object.values(notifications)
          .map((notification) => `\`${notification.method}\``)
          .join(', ')} (their params are in \`x-weft-notifications\`).`,
    },
    servers: openRpcServers(),
    methods: [...catalogMethods, ...subscriptionMethods.map(subscriptionMethod)],
    'x-weft-notifications': notificationList(),
    ...(typed.length === 0 ? {} : { 'x-weft-workflows': workflowsExtension(typed) }),
  };
}
