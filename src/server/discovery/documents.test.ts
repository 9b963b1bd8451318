import { describe, expect, test } from 'bun:test';
import { MethodCallValidator, validateOpenRPCDocument } from '@open-rpc/schema-utils-js';
import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString } from 'openapi-typescript';
import packageJson from '../../../package.json' with { type: 'json' };
import { MAX_ATTRIBUTES_PER_RUN } from '../../engine/run-listing.ts';
import { WIRE_ERROR_CODES } from '../../protocol/wire-errors.ts';
import type { OperationSpec } from '../../protocol/operation-spec.ts';
import { operations } from '../../protocol/operations.ts';
import { notifications, subscriptionMethods } from '../../protocol/realtime.ts';
import { catalog } from '../catalog.ts';
import { handleRequest } from '../handler.ts';
import { testServers } from '../../testing/test-servers.ts';
import { openApiDocument, openRpcDocument } from './documents.ts';

type OpenApiOperation = {
  operationId?: string;
  parameters?: { name: string; in: string; required: boolean; style?: string; explode?: boolean }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, unknown> }>;
};
const { start, openEngine } = testServers();

type OpenRpcMethod = { name: string; params: { name: string; required: boolean }[]; result: unknown };

const specs = operations as readonly OperationSpec[];
const paths = openApiDocument()['paths'] as Record<string, Record<string, OpenApiOperation>>;
const methods = openRpcDocument()['methods'] as OpenRpcMethod[];

function openApiOperation(spec: OperationSpec): OpenApiOperation | undefined {
  const path = `/api/v1${spec.rest.path.replace(/:(\w+)/g, '{$1}')}`;
  return paths[path]?.[spec.rest.method.toLowerCase()];
}

