/**
 * The guide's "Authentication" and "Audit trail" sections and the `unauthenticatedAccess` rules of
 * "Starting the server", from an HTTP client's side: a real server on port 0, real requests.
 */
import { describe, expect, spyOn, test } from 'bun:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { InvalidArgumentError } from '../../core/errors.ts';
import { signal, workflow, type Engine } from '../../index.ts';
import { operations } from '../../protocol/operations.ts';
import {
  AUTHENTICATION_REQUIRED_ENV,
  AuthenticationRequiredError,
  credentialFingerprint,
  serve,
  type AuthAuditEvent,
  type AuthConfig,
  type ServeOptions,
  type WeftServer,
} from '../index.ts';
import { rawConnection } from '../../testing/raw-http.ts';
import { testServers, type TestServer } from '../../testing/test-servers.ts';

const go = signal<string>('go');
const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(go);
});

const API_KEY = 'weft-test-key-0123456789abcdef';
const JWT_SECRET = 'a-shared-secret-of-at-least-32-bytes!!';

const { defer, openEngine, start: startServer, expectRefusedBeforeBinding } = testServers([waiter]);

interface Started {
  server: TestServer;
  engine: Engine;
  audit: AuthAuditEvent[];
}

/** A server whose audit events are collected; `x-test-scopes: a b` authenticates as `tester` with those scopes. */
async function start(options: Partial<ServeOptions> & { auth?: AuthConfig } = {}): Promise<Started> {
  const audit: AuthAuditEvent[] = [];
  const auth: AuthConfig = {
    apiKeys: [API_KEY],
    authenticate: (request) => {
      const scopes = request.headers.get('x-test-scopes');
      return scopes === null ? null : { subject: 'tester', scopes: scopes.split(' ').filter(Boolean) };
    },
    auditSink: (event) => audit.push(event),
    ...options.auth,
  };
  const server = await startServer({ ...options, auth });
  return { server, engine: server.engine, audit };
}

function call(server: WeftServer, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return fetch(`${server.url}${path}`, init);
}

