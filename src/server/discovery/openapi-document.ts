/**
 * The OpenAPI 3.1 document of the REST API, built from the operation catalog: one operation per
 * catalog entry under `/api/v1` (its `operationId` is the JSON-RPC name), plus the routes outside
 * the catalog — health and metrics under `/v1`, the discovery documents and `POST /api/jsonrpc`.
 *
 * Trap it avoids: a reference that drifts from the server. Paths, parameters, bodies and success
 * statuses come from each spec's REST binding and zod schemas; error statuses from the same code →
 * status table the server answers with.
 */
import type { WorkflowDefinitionInfo } from '../../engine/workflow-definitions.ts';
import type { OperationSpec } from '../../protocol/operation-spec.ts';
import { health, operations, startWorkflow } from '../../protocol/operations.ts';
import { httpStatusOf, WIRE_ERROR_CODES } from '../../protocol/wire-errors.ts';
import { JSON_RPC_MAX_BATCH } from '../jsonrpc/limits.ts';
import { jsonSchemaOf, objectFields, type JsonSchema } from './json-schema.ts';
import { errorCodesOf, MAY_BE_PENDING } from './operation-errors.ts';
import { typedStartBody, typedWorkflows } from './workflow-schemas.ts';

/** The OpenAPI version the document declares. */
export const OPENAPI_VERSION = '3.1.1';

const MEDIA_TYPES = ['application/json', 'application/msgpack'] as const;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const TAGS = [
  { name: 'workflows', description: 'Start, inspect, signal, update, query, cancel and delete workflow runs' },
  { name: 'updates', description: 'Results of updates sent to runs' },
  { name: 'events', description: 'The fleet event log' },
  { name: 'system', description: 'Health and metrics' },
  { name: 'discovery', description: 'The OpenAPI, OpenRPC and AsyncAPI documents' },
  { name: 'jsonrpc', description: 'The same operations over JSON-RPC 2.0' },
];

/**
 * The filter on search attributes, which the query string spells `attribute.<name>=<value>`: a
 * family of parameter names, declared as OpenAPI declares free-form query parameters — one object
 * parameter, `style: form` and `explode: true`, whose property names are the parameter names.
 */
const ATTRIBUTE_FILTER =
  'Filter on search attributes with one `attribute.<name>=<value>` query parameter per attribute ' +
  '(for example `attribute.region=eu&attribute.priority=5`); a run matches when every named ' +
  'attribute equals its value. `true` and `false` are booleans, a canonical decimal is a number, ' +
  'a JSON-quoted value (`attribute.code="5"`) is a string, anything else is the text as given.';

/**
 * An attribute value as the query string carries it (query-input.ts reads it): at most 1,024
 * characters, and a value that starts and ends with `"` is a JSON string without lone surrogates.
 */
const ATTRIBUTE_QUERY_VALUE: JsonSchema = {
  type: 'string',
  maxLength: 1024,
  pattern: String.raw`^(?:(?!")[\s\S]*|"|"[\s\S]*[^"]|"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u(?![dD][89a-fA-F])[0-9a-fA-F]{4}|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})*")$`,
};

/**
 * The `attribute.<name>` family as one parameter: names as the filter's `attributes` schema allows
 * them (its `propertyNames`), as many as it allows (`maxProperties`).
 */
function attributeFilterParameter(attributes: JsonSchema): Record<string, unknown> {
  const names = attributes['propertyNames'] as JsonSchema | undefined;
  const namePattern = typeof names?.['pattern'] === 'string' ? names['pattern'].replace(/^\^/, '') : '.+$';
  const maxProperties = attributes['maxProperties'];
  return {
    name: 'attribute',
    in: 'query',
    required: false,
    description: ATTRIBUTE_FILTER,
    style: 'form',
    explode: true,
    schema: {
      type: 'object',
      propertyNames: { pattern: `^attribute\\.${namePattern}` },
      additionalProperties: ATTRIBUTE_QUERY_VALUE,
      ...(typeof maxProperties === 'number' ? { maxProperties } : {}),
    },
  };
}

/** Where a document's `servers` points: `origin`, or the server that served it. */
export function openApiServers(origin?: string): Record<string, unknown>[] {
  return [
    origin === undefined
      ? { url: '/', description: 'The server that serves this document' }
      : { url: origin, description: 'The server that served this document' },
  ];
}

/** The tag of an operation: the middle of its name (`weft.workflows.start` → `workflows`). */
export function tagOf(spec: Pick<OperationSpec, 'name'>): string {
  return spec.name.split('.')[1] ?? 'system';
}