describe('the OpenAPI document', () => {
  test('is valid OpenAPI 3.1 and its references resolve', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openApiDocument()));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  test('would fail the validator if it were malformed (the validator is not a pushover)', async () => {
    const broken = structuredClone(openApiDocument()) as { paths: Record<string, Record<string, OpenApiOperation>> };
    broken.paths['/api/v1/workflows']!['get']!.parameters![0]!.in = 'body'; // OpenAPI 2 spelling, gone in 3.x
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  test('documents every catalog operation at its REST route, with the JSON-RPC name as operationId', () => {
    for (const { spec } of catalog.values()) {
      expect({ name: spec.name, operationId: openApiOperation(spec)?.operationId }).toEqual({
        name: spec.name,
        operationId: spec.name,
      });
    }
    const operationIds = Object.values(paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(operationIds.filter((id) => id !== undefined)).size).toBe(
      operationIds.filter((id) => id !== undefined).length,
    );
  });

  test("states each operation's credential and scope, and the security layer's 401, 403 and 429", () => {
    const schemes = (openApiDocument()['components'] as { securitySchemes: Record<string, unknown> }).securitySchemes;
    expect(schemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
    for (const spec of specs) {
      const operation = openApiOperation(spec) as OpenApiOperation & { security: unknown[] };
      if (spec.scope === null) {
        expect(operation.security).toEqual([]);
        expect(operation.responses['401']).toBeUndefined();
        continue;
      }
      expect(operation.security).toEqual([{ bearer: [spec.scope] }, { apiKey: [spec.scope] }]);
      for (const status of ['401', '403', '429'])
        expect({ op: spec.name, has: status in operation.responses }).toEqual({ op: spec.name, has: true });
    }
  });

  test('answers each success status of the catalog, 202 for operations that may still be pending, and no body for 204', () => {
    for (const spec of specs) {
      const responses = openApiOperation(spec)!.responses;
      const status = String(spec.rest.status ?? 200);
      expect(responses[status]).toBeDefined();
      if (status === '204') expect(responses[status]!.content).toBeUndefined();
    }
    expect(Object.keys(openApiOperation(catalog.get('weft.workflows.update')!.spec)!.responses)).toContain('202');
    expect(Object.keys(openApiOperation(catalog.get('weft.updates.get')!.spec)!.responses)).toContain('202');
    expect(Object.keys(openApiOperation(catalog.get('weft.workflows.start')!.spec)!.responses)).toContain('201');
  });

  test('lists the error statuses an operation can produce, each with the error body', () => {
    const statuses = (name: string): string[] => Object.keys(openApiOperation(catalog.get(name)!.spec)!.responses);
    const expectStatuses = (name: string, expected: string[]): void => {
      expect(expected.filter((status) => !statuses(name).includes(status))).toEqual([]);
    };
    expectStatuses('weft.workflows.start', ['400', '409', '413', '415', '500']);
    expectStatuses('weft.workflows.get', ['400', '404', '500']);
    expectStatuses('weft.workflows.result', ['404', '408', '422']);
    expectStatuses('weft.workflows.update', ['404', '409', '422']);
    const notFound = openApiOperation(catalog.get('weft.workflows.get')!.spec)!.responses['404']!;
    expect(notFound.content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/Error' } },
      'application/msgpack': { schema: { $ref: '#/components/schemas/Error' } },
    });
  });

  test('takes the list filters as the snake_case query parameters the REST transport reads, repeated ones exploded', () => {
    const list = openApiOperation(catalog.get('weft.workflows.list')!.spec)!;
    const query = list.parameters!.filter((p) => p.in === 'query');
    expect(query.map((p) => p.name).sort()).toEqual(
      [
        'status',
        'type',
        'id_prefix',
        'failure_category',
        'parent_id',
        'created_after',
        'created_before',
        'updated_after',
        'updated_before',
        'deadline_after',
        'deadline_before',
        'include',
        'limit',
        'offset',
        'cursor',
        'attribute',
      ].sort(),
    );
    for (const name of ['status', 'type', 'failure_category', 'include']) {
      expect(query.find((p) => p.name === name)).toMatchObject({ style: 'form', explode: true });
    }
    expect(JSON.stringify(list)).toContain('attribute.<name>');
    const aggregate = openApiOperation(catalog.get('weft.workflows.aggregate')!.spec)!;
    expect(aggregate.parameters!.find((p) => p.name === 'group_by')).toMatchObject({ in: 'query', required: true });
    const events = openApiOperation(catalog.get('weft.events.list')!.spec)!;
    expect(events.parameters!.map((p) => p.name)).toEqual(['after', 'limit']);
  });

  test('declares path parameters and JSON or MessagePack bodies without repeating the path parameters', () => {
    const signal = openApiOperation(catalog.get('weft.workflows.signal')!.spec)!;
    expect(signal.parameters!.map((p) => [p.name, p.in, p.required])).toEqual([
      ['id', 'path', true],
      ['name', 'path', true],
    ]);
    expect(Object.keys(signal.requestBody!.content)).toEqual(['application/json', 'application/msgpack']);
    expect(JSON.stringify(signal.requestBody)).not.toContain('"id"');
  });

  test('also covers health and metrics under /v1, the discovery documents and POST /api/jsonrpc', () => {
    expect(paths['/v1/health']?.['get']).toBeDefined();
    expect(paths['/v1/metrics']?.['get']?.responses['200']?.content).toHaveProperty(['text/plain']);
    expect(paths['/openapi.json']?.['get']).toBeDefined();
    expect(paths['/openrpc.json']?.['get']).toBeDefined();
    expect(paths['/asyncapi.json']?.['get']).toBeDefined();
    expect(paths['/api/jsonrpc']?.['post']).toBeDefined();
  });
});

describe('the OpenRPC document', () => {
  test('is valid OpenRPC 1.3.2 with the package version', () => {
    expect(validateOpenRPCDocument(structuredClone(openRpcDocument()) as never)).toBe(true);
    expect(openRpcDocument()['openrpc']).toBe('1.3.2');
    expect((openRpcDocument()['info'] as { version: string }).version).toBe(packageJson.version);
    const broken = structuredClone(openRpcDocument()) as { methods: { params?: unknown }[] };
    delete broken.methods[0]!.params;
    expect(validateOpenRPCDocument(broken as never)).not.toBe(true);
  });

  test('has one method per catalog operation, by name, with one param per input field, then the subscription methods', () => {
    expect(methods.map((m) => m.name)).toEqual([...catalog.keys(), ...subscriptionMethods.map((m) => m.name)]);
    const start = methods.find((m) => m.name === 'weft.workflows.start')!;
    expect(start.params.map((p) => [p.name, p.required])).toEqual([
      ['type', true],
      ['input', false],
      ['id', false],
      ['idempotencyKey', false],
      ['executionTimeout', false],
    ]);
    const signal = methods.find((m) => m.name === 'weft.workflows.signal')!;
    expect(signal.params.map((p) => [p.name, p.required])).toEqual([
      ['id', true],
      ['name', true],
      ['payload', false],
    ]);
  });

  test('lists required params before optional ones, as OpenRPC asks', () => {
    for (const method of methods) {
      const firstOptional = method.params.findIndex((p) => !p.required);
      if (firstOptional >= 0) expect(method.params.slice(firstOptional).every((p) => !p.required)).toBe(true);
    }
  });

  test('describes calls the server accepts: a validator built from it agrees with the catalog schemas', () => {
    const validator = new MethodCallValidator(structuredClone(openRpcDocument()) as never);
    const ok = validator.validate('weft.workflows.start', { type: 'greet', input: { a: 1 }, executionTimeout: '5m' });
    expect(ok).toEqual([]);
    const bad = validator.validate('weft.workflows.start', { id: '' });
    expect(Array.isArray(bad) && bad.length > 0).toBe(true);
  });
});

describe('the subscription methods in the OpenRPC document', () => {
  type Method = OpenRpcMethod & { description: string; errors: { data: { codes: string[] } }[] };
  const byName = (name: string) => methods.find((m) => m.name === name) as Method;

  test('each has its params and result from protocol/realtime.ts, and says it needs a WebSocket', () => {
    const subscribe = byName('weft.workflows.subscribe');
    expect(subscribe.params.map((p) => [p.name, p.required])).toEqual([
      ['id', true],
      ['after', false],
    ]);
    expect(subscribe.result).toMatchObject({ schema: { required: ['subscription'] } });
    expect(byName('weft.events.subscribe').params.map((p) => [p.name, p.required])).toEqual([['after', false]]);
    for (const { name } of subscriptionMethods) {
      const method = byName(name);
      expect(method.description).toContain('websocket_required');
      expect(method.errors.flatMap((error) => error.data.codes)).toContain('websocket_required');
    }
    expect(byName('weft.events.subscribe').errors.flatMap((error) => error.data.codes)).toContain(
      'replay_window_too_large',
    );
  });

  test('a validator built from the document checks their params', () => {
    const validator = new MethodCallValidator(structuredClone(openRpcDocument()) as never);
    expect(validator.validate('weft.workflows.subscribe', { id: 'o-1', after: 3 })).toEqual([]);
    const bad = validator.validate('weft.workflows.subscribe', { after: -2 });
    expect(Array.isArray(bad) && bad.length > 0).toBe(true);
  });

  test('the notifications they send are in x-weft-notifications with their params, and named in the description', () => {
    const listed = openRpcDocument()['x-weft-notifications'] as { name: string; params: { name: string }[] }[];
    expect(listed.map((n) => n.name)).toEqual(Object.values(notifications).map((n) => n.method));
    expect(listed.find((n) => n.name === 'weft.workflows.changed')!.params.map((p) => p.name)).toEqual([
      'subscription',
      'frame',
    ]);
    const description = (openRpcDocument()['info'] as { description: string }).description;
    for (const { method } of Object.values(notifications)) expect(description).toContain(method);
  });

  test('rpc.discover over HTTP and GET /openrpc.json list them, and calling one over HTTP is websocket_required', async () => {
    const engine = await openEngine();
    const discover = await handleRequest(
      new Request('http://weft.test/api/jsonrpc', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { jsonrpc: '2.0', id: 1, method: 'rpc.discover' },
          { jsonrpc: '2.0', id: 2, method: 'weft.events.subscribe', params: {} },
        ]),
      }),
      engine,
    );
    const [discovered, subscribed] = (await discover.json()) as [
      { result: { methods: { name: string }[] } },
      { error: { data: { code: string } } },
    ];
    const served = (await (await handleRequest(new Request('http://weft.test/openrpc.json'), engine)).json()) as {
      methods: { name: string }[];
    };
    for (const listing of [discovered.result.methods, served.methods]) {
      const names = listing.map((m) => m.name);
      for (const { name } of subscriptionMethods) expect(names).toContain(name);
    }
    expect(subscribed.error.data.code).toBe('websocket_required');
  });
});

