/**
 * The server against its own OpenAPI document, over a real socket: requests generated from
 * `GET /openapi.json` (fast-check, a fixed seed and a bounded number of runs, so the run is the
 * same on every machine), every response checked against the document — a documented status, a
 * documented media type, a body its schema accepts, and an error code the response lists. A
 * request the document accepts must not be refused as invalid. Drift either way fails the build.
 */
import { describe, expect, test } from 'bun:test';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { z } from 'zod';
import { ApplicationError, signal, workflow } from '../../index.ts';
import { schemaArbitrary, type JsonSchema } from '../../testing/json-schema-arbitrary.ts';
import { testServers, type TestServer } from '../../testing/test-servers.ts';

const go = signal<string>('go');

/** Takes no input and returns nothing: the run's state has no `input`, its result no `result`. */
const quiet = workflow({ name: 'quiet' }).execute(async function* () {});
/** Fails with a Weft error: the run's state carries its code and `error.retryable`. */
const broken = workflow({ name: 'broken' }).execute(async function* () {
  throw new ApplicationError('broken on purpose', { code: 'broken' });
});
/** Waits for `go`; tagged with attributes; an update that takes anything and one that refuses; a query that returns nothing. */
const waiting = workflow({ name: 'waiting' }).execute(async function* (ctx, input: unknown) {
  ctx.setAttribute('region', 'eu');
  ctx.setAttribute('priority', 2);
  let value: unknown = 0;
  ctx.onUpdate('set', (next: unknown) => (value = next));
  ctx.onUpdate('refuse', () => {
    throw new Error('refused on purpose');
  });
  ctx.onQuery('peek', () => undefined);
  ctx.onQuery('value', () => value);
  const note = yield* ctx.waitForSignal(go);
  return { input, note, value };
});

/** Declares an input schema: the document types its start, and the server refuses what the schema does. */
const typed = workflow({
  name: 'typed',
  input: z.object({ n: z.number().int().min(0).max(10), mode: z.enum(['fast', 'slow']), dry: z.boolean().optional() }),
}).execute(async function* (_ctx, input) {
  return input.n;
});

const { start } = testServers([quiet, broken, waiting, typed]);

type Operation = {
  operationId: string;
  tags?: string[];
  parameters?: { name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema; explode?: boolean }[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }>; 'x-weft-error-codes'?: string[] }>;
};
type OpenApi = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
};

interface Call {
  method: string;
  path: string;
  query: [string, string][];
  body?: unknown;
  bodyType: 'application/json' | 'application/msgpack';
  accept: 'application/json' | 'application/msgpack';
  /** A field replaced by an arbitrary value: the request may break the schema, so a 400 is no finding. */
  mutated: boolean;
  operation: Operation;
}

/** Codes that say "the request broke the schema": never the answer to a request the document accepts. */
const SCHEMA_REFUSALS = new Set([
  'invalid_params',
  'invalid_duration',
  'invalid_argument',
  'bad_request',
  // The typed start: an input the document's branch for `type` accepts must pass the workflow's schema.
  'invalid_input',
]);

async function documentOf(server: TestServer): Promise<OpenApi> {
  return (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApi;
}

/** A validator of response bodies against the document's schemas (2020-12, formats checked). */
function responseValidator(document: OpenApi) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'weft:components', $defs: document.components.schemas });
  const rewrite = (schema: unknown): unknown =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"weft:components#/$defs/'));
  const cache = new Map<JsonSchema, ReturnType<typeof ajv.compile>>();
  return (schema: JsonSchema, body: unknown): string | undefined => {
    let validate = cache.get(schema);
    if (validate === undefined) {
      validate = ajv.compile(rewrite(schema) as JsonSchema);
      cache.set(schema, validate);
    }
    return validate(body) ? undefined : ajv.errorsText(validate.errors);
  };
}