/** The query parameter name of an input field: the REST transport takes snake_case (`idPrefix` → `id_prefix`). */
export function queryNameOf(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `/workflows/:id/signal/:name` → `/api/v1/workflows/{id}/signal/{name}`, and the parameter names. */
function restPath(spec: OperationSpec): { path: string; params: string[] } {
  const params: string[] = [];
  const path = spec.rest.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: `/api/v1${path}`, params };
}

function content(schema: JsonSchema): Record<string, { schema: JsonSchema }> {
  return Object.fromEntries(MEDIA_TYPES.map((type) => [type, { schema }]));
}

const ERROR_BODY = { $ref: '#/components/schemas/Error' };

/** One response per error status the operation can produce, naming the codes behind it. */
function errorResponses(spec: OperationSpec): Record<string, unknown> {
  const byStatus = new Map<number, string[]>();
  for (const code of errorCodesOf(spec, 'rest')) {
    const status = httpStatusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const sorted = [...byStatus].sort(([a], [b]) => a - b);
  return Object.fromEntries(
    sorted.map(([status, codes]) => [
      String(status),
      {
        description: `${STATUS_TEXT[status] ?? 'Error'}: ${codes.join(', ')}`,
        content: content(ERROR_BODY),
        'x-weft-error-codes': codes,
      },
    ]),
  );
}

function parameter(name: string, location: 'path' | 'query', schema: JsonSchema, required: boolean) {
  const { description, ...rest } = schema;
  const isArray = rest['type'] === 'array';
  return {
    name,
    in: location,
    required,
    ...(typeof description === 'string' ? { description } : {}),
    ...(isArray ? { style: 'form', explode: true } : {}),
    schema: rest,
  };
}

/**
 * A query field's schema as the query string carries it: a "one or many" union is its array
 * branch (a repeated parameter), anything else as it is.
 */
function queryFieldSchema(schema: JsonSchema): JsonSchema {
  const branches = schema['anyOf'];
  if (Array.isArray(branches)) {
    const array = (branches as JsonSchema[]).find((branch) => branch['type'] === 'array');
    if (array !== undefined) {
      return typeof schema['description'] === 'string' ? { ...array, description: schema['description'] } : array;
    }
  }
  return schema;
}

function catalogOperation(spec: OperationSpec, pathParams: string[]): Record<string, unknown> {
  const input = jsonSchemaOf(spec.input, 'input', 'draft-2020-12');
  const { properties, required } = objectFields(input);
  const parameters: unknown[] = pathParams.map((name) =>
    parameter(name, 'path', properties[name] ?? { type: 'string' }, true),
  );
  const description = spec.description;

  const rest = Object.entries(properties).filter(([name]) => !pathParams.includes(name));
  if (spec.rest.from === 'query') {
    for (const [name, schema] of rest) {
      parameters.push(
        name === 'attributes'
          ? attributeFilterParameter(schema)
          : parameter(queryNameOf(name), 'query', queryFieldSchema(schema), required.includes(name)),
      );
    }
  }

  let requestBody: Record<string, unknown> | undefined;
  if (spec.rest.from === 'body') {
    const bodyRequired = required.filter((name) => !pathParams.includes(name));
    const body: JsonSchema = {
      type: 'object',
      properties: Object.fromEntries(rest),
      ...(bodyRequired.length > 0 ? { required: bodyRequired } : {}),
    };
    requestBody = { required: bodyRequired.length > 0, content: content(body) };
  }

  const status = spec.rest.status ?? 200;
  const output = jsonSchemaOf(spec.output, 'output', 'draft-2020-12');
  const success =
    status === 204
      ? { description: STATUS_TEXT[204] }
      : { description: STATUS_TEXT[status] ?? 'OK', content: content(output) };
  const responses: Record<string, unknown> = { [String(status)]: success };
  if (MAY_BE_PENDING.has(spec.name)) {
    responses['202'] = { description: 'Accepted: the update is still running', content: content(output) };
  }
  Object.assign(responses, errorResponses(spec));

  return {
    operationId: spec.name,
    summary: spec.summary,
    ...(description === undefined ? {} : { description }),
    tags: [tagOf(spec)],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody === undefined ? {} : { requestBody }),
    responses,
    // Either credential form, holding the operation's scope (OpenAPI 3.1 lets non-OAuth schemes list roles).
    security: spec.scope === null ? [] : [{ bearer: [spec.scope] }, { apiKey: [spec.scope] }],
    'x-weft-scope': spec.scope,
  };
}