describe('both documents', () => {
  test('are built once and frozen', () => {
    expect(openApiDocument()).toBe(openApiDocument());
    expect(openRpcDocument()).toBe(openRpcDocument());
    expect(Object.isFrozen(openApiDocument()['paths'])).toBe(true);
    expect(Object.isFrozen(openRpcDocument()['methods'])).toBe(true);
  });

  test('embed no schema references of their own (a nested $defs would point at the wrong root)', () => {
    for (const doc of [openApiDocument(), openRpcDocument()]) {
      const refs = JSON.stringify(doc).match(/"\$ref":"[^"]*"/g) ?? [];
      for (const ref of refs) expect(ref).toMatch(/"#\/components\/schemas\/\w+"/);
    }
  });
});

describe('what client generators found missing', () => {
  type Responses = Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  const schemaOf = (path: string, method: string): Record<string, unknown> =>
    (paths[path]![method]!.responses as Responses)['200']!.content!['application/json']!.schema;

  test('a result or a query answer may lack `result` (a run or handler that returned undefined answers {})', () => {
    for (const path of ['/api/v1/workflows/{id}/result', '/api/v1/workflows/{id}/query/{name}']) {
      const method = path.endsWith('result') ? 'get' : 'post';
      expect({ path, required: schemaOf(path, method)['required'] ?? [] }).toEqual({ path, required: [] });
    }
  });

  test("a run's state may lack `input`, and its error may carry `retryable`", () => {
    const state = schemaOf('/api/v1/workflows/{id}', 'get') as {
      required: string[];
      properties: { error: { properties: Record<string, unknown> } };
    };
    expect(state.required).not.toContain('input');
    expect(state.properties.error.properties['retryable']).toEqual({ type: 'boolean' });
  });

  test('openapi-typescript generates types from it: an optional result, the error code union, the health operation', async () => {
    const types = astToString(await openapiTS(structuredClone(openApiDocument('http://127.0.0.1:8080')) as never));
    expect(types).toContain('result?: unknown;');
    expect(types).toContain('code: "bad_request" | "invalid_argument"');
    expect(types).toMatch(/\bhealth: \{/);
    expect(types).toContain('retryable?: boolean;');
  });

  test('GET /v1/health has an operationId, and every operationId is unique', () => {
    expect(paths['/v1/health']?.['get']?.operationId).toBe('health');
    const operationIds = Object.values(paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(operationIds.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  test('Error.code is the enum of the wire error table, and each error response lists its own codes from it', () => {
    const schemas = (openApiDocument()['components'] as { schemas: Record<string, unknown> }).schemas;
    const error = schemas['Error'] as { properties: { error: { properties: { code: { enum: string[] } } } } };
    expect(error.properties.error.properties.code.enum).toEqual([...WIRE_ERROR_CODES]);
    expect(WIRE_ERROR_CODES).toContain('internal');
    for (const operations of Object.values(paths)) {
      for (const operation of Object.values(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const codes = (response as { 'x-weft-error-codes'?: string[] })['x-weft-error-codes'];
          if (Number(status) < 400 || operation.operationId === 'jsonRpc') continue;
          expect({ status, codes: codes?.filter((code) => !WIRE_ERROR_CODES.includes(code as never)) }).toEqual({
            status,
            codes: [],
          });
        }
      }
    }
  });

  test('both documents name the server that answered, whatever its port', async () => {
    const server = await start();
    const openApi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(openApi.servers.map((entry) => entry.url)).toEqual([server.url]);
    const openRpc = (await (await fetch(`${server.url}/openrpc.json`)).json()) as { servers: { url: string }[] };
    expect(openRpc.servers.map((entry) => entry.url)).toEqual([`${server.url}/api/jsonrpc`]);
    const discovered = await fetch(`${server.url}/api/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.discover' }),
    });
    expect(((await discovered.json()) as { result: unknown }).result).toEqual(openRpc);
    expect(validateOpenRPCDocument(structuredClone(openRpc) as never)).toBe(true);
    const result = await new Validator().validate(structuredClone(openApi));
    expect(result.errors).toBeUndefined();
  });

  test('an embedder behind handleRequest gets the origin of its own request URL', async () => {
    const response = await handleRequest(new Request('https://weft.example:8443/openapi.json'), await openEngine());
    const document = (await response.json()) as { servers: { url: string }[] };
    expect(document.servers.map((entry) => entry.url)).toEqual(['https://weft.example:8443']);
    expect((openApiDocument()['servers'] as { url: string }[])[0]!.url).toBe('/');
  });
});

describe('limits the server enforces, published in the document', () => {
  const list = openApiOperation(catalog.get('weft.workflows.list')!.spec)!;
  const queryParameter = (operation: OpenApiOperation, name: string) =>
    (operation.parameters as unknown as { name: string; schema: Record<string, unknown> }[]).find(
      (p) => p.name === name,
    )!.schema;

  test('offset and after have the largest integer the server reads exactly as their maximum', () => {
    expect(queryParameter(list, 'offset')).toMatchObject({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
    const events = openApiOperation(catalog.get('weft.events.list')!.spec)!;
    expect(queryParameter(events, 'after')).toMatchObject({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER });
  });

  test("group_by has a pattern: the three fields, or 'attribute:' and a valid attribute name", () => {
    const aggregate = openApiOperation(catalog.get('weft.workflows.aggregate')!.spec)!;
    const pattern = new RegExp(queryParameter(aggregate, 'group_by')['pattern'] as string, 'u');
    for (const good of ['status', 'type', 'failureCategory', 'attribute:region', 'attribute:a.b:c-d_e'])
      expect({ good, matches: pattern.test(good) }).toEqual({ good, matches: true });
    for (const bad of [
      '',
      'Status',
      'attribute:',
      'attribute:a b',
      'attribute:__proto__',
      `attribute:${'a'.repeat(129)}`,
    ])
      expect({ bad, matches: pattern.test(bad) }).toEqual({ bad, matches: false });
  });

  test('durations have a pattern and a maximum of 100 years', () => {
    const start = openApiOperation(catalog.get('weft.workflows.start')!.spec)!;
    const body = start.requestBody!.content['application/json'] as {
      schema: { properties: { executionTimeout: { anyOf: Record<string, unknown>[] } } };
    };
    const [milliseconds, text] = body.schema.properties.executionTimeout.anyOf;
    expect(milliseconds).toMatchObject({ type: 'integer', minimum: 0, maximum: 100 * 365 * 86_400_000 });
    const pattern = new RegExp(text!['pattern'] as string, 'u');
    expect(['250ms', '1.5s', '36500d'].map((good) => pattern.test(good))).toEqual([true, true, true]);
    expect(['5 min', ' 5s', '36501d', '1w'].map((bad) => pattern.test(bad))).toEqual([false, false, false, false]);
  });

  test('attribute.<name> query parameters are one form-exploded parameter with the name pattern and the count limit', () => {
    const attribute = list.parameters!.find((p) => p.name === 'attribute') as unknown as {
      in: string;
      style: string;
      explode: boolean;
      schema: { propertyNames: { pattern: string }; maxProperties: number };
    };
    expect(attribute).toMatchObject({ in: 'query', style: 'form', explode: true });
    const name = new RegExp(attribute.schema.propertyNames.pattern, 'u');
    expect(['attribute.region', 'attribute.a:b'].map((good) => name.test(good))).toEqual([true, true]);
    expect(['region', 'attribute.', 'attribute.__proto__', 'attribute.a b'].map((bad) => name.test(bad))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(attribute.schema.maxProperties).toBe(MAX_ATTRIBUTES_PER_RUN);
    const setAttributes = openApiOperation(catalog.get('weft.workflows.setAttributes')!.spec)!;
    expect(JSON.stringify(setAttributes.requestBody)).toContain(`"maxProperties":${MAX_ATTRIBUTES_PER_RUN}`);
  });
});