/** Sends `call` to the server and decodes the answer by its content type. */
async function send(server: TestServer, call: Call): Promise<{ status: number; type: string; body: unknown }> {
  const url = new URL(call.path, server.url);
  for (const [name, value] of call.query) url.searchParams.append(name, value);
  const headers: Record<string, string> = { accept: call.accept };
  let body: string | Uint8Array | undefined;
  if (call.body !== undefined) {
    headers['content-type'] = call.bodyType;
    body = call.bodyType === 'application/json' ? JSON.stringify(call.body) : pack(call.body);
  }
  const response = await fetch(url, { method: call.method, headers, ...(body === undefined ? {} : { body }) });
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength === 0) return { status: response.status, type, body: undefined };
  const decoded: unknown =
    type === 'application/msgpack'
      ? unpack(bytes)
      : type === 'application/json'
        ? JSON.parse(new TextDecoder().decode(bytes))
        : bytes;
  return { status: response.status, type, body: decoded };
}

/** What is wrong with `answer` by the document, or undefined when nothing is. */
function violation(
  call: Call,
  answer: { status: number; type: string; body: unknown },
  validate: ReturnType<typeof responseValidator>,
): string | undefined {
  if (answer.status >= 500) return `a ${answer.status}`;
  const documented = call.operation.responses[String(answer.status)];
  if (documented === undefined) return `status ${answer.status} is not documented`;
  if (documented.content === undefined)
    return answer.body === undefined ? undefined : 'a body where none is documented';
  const media = documented.content[answer.type];
  if (media === undefined) return `media type '${answer.type}' is not documented`;
  const invalid = validate(media.schema, answer.body);
  if (invalid !== undefined) return `the body breaks the schema: ${invalid}`;
  if (answer.status < 400) return undefined;
  const code = (answer.body as { error: { code: string } }).error.code;
  const codes = documented['x-weft-error-codes'];
  if (codes === undefined || !codes.includes(code))
    return `error code '${code}' is not one the ${answer.status} response lists`;
  if (!call.mutated && SCHEMA_REFUSALS.has(code)) return `a request the document accepts was refused (${code})`;
  return undefined;
}

/** Known state the generated requests aim at, besides whatever they make up. */
interface Known {
  ids: string[];
  updateIds: string[];
}

/** Handler names by operation: one the waiting runs handle, one they do not. */
const NAMES: Readonly<Record<string, readonly string[]>> = {
  'weft.workflows.signal': ['go', 'stop'],
  'weft.workflows.update': ['set', 'refuse'],
  'weft.workflows.query': ['peek', 'value', 'nothing'],
};

/** Requests to `operation` at `path`, built from its parameters and body schema. */
function callsOf(
  path: string,
  method: string,
  operation: Operation,
  document: OpenApi,
  known: Known,
): fc.Arbitrary<Call> {
  const resolve = (ref: string): JsonSchema => document.components.schemas[ref.split('/').pop()!]!;
  const hints = {
    id: fc.constantFrom(...known.ids),
    name: fc.constantFrom(...(NAMES[operation.operationId] ?? ['go'])),
    updateId: fc.constantFrom(...known.updateIds),
    type: fc.constantFrom('quiet', 'broken', 'waiting', 'typed'),
  };
  const options = { hints, resolve };
  const pathParams: Record<string, fc.Arbitrary<unknown>> = {};
  const queryParams: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredQuery: string[] = [];
  for (const parameter of operation.parameters ?? []) {
    const generated = schemaArbitrary(parameter.schema, options);
    if (parameter.in === 'path') {
      const hint = hints[parameter.name as keyof typeof hints];
      pathParams[parameter.name] = hint === undefined ? generated : fc.oneof({ arbitrary: hint, weight: 5 }, generated);
    } else {
      queryParams[parameter.name] = generated;
      if (parameter.required) requiredQuery.push(parameter.name);
    }
  }
  const bodySchema = operation.requestBody?.content['application/json']?.schema;
  const body = bodySchema === undefined ? fc.constant(undefined) : schemaArbitrary(bodySchema, options);
  return fc
    .record({
      path: fc.record(pathParams),
      query: fc.record(queryParams, { requiredKeys: requiredQuery }),
      body,
      bodyType: fc.constantFrom('application/json' as const, 'application/msgpack' as const),
      accept: fc.constantFrom('application/json' as const, 'application/msgpack' as const),
      mutation: fc.oneof(
        { arbitrary: fc.constant(null), weight: 5 },
        { arbitrary: fc.tuple(fc.string({ maxLength: 8 }), anyValue()), weight: 1 },
      ),
    })
    .map(({ path: values, query, body, bodyType, accept, mutation }) => {
      const call: Call = {
        method: method.toUpperCase(),
        path: path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(String(values[name]))),
        query: Object.entries(query).flatMap(([name, value]) => queryPairs(name, value)),
        body,
        bodyType,
        accept,
        mutated: mutation !== null,
        operation,
      };
      if (mutation !== null) mutate(call, mutation);
      return call;
    });
}

