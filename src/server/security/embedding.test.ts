/**
 * The security layer without `serve()`: `createServerSecurity` + `handleRequest` from
 * `@lostgradient/weft/server/handler`, as an embedder in another framework uses them.
 */
import { expect, test } from 'bun:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { createServerSecurity, handleRequest } from '../handler-index.ts';
import { testServers } from '../../testing/test-servers.ts';

const KEY = 'embedded-key-0123456789';
const { openEngine } = testServers();

const list = (headers: Record<string, string> = {}) => new Request('http://app.test/api/v1/workflows', { headers });

test('authentication and scopes guard handleRequest when given a security layer', async () => {
  const engine = await openEngine();
  const security = createServerSecurity({ auth: { apiKeys: [KEY], auditSink: () => undefined } });
  expect((await handleRequest(list(), engine, { security })).status).toBe(401);
  expect((await handleRequest(list({ 'x-api-key': KEY }), engine, { security })).status).toBe(200);
  expect((await handleRequest(new Request('http://app.test/v1/health'), engine, { security })).status).toBe(200);
  // Without the layer, the handler is open.
  expect((await handleRequest(list(), engine)).status).toBe(200);
});

test('the rate limit keys unauthenticated callers by the clientAddress the host passes, and counts in the layer', async () => {
  const engine = await openEngine();
  const security = createServerSecurity({ rateLimit: { maxRequests: 2, windowMs: 60_000 } });
  const from = (clientAddress: string) => handleRequest(list(), engine, { security }, { clientAddress });
  expect((await from('10.0.0.1')).status).toBe(200);
  expect((await from('10.0.0.1')).status).toBe(200);
  const refused = await from('10.0.0.1');
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).not.toBeNull();
  expect((await from('10.0.0.2')).status).toBe(200);
  // A new layer has its own counters.
  const fresh = createServerSecurity({ rateLimit: { maxRequests: 2, windowMs: 60_000 } });
  expect((await handleRequest(list(), engine, { security: fresh }, { clientAddress: '10.0.0.1' })).status).toBe(200);
});

test('CORS preflights are answered and responses decorated', async () => {
  const engine = await openEngine();
  const security = createServerSecurity({
    auth: { apiKeys: [KEY], auditSink: () => undefined },
    cors: { allowedOrigins: ['https://ui.example'] },
  });
  const preflight = new Request('http://app.test/api/v1/workflows', {
    method: 'OPTIONS',
    headers: { origin: 'https://ui.example', 'access-control-request-method': 'GET' },
  });
  const answer = await handleRequest(preflight, engine, { security });
  expect(answer.status).toBe(204);
  expect(answer.headers.get('access-control-allow-origin')).toBe('https://ui.example');
  const response = await handleRequest(list({ origin: 'https://ui.example' }), engine, { security });
  expect(response.status).toBe(401);
  expect(response.headers.get('access-control-allow-origin')).toBe('https://ui.example');
});

test('a bad configuration throws when the layer is built', () => {
  expect(() => createServerSecurity({ auth: {} })).toThrow(InvalidArgumentError);
  expect(() => createServerSecurity({ rateLimit: { maxRequests: 0, windowMs: 1 } })).toThrow(InvalidArgumentError);
  expect(() => createServerSecurity({ cors: { allowedOrigins: ['*'], credentials: true } })).toThrow(
    InvalidArgumentError,
  );
});