function catalogPaths(): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of operations as readonly OperationSpec[]) {
    const { path, params } = restPath(spec);
    (paths[path] ??= {})[spec.rest.method.toLowerCase()] = catalogOperation(spec, params);
  }
  return paths;
}

/**
 * The real-time feeds of a run as Server-Sent Events (their WebSocket form is in the AsyncAPI
 * document): `GET` with `Accept: text/event-stream`; a plain `GET` is 426.
 */
function feedPaths(): Record<string, Record<string, unknown>> {
  const error = (description: string, codes: string[]) => ({
    description,
    content: content(ERROR_BODY),
    'x-weft-error-codes': codes,
  });
  const feed = (name: 'watch' | 'stream', scope: string, summary: string) => ({
    get: {
      operationId: `${name}Feed`,
      summary,
      description:
        "Server-Sent Events with `Accept: text/event-stream`: one event per frame, its `id` the frame's `seq`, then `event: end` when the run has ended. The same path upgrades to a WebSocket (see /asyncapi.json). docs/realtime.md has the frames and limits.",
      tags: ['realtime'],
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 } },
        {
          name: 'resumeFrom',
          in: 'query',
          required: false,
          description:
            'The last seq the client has: -1, or a non-negative decimal integer. Omitted: from the first retained frame.',
          schema: { type: 'string', pattern: '^(?:-1|0|[1-9][0-9]{0,15})$' },
        },
        {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description: "An SSE reconnect's last seen seq; wins over resumeFrom.",
          schema: { type: 'string', pattern: '^(?:-1|0|[1-9][0-9]{0,15})$' },
        },
      ],
      responses: {
        '200': {
          description: 'The feed as an event stream',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        '400': error('A malformed resumeFrom or Last-Event-ID', ['bad_request']),
        '401': error('Authentication required', ['unauthenticated']),
        '403': error(`The caller lacks ${scope}, or the host is not answered`, ['forbidden', 'host_not_allowed']),
        '404': error('No such run', ['workflow_not_found']),
        '426': error('Neither a WebSocket upgrade nor Accept: text/event-stream', ['upgrade_required']),
        '429': error('Over the rate limit, or too many real-time connections', [
          'rate_limited',
          'too_many_connections',
        ]),
      },
      security: [{ bearer: [scope] }, { apiKey: [scope] }],
      'x-weft-scope': scope,
    },
  });
  return {
    '/api/v1/workflows/{id}/watch': feed('watch', 'events:read', "A run's state changes, live (SSE)"),
    '/api/v1/workflows/{id}/stream': feed('stream', 'streams:read', "A run's token chunks, live (SSE)"),
  };
}

/** The routes that are not catalog operations. */
function fixedPaths(): Record<string, Record<string, unknown>> {
  const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
  return {
    '/v1/health': {
      get: {
        operationId: 'health',
        summary: 'Liveness check (the same as GET /api/v1/health)',
        tags: ['system'],
        responses: catalogOperation(health, [])['responses'],
      },
    },
    '/v1/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Metrics in the Prometheus text exposition format',
        tags: ['system'],
        responses: {
          '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApiDocument',
        summary: 'This OpenAPI 3.1 document',
        tags: ['discovery'],
        responses: { '200': { description: 'OK', content: json({ type: 'object' }) } },
      },
    },
    '/openrpc.json': {
      get: {
        operationId: 'openRpcDocument',
        summary: 'The OpenRPC 1.3.2 document of the JSON-RPC methods (also returned by `rpc.discover`)',
        tags: ['discovery'],
        responses: { '200': { description: 'OK', content: json({ type: 'object' }) } },
      },
    },
    '/asyncapi.json': {
      get: {
        operationId: 'asyncApiDocument',
        summary: 'The AsyncAPI 3.0 document of the WebSocket channels (feeds and the JSON-RPC session)',
        tags: ['discovery'],
        responses: { '200': { description: 'OK', content: json({ type: 'object' }) } },
      },
    },
    '/api/jsonrpc': {
      post: {
        operationId: 'jsonRpc',
        summary: `JSON-RPC 2.0: one call or a batch of up to ${JSON_RPC_MAX_BATCH}`,
        description:
          "Every catalog operation is a method named as this document's operationIds, with its input as by-name params; `rpc.discover` returns the document at /openrpc.json. JSON-RPC errors travel in a 200 response body with `error.data = { code, status, details? }`.",
        tags: ['jsonrpc'],
        requestBody: {
          required: true,
          content: content({
            oneOf: [
              { $ref: '#/components/schemas/JsonRpcRequest' },
              {
                type: 'array',
                minItems: 1,
                maxItems: JSON_RPC_MAX_BATCH,
                items: { $ref: '#/components/schemas/JsonRpcRequest' },
              },
            ],
          }),
        },
        responses: {
          '200': {
            description: 'The response, or the responses of a batch in request order (notifications omitted)',
            content: content({
              oneOf: [
                { $ref: '#/components/schemas/JsonRpcResponse' },
                { type: 'array', items: { $ref: '#/components/schemas/JsonRpcResponse' } },
              ],
            }),
          },
          '204': { description: 'Only notifications: nothing to answer' },
          '400': {
            description: 'Parse error: the body is not JSON or MessagePack (a -32700 response with id null)',
            content: content({ $ref: '#/components/schemas/JsonRpcResponse' }),
          },
          '413': { description: 'Content Too Large: request_too_large', content: content(ERROR_BODY) },
          '415': { description: 'Unsupported Media Type: unsupported_media_type', content: content(ERROR_BODY) },
        },
      },
    },
  };
}

