import { describe, expect, test } from 'bun:test';
import { Parser } from '@asyncapi/parser';
import packageJson from '../../../package.json' with { type: 'json' };
import { Scope } from '../../protocol/operation-spec.ts';
import { operations } from '../../protocol/operations.ts';
import { CloseCode, notifications, Subprotocol, subscriptionMethods } from '../../protocol/realtime.ts';
import { testServers } from '../../testing/test-servers.ts';
import { createServerSecurity, handleRequest } from '../handler-index.ts';
import { parseCursor } from '../realtime/cursor.ts';
import { RESUME_FROM_PATTERN } from './asyncapi-document.ts';
import { asyncApiDocument } from './documents.ts';

type Operation = {
  action: 'send' | 'receive';
  channel: { $ref: string };
  messages: { $ref: string }[];
  security?: { $ref: string }[];
  'x-weft-scope'?: string;
};
type Channel = {
  address: string;
  messages: Record<string, unknown>;
  bindings: { ws: { method: string; query?: { properties: Record<string, { pattern: string }> } } };
};

const document = asyncApiDocument();
const channels = document['channels'] as Record<string, Channel>;
const operationsOf = document['operations'] as Record<string, Operation>;
const components = document['components'] as {
  messages: Record<string, { payload: unknown }>;
  securitySchemes: Record<string, unknown>;
};
const { openEngine } = testServers();
const SECURITY = [{ $ref: '#/components/securitySchemes/bearer' }, { $ref: '#/components/securitySchemes/apiKey' }];

/**
 * `DiagnosticSeverity.Error`. The parser's diagnostics are typed with another copy of
 * `@stoplight/types` than the one it re-exports the enum from, so the linter sees two enums.
 */
const ERROR_SEVERITY = 0;

/** The error-severity diagnostics the AsyncAPI parser reports for `doc`. */
async function parserErrors(doc: unknown): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(structuredClone(doc) as never);
  return diagnostics
    .filter((diagnostic) => Number(diagnostic.severity) === ERROR_SEVERITY)
    .map((diagnostic) => diagnostic.message);
}