function rpc(server: WeftServer, body: unknown, headers: Record<string, string> = {}) {
  return call(server, 'POST', '/api/jsonrpc', headers, body);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const scopes = (...granted: string[]) => ({ 'x-test-scopes': granted.join(' ') });

/** Every catalog operation with a scope, as a REST request with placeholder parameters. */
const guardedOperations = operations
  .filter((spec) => spec.scope !== null)
  .map((spec) => ({
    spec,
    scope: spec.scope!,
    path: `/api/v1${spec.rest.path.replace(/:(\w+)/g, 'p-$1')}`,
    body: spec.rest.from === 'body' ? {} : undefined,
  }));

describe('API keys', () => {
  test('a configured key is accepted as a bearer token and as X-API-Key', async () => {
    const { server } = await start();
    expect((await call(server, 'GET', '/api/v1/workflows', bearer(API_KEY))).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/workflows', { authorization: `bearer ${API_KEY}` })).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/workflows', { 'x-api-key': API_KEY })).status).toBe(200);
  });

  test('no credential is a 401 with a Bearer challenge and the error body, and nothing runs', async () => {
    const { server, engine } = await start();
    const response = await call(server, 'POST', '/api/v1/workflows', {}, { type: 'waiter', id: 'w-1' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="weft"');
    expect(await response.json()).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    expect((await engine.list()).total).toBe(0);
  });

  test('a wrong key, a prefix of the key, the key plus a byte, or another scheme is a 401', async () => {
    const { server } = await start();
    for (const headers of [
      bearer('nope'),
      bearer(API_KEY.slice(0, -1)),
      bearer(`${API_KEY}x`),
      { 'x-api-key': API_KEY.toUpperCase() },
      { authorization: `Basic ${btoa(`user:${API_KEY}`)}` },
      { authorization: API_KEY },
    ]) {
      const response = await call(server, 'GET', '/api/v1/workflows', headers);
      expect(response.status).toBe(401);
    }
  });

  test('Authorization takes precedence over X-API-Key: a bad bearer with a good X-API-Key is refused', async () => {
    const { server } = await start();
    const response = await call(server, 'GET', '/api/v1/workflows', { ...bearer('nope'), 'x-api-key': API_KEY });
    expect(response.status).toBe(401);
  });

  test('a static key grants the default authenticated scope set: every operation is reachable', async () => {
    const { server, engine } = await start();
    const key = bearer(API_KEY);
    expect((await call(server, 'POST', '/api/v1/workflows', key, { type: 'waiter', id: 'w-1' })).status).toBe(201);
    expect((await call(server, 'POST', '/api/v1/workflows/w-1/signal/go', key, { payload: 'x' })).status).toBe(200);
    expect(await engine.handle('w-1').result()).toBe('x');
    expect((await call(server, 'GET', '/api/v1/events', key)).status).toBe(200);
    expect((await call(server, 'DELETE', '/api/v1/workflows/w-1', key)).status).toBe(204);
    for (const operation of guardedOperations) {
      const response = await call(server, operation.spec.rest.method, operation.path, key, operation.body);
      expect([401, 403]).not.toContain(response.status);
    }
  });
});

describe('scopes from the operation catalog', () => {
  test('every guarded operation answers 403 to a principal without its scope, before reading its input', async () => {
    const { server } = await start();
    const everyScope = [...new Set(guardedOperations.map((operation) => operation.scope))];
    for (const operation of guardedOperations) {
      const others = everyScope.filter((scope) => scope !== operation.scope);
      const response = await call(
        server,
        operation.spec.rest.method,
        operation.path,
        scopes(...others),
        operation.body,
      );
      expect({ op: operation.spec.name, status: response.status }).toEqual({ op: operation.spec.name, status: 403 });
      const body = (await response.json()) as { error: { code: string; details: Record<string, unknown> } };
      expect(body.error.code).toBe('forbidden');
      expect(body.error.details).toEqual({ method: operation.spec.name, requiredScope: operation.scope });
      expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    }
  });

  test('the required scope alone is enough for each guarded operation', async () => {
    const { server } = await start();
    for (const operation of guardedOperations) {
      const response = await call(
        server,
        operation.spec.rest.method,
        operation.path,
        scopes(operation.scope),
        operation.body,
      );
      expect({ op: operation.spec.name, denied: [401, 403].includes(response.status) }).toEqual({
        op: operation.spec.name,
        denied: false,
      });
    }
  });

  test('no scope implies another: workflows:admin alone cannot read or start', async () => {
    const { server } = await start();
    expect((await call(server, 'GET', '/api/v1/workflows', scopes('workflows:admin'))).status).toBe(403);
    const started = await call(server, 'POST', '/api/v1/workflows', scopes('workflows:admin'), { type: 'waiter' });
    expect(started.status).toBe(403);
  });

  test('a refused write has no effect: no run is started, no signal delivered', async () => {
    const { server, engine } = await start();
    const readOnly = scopes('workflows:read');
    expect((await call(server, 'POST', '/api/v1/workflows', readOnly, { type: 'waiter', id: 'w-1' })).status).toBe(403);
    expect((await engine.list()).total).toBe(0);
    await engine.start('waiter', undefined, { id: 'w-2' });
    expect((await call(server, 'POST', '/api/v1/workflows/w-2/signal/go', readOnly, { payload: 'x' })).status).toBe(
      403,
    );
    expect((await call(server, 'GET', '/api/v1/workflows/w-2', readOnly)).status).toBe(200);
    await engine.signal('w-2', go, 'later');
    expect(await engine.handle('w-2').result()).toBe('later');
  });
});

describe('public routes', () => {
  const publicRequests: [string, string, unknown?][] = [
    ['GET', '/api/v1/health'],
    ['GET', '/v1/health'],
    ['GET', '/v1/metrics'],
    ['GET', '/api/v1/metrics'],
    ['GET', '/openapi.json'],
    ['GET', '/openrpc.json'],
  ];

  test('health, metrics and discovery answer without a credential, and are not audited', async () => {
    const { server, audit } = await start();
    for (const [method, path, body] of publicRequests) {
      const response = await call(server, method, path, {}, body);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
    expect(audit).toEqual([]);
  });

  test('an invalid credential on a public route is not examined', async () => {
    const { server, audit } = await start();
    for (const [method, path, body] of publicRequests) {
      const response = await call(server, method, path, bearer('garbage'), body);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
    expect(audit).toEqual([]);
  });
});

describe('JWT', () => {
  async function token(claims: Record<string, unknown>, options: { secret?: string; exp?: number | string } = {}) {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-7')
      .setIssuer('https://id.test');
    jwt.setAudience('weft').setExpirationTime(options.exp ?? '5m');
    return jwt.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
  }

  const jwtAuth: AuthConfig = { jwt: { secret: JWT_SECRET, issuer: 'https://id.test', audience: 'weft' } };

  test('a valid token admits its subject with the scopes of its `scope` claim', async () => {
    const { server, audit } = await start({ auth: jwtAuth });
    const readToken = await token({ scope: 'workflows:read events:read' });
    expect((await call(server, 'GET', '/api/v1/workflows', bearer(readToken))).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/events', bearer(readToken))).status).toBe(200);
    expect((await call(server, 'POST', '/api/v1/workflows', bearer(readToken), { type: 'waiter' })).status).toBe(403);
    expect(audit.map((event) => [event.subject, event.outcome])).toEqual([
      ['user-7', 'success'],
      ['user-7', 'success'],
      ['user-7', 'failure'],
    ]);
  });

  test('scopes may come from a `scopes` array', async () => {
    const { server } = await start({ auth: jwtAuth });
    const writeToken = await token({ scopes: ['workflows:write'] });
    expect((await call(server, 'POST', '/api/v1/workflows', bearer(writeToken), { type: 'waiter' })).status).toBe(201);
    expect((await call(server, 'GET', '/api/v1/workflows', bearer(writeToken))).status).toBe(403);
  });

  test('an expired token, a wrong issuer or audience, or a wrong secret is a 401', async () => {
    const { server, audit } = await start({ auth: jwtAuth });
    const expired = await token({ scope: 'workflows:read' }, { exp: Math.floor(Date.now() / 1000) - 3600 });
    const forged = await token({ scope: 'workflows:read' }, { secret: 'another-secret-of-at-least-32-bytes!!' });
    const otherIssuer = await new SignJWT({ scope: 'workflows:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-7')
      .setIssuer('https://evil.test')
      .setAudience('weft')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const otherAudience = await new SignJWT({ scope: 'workflows:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-7')
      .setIssuer('https://id.test')
      .setAudience('not-weft')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    for (const jwt of [expired, forged, otherIssuer, otherAudience]) {
      expect((await call(server, 'GET', '/api/v1/workflows', bearer(jwt))).status).toBe(401);
    }
    expect(audit.map((event) => event.reason)).toEqual([
      'expired_credential',
      'invalid_credential',
      'invalid_credential',
      'invalid_credential',
    ]);
  });

  test('a token verified against a JWKS URL', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] };
    const issuer = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json(jwks) });
    defer(() => issuer.stop(true));
    const { server } = await start({ auth: { jwt: { jwksUrl: `http://127.0.0.1:${issuer.port}/jwks.json` } } });
    const jwt = await new SignJWT({ scope: 'workflows:read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('svc')
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await call(server, 'GET', '/api/v1/workflows', bearer(jwt))).status).toBe(200);
    const stranger = await generateKeyPair('RS256');
    const forged = await new SignJWT({ scope: 'workflows:read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('svc')
      .setExpirationTime('5m')
      .sign(stranger.privateKey);
    expect((await call(server, 'GET', '/api/v1/workflows', bearer(forged))).status).toBe(401);
  });
});

describe('custom authenticate', () => {
  test('its principal is used; null is a 401', async () => {
    const { server, audit } = await start({
      auth: {
        authenticate: (request) =>
          request.headers.get('cookie') === 'session=s-1' ? { subject: 'alice', scopes: ['workflows:read'] } : null,
      },
    });
    expect((await call(server, 'GET', '/api/v1/workflows', { cookie: 'session=s-1' })).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/workflows', { cookie: 'session=s-2' })).status).toBe(401);
    expect(audit[0]).toMatchObject({ subject: 'alice', outcome: 'success' });
  });

  test('asynchronous hooks are awaited: authenticate and resolveApiKeyPrincipal may return promises', async () => {
    const { server, audit } = await start({
      auth: {
        authenticate: async (request) => {
          await Bun.sleep(1);
          return request.headers.get('cookie') === 'session=s-1' ? { subject: 'alice', scopes: ['events:read'] } : null;
        },
        resolveApiKeyPrincipal: async (key) => {
          await Bun.sleep(1);
          return key === 'looked-up-key' ? { subject: 'bob', scopes: ['workflows:read'] } : undefined;
        },
      },
    });
    expect((await call(server, 'GET', '/api/v1/events', { cookie: 'session=s-1' })).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/workflows', { 'x-api-key': 'looked-up-key' })).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/workflows', { 'x-api-key': 'unknown-key' })).status).toBe(401);
    expect(audit.map((event) => [event.subject, event.outcome])).toEqual([
      ['alice', 'success'],
      ['bob', 'success'],
      [null, 'failure'],
    ]);
  });

  test('an authenticator that throws or returns a non-principal turns the request away; the server keeps serving', async () => {
    const errors = spyOn(console, 'error').mockImplementation(() => undefined);
    defer(() => errors.mockRestore());
    const { server } = await start({
      auth: {
        authenticate: (request) => {
          if (request.headers.has('x-throw')) throw new Error(`boom ${request.headers.get('x-throw')}`);
          return { subject: '', scopes: 'workflows:read' } as never;
        },
      },
    });
    expect((await call(server, 'GET', '/api/v1/workflows', { 'x-throw': 'secret-value' })).status).toBe(401);
    expect((await call(server, 'GET', '/api/v1/workflows')).status).toBe(401);
    expect((await call(server, 'GET', '/api/v1/health')).status).toBe(200);
    expect(JSON.stringify(errors.mock.calls)).not.toContain('secret-value');
  });
});

describe('JSON-RPC', () => {
  const list = { jsonrpc: '2.0', id: 1, method: 'weft.workflows.list', params: {} };
  const startCall = { jsonrpc: '2.0', id: 2, method: 'weft.workflows.start', params: { type: 'waiter', id: 'w-1' } };

  test('a call without a credential is a 401 with a JSON-RPC error, and nothing runs', async () => {
    const { server, engine } = await start();
    for (const body of [startCall, [startCall, { jsonrpc: '2.0', id: 3, method: 'rpc.discover' }]]) {
      const response = await rpc(server, body);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="weft"');
      expect(await response.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32001, message: expect.any(String), data: { code: 'unauthenticated', status: 401 } },
      });
    }
    const notification = { jsonrpc: '2.0', method: 'weft.workflows.start', params: { type: 'waiter', id: 'w-2' } };
    expect((await rpc(server, notification)).status).toBe(401);
    expect((await engine.list()).total).toBe(0);
  });

  test('an anonymous request is refused from its headers: 401 before a byte of its body is read', async () => {
    const { server, audit } = await start();
    // Declares a megabyte and sends one byte: the answer comes at once, with the body still owed.
    await using connection = await rawConnection(server.port);
    connection.write(
      `POST /api/jsonrpc HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 1000000\r\n\r\n{',
    );
    const response = await connection.response();
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: { data: { code: 'unauthenticated' } } });
    expect(
      audit.map(({ outcome, reason, method, requiredScope }) => ({ outcome, reason, method, requiredScope })),
    ).toEqual([{ outcome: 'failure', reason: 'missing_credential', method: null, requiredScope: null }]);
  });

  test('public methods answer an admitted caller without a scope; anonymously they are 401 like the rest', async () => {
    const { server } = await start();
    for (const method of ['rpc.discover', 'weft.system.health']) {
      const body = { jsonrpc: '2.0', id: 1, method };
      expect((await rpc(server, body)).status).toBe(401);
      expect((await rpc(server, body, bearer('garbage'))).status).toBe(401);
      const admitted = await rpc(server, body, scopes());
      expect({ method, status: admitted.status }).toEqual({ method, status: 200 });
      expect(await admitted.json()).toMatchObject({ id: 1, result: expect.any(Object) });
    }
  });

  test('a key admits calls as over REST', async () => {
    const { server } = await start();
    const response = await rpc(server, list, bearer(API_KEY));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 1, result: { items: [], total: 0 } });
  });

  test('a single call without its scope is a 403 and does not run', async () => {
    const { server, engine } = await start();
    const response = await rpc(server, startCall, scopes('workflows:read'));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: {
        code: -32003,
        message: expect.any(String),
        data: {
          code: 'forbidden',
          status: 403,
          details: { method: 'weft.workflows.start', requiredScope: 'workflows:write' },
        },
      },
    });
    expect((await engine.list()).total).toBe(0);
  });

  test('in a batch, each call is checked on its own', async () => {
    const { server, engine, audit } = await start();
    const response = await rpc(server, [list, startCall, { ...list, id: 3 }], scopes('workflows:read'));
    expect(response.status).toBe(200);
    const answers = (await response.json()) as { id: number; result?: unknown; error?: { data: { code: string } } }[];
    expect(answers.map((answer) => [answer.id, answer.error?.data.code ?? 'ok'])).toEqual([
      [1, 'ok'],
      [2, 'forbidden'],
      [3, 'ok'],
    ]);
    expect((await engine.list()).total).toBe(0);
    // One decision per distinct method called.
    expect(audit.map((event) => [event.method, event.outcome, event.path, event.httpMethod])).toEqual([
      ['weft.workflows.list', 'success', '/api/jsonrpc', 'POST'],
      ['weft.workflows.start', 'failure', '/api/jsonrpc', 'POST'],
    ]);
  });
});

describe('audit trail', () => {
  test('a success carries subject, method, path, httpMethod and outcome, and no fingerprint or credential', async () => {
    const { server, audit } = await start();
    await call(server, 'GET', '/api/v1/workflows?limit=5', bearer(API_KEY));
    expect(audit).toEqual([
      {
        type: 'weft.auth-audit',
        timestamp: expect.any(String),
        outcome: 'success',
        subject: `api-key:${credentialFingerprint(API_KEY)}`,
        method: 'weft.workflows.list',
        path: '/api/v1/workflows',
        httpMethod: 'GET',
        requiredScope: 'workflows:read',
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain(API_KEY);
  });

  test('a failure carries a one-way fingerprint of the presented credential, never the credential', async () => {
    const { server, audit } = await start();
    const guess = 'guessed-key-9876543210';
    await call(server, 'POST', '/api/v1/workflows/w-1/cancel', { 'x-api-key': guess });
    await call(server, 'GET', '/api/v1/workflows');
    expect(audit as unknown[]).toEqual([
      {
        type: 'weft.auth-audit',
        timestamp: expect.any(String),
        outcome: 'failure',
        subject: null,
        method: 'weft.workflows.cancel',
        path: '/api/v1/workflows/w-1/cancel',
        httpMethod: 'POST',
        requiredScope: 'workflows:write',
        reason: 'invalid_credential',
        credentialFingerprint: credentialFingerprint(guess),
      },
      expect.objectContaining({ outcome: 'failure', reason: 'missing_credential', subject: null }),
    ]);
    expect(audit[1]).not.toHaveProperty('credentialFingerprint');
    expect(JSON.stringify(audit)).not.toContain(guess);
    expect(credentialFingerprint(guess)).toMatch(/^sha256:[0-9a-f]{12}$/);
  });

  test('a missing scope is a failure with the subject and reason insufficient_scope', async () => {
    const { server, audit } = await start();
    await call(server, 'GET', '/api/v1/events', scopes('workflows:read'));
    expect(audit as unknown[]).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        subject: 'tester',
        method: 'weft.events.list',
        reason: 'insufficient_scope',
        requiredScope: 'events:read',
      }),
    ]);
  });

  test('by default each decision is one JSON line: console.info for success, console.warn for failure', async () => {
    const info = spyOn(console, 'info').mockImplementation(() => undefined);
    const warn = spyOn(console, 'warn').mockImplementation(() => undefined);
    defer(() => {
      info.mockRestore();
      warn.mockRestore();
    });
    const engine = await openEngine();
    await using server = serve({ engine, port: 0, auth: { apiKeys: [API_KEY] } });
    await call(server, 'GET', '/api/v1/workflows', bearer(API_KEY));
    await call(server, 'GET', '/api/v1/workflows', bearer('wrong-key-value'));
    await call(server, 'GET', '/api/v1/health', bearer('wrong-key-value'));
    expect(info.mock.calls.length).toBe(1);
    expect(warn.mock.calls.length).toBe(1);
    const success = JSON.parse(info.mock.calls[0]![0] as string) as AuthAuditEvent;
    const failure = JSON.parse(warn.mock.calls[0]![0] as string) as AuthAuditEvent;
    expect(success).toMatchObject({ type: 'weft.auth-audit', outcome: 'success', method: 'weft.workflows.list' });
    expect(failure).toMatchObject({ type: 'weft.auth-audit', outcome: 'failure', reason: 'invalid_credential' });
    const logged = JSON.stringify([info.mock.calls, warn.mock.calls]);
    expect(logged).not.toContain(API_KEY);
    expect(logged).not.toContain('wrong-key-value');
  });

  test('a sink that throws does not cost the caller the answer', async () => {
    const errors = spyOn(console, 'error').mockImplementation(() => undefined);
    defer(() => errors.mockRestore());
    const { server } = await start({
      auth: {
        auditSink: () => {
          throw new Error('SIEM down');
        },
      },
    });
    expect((await call(server, 'GET', '/api/v1/workflows', bearer(API_KEY))).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/workflows')).status).toBe(401);
    expect(errors.mock.calls.length).toBe(2);
  });
});

describe('unauthenticatedAccess', () => {
  function withEnv(value: string | undefined): void {
    const before = process.env[AUTHENTICATION_REQUIRED_ENV];
    if (value === undefined) delete process.env[AUTHENTICATION_REQUIRED_ENV];
    else process.env[AUTHENTICATION_REQUIRED_ENV] = value;
    defer(() => {
      if (before === undefined) delete process.env[AUTHENTICATION_REQUIRED_ENV];
      else process.env[AUTHENTICATION_REQUIRED_ENV] = before;
    });
  }

  function spyWarn() {
    const warn = spyOn(console, 'warn').mockImplementation(() => undefined);
    defer(() => warn.mockRestore());
    return warn;
  }

  test("by default ('warn') an open server starts with a loud warning, and every operation is open", async () => {
    withEnv(undefined);
    const warn = spyWarn();
    const engine = await openEngine();
    await using server = serve({ engine, port: 0 });
    expect(warn.mock.calls.length).toBe(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toContain('NO AUTHENTICATION');
    expect(message).toContain(server.url);
    expect((await call(server, 'POST', '/api/v1/workflows', {}, { type: 'waiter' })).status).toBe(201);
  });

  test("'allow' starts silently", async () => {
    withEnv(undefined);
    const warn = spyWarn();
    const engine = await openEngine();
    await using server = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    expect(warn.mock.calls.length).toBe(0);
    expect((await call(server, 'GET', '/api/v1/workflows')).status).toBe(200);
  });

  test("'reject' without auth throws before binding; with auth it starts, silently", async () => {
    withEnv(undefined);
    const warn = spyWarn();
    await expectRefusedBeforeBinding({ unauthenticatedAccess: 'reject' }, AuthenticationRequiredError);
    const engine = await openEngine();
    await using server = serve({
      engine,
      port: 0,
      unauthenticatedAccess: 'reject',
      auth: { apiKeys: [API_KEY], auditSink: () => undefined },
    });
    expect((await call(server, 'GET', '/api/v1/workflows', bearer(API_KEY))).status).toBe(200);
    expect(warn.mock.calls.length).toBe(0);
  });

  test(`${AUTHENTICATION_REQUIRED_ENV}=1 acts as 'reject', whatever the option says`, async () => {
    for (const value of ['1', 'true']) {
      withEnv(value);
      await expectRefusedBeforeBinding({}, AuthenticationRequiredError);
      await expectRefusedBeforeBinding({ unauthenticatedAccess: 'allow' }, AuthenticationRequiredError);
    }
    const engine = await openEngine();
    await using server = serve({ engine, port: 0, auth: { apiKeys: [API_KEY], auditSink: () => undefined } });
    expect((await call(server, 'GET', '/api/v1/workflows')).status).toBe(401);
  });

  test(`${AUTHENTICATION_REQUIRED_ENV}=0 leaves the option in charge; a value that is neither on nor off is refused`, async () => {
    const engine = await openEngine();
    withEnv('0');
    await using open = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    expect((await call(open, 'GET', '/api/v1/workflows')).status).toBe(200);
    withEnv('sure');
    expect(() => serve({ engine, port: 0, unauthenticatedAccess: 'allow' })).toThrow(InvalidArgumentError);
    // A typo is an error even on a server that has auth today.
    expect(() => serve({ engine, port: 0, auth: { apiKeys: [API_KEY] } })).toThrow(InvalidArgumentError);
  });

  test('an unknown policy or an auth config that admits nobody throws before binding', async () => {
    withEnv(undefined);
    const bad: Partial<ServeOptions>[] = [
      { unauthenticatedAccess: 'maybe' as never },
      { unauthenticatedAccess: 'maybe' as never, auth: { apiKeys: [API_KEY] } },
      { auth: {} },
      { auth: { apiKeys: [''] } },
      { auth: { apiKeys: 'k' as never } },
      { auth: { authenticate: 'yes' as never } },
      { auth: { jwt: {} } },
      { auth: { jwt: { secret: JWT_SECRET, jwksUrl: 'https://id.test/jwks' } } },
    ];
    for (const options of bad) await expectRefusedBeforeBinding(options, InvalidArgumentError);
  });
});