/**
 * A JSON-RPC response (`result` or `error`, whose `data` carries the Weft code), in keywords that
 * mean the same in JSON Schema 2020-12 and draft-07: the AsyncAPI document uses it too.
 */
export const JSON_RPC_RESPONSE_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['jsonrpc', 'id'],
  properties: {
    jsonrpc: { const: '2.0' },
    id: { type: ['string', 'number', 'null'] },
    result: {},
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'integer' },
        message: { type: 'string' },
        data: {
          type: 'object',
          required: ['code', 'status'],
          properties: {
            code: { type: 'string', enum: WIRE_ERROR_CODES },
            status: { type: 'integer' },
            details: { type: 'object', additionalProperties: true },
          },
        },
      },
    },
  },
  oneOf: [{ required: ['result'] }, { required: ['error'] }],
};

const COMPONENT_SCHEMAS = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: {
            type: 'string',
            enum: WIRE_ERROR_CODES,
            description:
              'Stable error code, e.g. `workflow_not_found` (each response lists its own in `x-weft-error-codes`)',
          },
          message: { type: 'string' },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
  JsonRpcRequest: {
    type: 'object',
    required: ['jsonrpc', 'method'],
    properties: {
      jsonrpc: { const: '2.0' },
      method: { type: 'string', description: 'A catalog operation name, or `rpc.discover`' },
      params: { type: 'object', description: 'The operation input, by name' },
      id: { type: ['string', 'number', 'null'], description: 'Absent for a notification' },
    },
  },
  JsonRpcResponse: JSON_RPC_RESPONSE_SCHEMA,
};

/** The credentials `serve({ auth })` reads; the scope an operation needs is in its `security` and `x-weft-scope`. */
const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key or a JWT as `Authorization: Bearer <credential>` (only when the server is configured with `auth`)',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'An API key, when no `Authorization` header is sent',
  },
};

/**
 * Builds the document (documents.ts caches it). With `workflows` (an engine's
 * `listWorkflowDefinitions()`), the start body is typed per workflow that declares an input schema
 * (see workflow-schemas.ts).
 */
export function buildOpenApiDocument(
  version: string,
  workflows: readonly WorkflowDefinitionInfo[] = [],
): Record<string, unknown> {
  const paths = { ...catalogPaths(), ...feedPaths(), ...fixedPaths() };
  const schemas: Record<string, JsonSchema> = { ...COMPONENT_SCHEMAS };
  const typed = typedWorkflows(workflows);
  if (typed.length > 0) {
    const start = paths[restPath(startWorkflow).path]!['post'] as {
      requestBody: { content: Record<string, { schema: JsonSchema }> };
    };
    const body = start.requestBody.content['application/json']!.schema;
    start.requestBody = { ...start.requestBody, content: content(typedStartBody(body, typed, schemas)) };
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Weft',
      version,
      description:
        'The REST API of a Weft server. Every `/api/v1/...` route also answers under `/v1/...`. ' +
        'Request bodies and responses are JSON, or MessagePack with `Content-Type` / `Accept: application/msgpack`. ' +
        'Every error is `{ "error": { "code", "message", "details"? } }`.',
    },
    servers: openApiServers(),
    tags: TAGS,
    paths,
    components: { schemas, securitySchemes: SECURITY_SCHEMES },
  };
}