describe('the AsyncAPI document', () => {
  test('is AsyncAPI 3.0 with the package version, and @asyncapi/parser finds no error in it', async () => {
    expect(document['asyncapi']).toBe('3.0.0');
    expect((document['info'] as { version: string }).version).toBe(packageJson.version);
    expect(await parserErrors(document)).toEqual([]);
  });

  test('would fail the parser if it were malformed (the parser is not a pushover)', async () => {
    const broken = structuredClone(document) as { operations: Record<string, Operation> };
    broken.operations['sendWatchFrames']!.messages = [{ $ref: '#/channels/workflowStream/messages/chunkFrame' }];
    expect(await parserErrors(broken)).not.toEqual([]);
  });

  test('has a channel for each feed socket and the JSON-RPC session, each upgraded with a GET', () => {
    const addresses = Object.values(channels).map((channel) => channel.address);
    expect(addresses).toEqual([
      '/api/v1/workflows/{id}/watch',
      '/api/v1/workflows/{id}/stream',
      '/api/v1/events',
      '/api/jsonrpc',
    ]);
    for (const channel of Object.values(channels)) expect(channel.bindings.ws.method).toBe('GET');
  });

  test('every channel address is a route of the server (a plain GET of a socket route is 426, of /events the list)', async () => {
    const engine = await openEngine();
    for (const { address } of Object.values(channels)) {
      const path = address.replace('{id}', 'run-1');
      const response = await handleRequest(new Request(`http://weft.test${path}`), engine);
      expect({ path, status: response.status }).toEqual({ path, status: path === '/api/v1/events' ? 200 : 426 });
    }
  });

  test('the feeds take resumeFrom, read exactly as the server reads it', () => {
    const feeds = Object.values(channels).filter((channel) => channel.address !== '/api/jsonrpc');
    const pattern = new RegExp(RESUME_FROM_PATTERN);
    for (const feed of feeds)
      expect(feed.bindings.ws.query?.properties['resumeFrom']?.pattern).toBe(RESUME_FROM_PATTERN);
    expect(channels['jsonrpc']?.bindings.ws.query).toBeUndefined();
    const accepted = (value: string): boolean => {
      try {
        return parseCursor(value, 'resumeFrom') !== undefined;
      } catch {
        return false;
      }
    };
    const samples = ['-1', '0', '7', '42', '9007199254740991', '', '-0', '-2', '+1', '01', '1.5', '1e3', '0x10', ' 7'];
    for (const value of samples)
      expect({ value, matches: pattern.test(value) }).toEqual({ value, matches: accepted(value) });
  });

  test('describes each frame, subscription method, result and notification as a message with a payload', () => {
    const names = [
      'watchFrame',
      'chunkFrame',
      'eventFrame',
      'rpcCall',
      'rpcAnswer',
      ...subscriptionMethods.flatMap((method) => [method.name, `${method.name}.result`]),
      ...Object.values(notifications).map((notification) => notification.method),
    ];
    expect(Object.keys(components.messages).sort()).toEqual([...names].sort());
    for (const name of names)
      expect({ name, payload: typeof components.messages[name]?.payload }).toEqual({ name, payload: 'object' });
    const watchPayload = components.messages['watchFrame']!.payload as { required: string[] };
    expect(watchPayload.required).toEqual(['seq', 'type', 'status', 'timestamp', 'data']);
  });

  test('the server sends the frames and notifications, and receives the calls with their answers as replies', () => {
    const actions = Object.fromEntries(
      Object.entries(operationsOf).map(([name, operation]) => [name, operation.action]),
    );
    expect(actions).toMatchObject({ sendWatchFrames: 'send', sendChunkFrames: 'send', sendEventFrames: 'send' });
    expect(actions).toMatchObject({ receiveCalls: 'receive' });
    for (const method of subscriptionMethods) expect(actions[method.name]).toBe('receive');
    for (const notification of Object.values(notifications)) expect(actions[notification.method]).toBe('send');
  });

  test('a call may name every catalog method, rpc.discover and the subscription methods', () => {
    const payload = components.messages['rpcCall']!.payload as {
      oneOf: { properties: { method: { enum: string[] } } }[];
    };
    expect(payload.oneOf[0]!.properties.method.enum).toEqual([
      ...operations.map((spec) => spec.name),
      'rpc.discover',
      ...subscriptionMethods.map((method) => method.name),
    ]);
  });

  test('names the subprotocols and every close code', () => {
    const description = (document['info'] as { description: string }).description;
    for (const protocol of Object.values(Subprotocol)) expect(description).toContain(protocol);
    for (const code of Object.values(CloseCode)) expect(description).toContain(`\`${code}\``);
  });

  test('states the credentials, and the scope of each feed and subscription method', () => {
    expect(components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKey: expect.objectContaining({ type: 'httpApiKey', in: 'header', name: 'X-API-Key' }),
    });
    expect(JSON.stringify(components.securitySchemes['bearer'])).toContain(Subprotocol.authPrefix);
    const scopes = Object.fromEntries(Object.entries(operationsOf).map(([name, op]) => [name, op['x-weft-scope']]));
    expect(scopes).toMatchObject({
      sendWatchFrames: Scope.eventsRead,
      sendChunkFrames: Scope.streamsRead,
      sendEventFrames: Scope.eventsRead,
    });
    for (const method of subscriptionMethods) expect(scopes[method.name]).toBe(method.scope);
    const notificationNames = new Set<string>(Object.values(notifications).map((notification) => notification.method));
    for (const [name, operation] of Object.entries(operationsOf)) {
      const security = notificationNames.has(name) ? undefined : SECURITY;
      expect({ name, security: operation.security }).toEqual({ name, security });
    }
  });

  test('the scope it names for each feed is the one the server asks for', async () => {
    const engine = await openEngine();
    const holding = (scope: string) => ({ 'x-scope': scope, upgrade: 'websocket' });
    const security = createServerSecurity({
      auth: {
        authenticate: (request) => {
          const scope = request.headers.get('x-scope');
          return scope === null ? null : { subject: 'tester', scopes: [scope] };
        },
        auditSink: () => undefined,
      },
    });
    for (const [name, operation] of Object.entries(operationsOf).filter(([name]) => /^send\w+Frames$/.test(name))) {
      const address = channels[operation.channel.$ref.split('/').pop()!]!.address.replace('{id}', 'run-1');
      const scope = operation['x-weft-scope']!;
      const other = scope === Scope.eventsRead ? Scope.streamsRead : Scope.eventsRead;
      const send = (headers: Record<string, string>) =>
        handleRequest(new Request(`http://weft.test${address}`, { headers }), engine, { security });
      expect({ name, status: (await send(holding(other))).status }).toEqual({ name, status: 403 });
      // Past the scope: an unknown run is 404, the fleet feed wants a listener that can upgrade (400).
      const allowed = (await send(holding(scope))).status;
      expect({ name, refusedForScope: [401, 403].includes(allowed) }).toEqual({ name, refusedForScope: false });
    }
  });

  test('is built once and frozen, and names the server that served it as ws or wss', () => {
    expect(asyncApiDocument()).toBe(document);
    expect(Object.isFrozen(document['channels'])).toBe(true);
    const server = (origin?: string) => (asyncApiDocument(origin)['servers'] as Record<string, unknown>)['weft'];
    expect(server()).toMatchObject({ host: '127.0.0.1:3000', protocol: 'ws' });
    expect(server('http://10.0.0.5:8080')).toMatchObject({ host: '10.0.0.5:8080', protocol: 'ws' });
    expect(server('https://weft.example')).toMatchObject({ host: 'weft.example', protocol: 'wss' });
  });
});

describe('GET /asyncapi.json', () => {
  test('is public on a server with auth, and names the origin the request reached', async () => {
    const engine = await openEngine();
    const security = createServerSecurity({ auth: { apiKeys: ['k'], auditSink: () => undefined } });
    const response = await handleRequest(new Request('https://weft.example:8443/asyncapi.json'), engine, { security });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { asyncapi: string; servers: { weft: { host: string; protocol: string } } };
    expect(body.asyncapi).toBe('3.0.0');
    expect(body.servers.weft).toMatchObject({ host: 'weft.example:8443', protocol: 'wss' });
    // The same server refuses an operation without the key: the document is public, not the server.
    expect(
      (await handleRequest(new Request('https://weft.example:8443/api/v1/workflows'), engine, { security })).status,
    ).toBe(401);
  });
});