function anyValue(): fc.Arbitrary<unknown> {
  return fc.jsonValue({ maxDepth: 1, stringUnit: 'grapheme' });
}

/** A query parameter as `style: form, explode: true` spells it: repeated for arrays, one pair per property for objects. */
function queryPairs(name: string, value: unknown): [string, string][] {
  if (Array.isArray(value)) return value.map((item) => [name, String(item)]);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).map(([key, item]) => [key, String(item)]);
  return [[name, String(value)]];
}

/** Replaces a body field (or adds a query parameter) with an arbitrary value: a request that may break the schema. */
function mutate(call: Call, [field, value]: [string, unknown]): void {
  const body = call.body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const keys = Object.keys(body);
    const key = keys.length > 0 ? keys[field.length % keys.length]! : field;
    call.body = { ...body, [key]: value };
  } else {
    call.query.push([field === '' ? 'x' : field, JSON.stringify(value) ?? '']);
  }
}

const SEEDED = { 'quiet-1': 'quiet', 'broken-1': 'broken', 'waiting-1': 'waiting', 'waiting-2': 'waiting' } as const;

/**
 * Puts the seeded runs back as they were when a generated request signalled, cancelled or deleted
 * one, so later requests still find a finished, a failed and two waiting runs.
 */
async function reseed(server: TestServer): Promise<void> {
  for (const [id, type] of Object.entries(SEEDED)) {
    const state = await server.engine.get(id);
    const intact = state !== undefined && state.type === type && (type !== 'waiting' || state.status === 'suspended');
    if (intact) continue;
    if (state !== undefined) await server.engine.delete(id);
    await server.engine.start(type, type === 'waiting' ? { n: 1 } : undefined, { id });
    await server.engine
      .handle(id)
      .result({ signal: AbortSignal.timeout(type === 'waiting' ? 0 : 5_000) })
      .catch(() => undefined);
  }
}

/**
 * Starts the runs the generated requests find: finished, failed, waiting, and a run outside the
 * id pool holding one completed and one failed update.
 */
async function seed(server: TestServer): Promise<Known> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  await reseed(server);
  expect((await post('/workflows', { type: 'waiting', id: 'updates-1' })).status).toBe(201);
  const done = await post('/workflows/updates-1/update/set', { payload: 3 });
  const failed = await post('/workflows/updates-1/update/refuse', {});
  expect([done.status, failed.status]).toEqual([200, 422]);
  const failedId = (failed.body['error'] as { details?: { updateId?: string } }).details?.updateId;
  return {
    ids: Object.keys(SEEDED),
    updateIds: [done.body['updateId'] as string, ...(failedId === undefined ? [] : [failedId]), 'no-such-update'],
  };
}

describe('the server against its OpenAPI document', () => {
  test('a run started without input that returns nothing is described by the document: no input, no result', async () => {
    const server = await start();
    const validate = responseValidator(await documentOf(server));
    const document = await documentOf(server);
    await fetch(`${server.url}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'quiet', id: 'q' }),
    });
    const state = await (await fetch(`${server.url}/api/v1/workflows/q/result`)).json();
    expect(state).toEqual({});
    const result =
      document.paths['/api/v1/workflows/{id}/result']!['get']!.responses['200']!.content!['application/json']!;
    expect(validate(result.schema, state)).toBeUndefined();
    const run = await (await fetch(`${server.url}/api/v1/workflows/q`)).json();
    expect(run).not.toHaveProperty('input');
    const get = document.paths['/api/v1/workflows/{id}']!['get']!.responses['200']!.content!['application/json']!;
    expect(validate(get.schema, run)).toBeUndefined();
  });

  test("a failed run's error, with its retryable flag, is described by the document", async () => {
    const server = await start();
    const validate = responseValidator(await documentOf(server));
    const document = await documentOf(server);
    await server.engine.start('broken', undefined, { id: 'b' });
    await server.engine
      .handle('b')
      .result()
      .catch(() => undefined);
    const run = (await (await fetch(`${server.url}/api/v1/workflows/b`)).json()) as { error: unknown };
    expect(run.error).toMatchObject({ message: 'broken on purpose', retryable: true });
    const get = document.paths['/api/v1/workflows/{id}']!['get']!.responses['200']!.content!['application/json']!;
    expect(validate(get.schema, run)).toBeUndefined();
  });

  test('the SSE feeds answer as the document says: an event stream for Accept: text/event-stream, else its documented errors', async () => {
    const server = await start();
    const document = await documentOf(server);
    await server.engine.start('quiet', undefined, { id: 'feed' });
    await server.engine.handle('feed').result();
    for (const feed of ['watch', 'stream']) {
      const operation = document.paths[`/api/v1/workflows/{id}/${feed}`]!['get']!;
      const sse = await fetch(`${server.url}/api/v1/workflows/feed/${feed}`, {
        headers: { accept: 'text/event-stream' },
      });
      expect(Object.keys(operation.responses['200']!.content!)).toEqual(['text/event-stream']);
      expect(sse.headers.get('content-type')).toStartWith('text/event-stream');
      expect(await sse.text()).toContain('event: end');
      for (const [url, init, status] of [
        [`${server.url}/api/v1/workflows/feed/${feed}`, {}, 426],
        [`${server.url}/api/v1/workflows/nobody/${feed}`, { headers: { accept: 'text/event-stream' } }, 404],
        [
          `${server.url}/api/v1/workflows/feed/${feed}?resumeFrom=1e3`,
          { headers: { accept: 'text/event-stream' } },
          400,
        ],
      ] as const) {
        const answer = await fetch(url, init);
        expect(answer.status).toBe(status);
        const { error } = (await answer.json()) as { error: { code: string } };
        expect(operation.responses[String(status)]!['x-weft-error-codes']).toContain(error.code);
      }
    }
  });

  test('answers every request generated from /openapi.json with a documented status, media type, body and error code', async () => {
    const server = await start({ resultTimeoutMs: 1 });
    const document = await documentOf(server);
    const validate = responseValidator(document);
    const known = await seed(server);
    // The SSE feeds stay open while their run does: they are checked on their own below.
    const fuzzed = Object.entries(document.paths).filter(
      ([path, methods]) =>
        (path.startsWith('/api/v1/') || path === '/v1/health') &&
        !Object.values(methods).some((operation) => operation.tags?.includes('realtime')),
    );
    const calls = fuzzed.flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => callsOf(path, method, operation, document, known)),
    );
    const operationIds = fuzzed.flatMap(([, methods]) =>
      Object.values(methods).map((operation) => operation.operationId),
    );
    expect(calls.length).toBe(16);
    const succeeded = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(...calls), async (call) => {
        await reseed(server);
        const answer = await send(server, call);
        if (answer.status < 300) succeeded.add(call.operation.operationId);
        const problem = violation(call, answer, validate);
        if (problem !== undefined) {
          const { operation, ...request } = call;
          throw new Error(`${operation.operationId}: ${problem}\n${JSON.stringify({ request, answer }, null, 1)}`);
        }
      }),
      { seed: 20_260_611, numRuns: 600 },
    );
    // The generated requests reach past validation: every operation succeeded at least once.
    expect([...succeeded].sort()).toEqual(operationIds.sort());
    // The typed start's branch produced inputs the workflow's schema accepted.
    expect((await server.engine.list({ type: 'typed' })).total).toBeGreaterThan(0);
  });
});
