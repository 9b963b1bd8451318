/**
 * `serve({ rateLimit })` from a user's side: the fixed-window counter and its headers on a fake
 * clock, then a real server on port 0 — the 429 of the request past the budget, budgets per subject
 * (else per client address), guessed keys throttled like any flood, and the routes that are never
 * counted. HTTP tests use a 60 s window and assert no timing, so a slow machine cannot flip them.
 */
import { describe, expect, spyOn, test } from 'bun:test';
import { InvalidArgumentError, workflow } from '../../index.ts';
import type { AuthAuditEvent, Principal, RateLimitOptions, ServeOptions, WeftServer } from '../index.ts';
import { serve } from '../index.ts';
import { FixedWindowRateLimiter, rateLimitHeaders, type RateLimitDecision } from './rate-limiter.ts';
import { testServers, type TestServer } from '../../testing/test-servers.ts';

const WINDOW_MS = 60_000;
const ORIGIN = 'https://a.example';

const noop = workflow({ name: 'noop' }).execute(async function* () {
  return 1;
});

const { openEngine, start } = testServers([noop]);

/** A server with a rate limit of `maxRequests` per minute; open unless `auth` is given. */
function limitedServer(maxRequests: number, options: Partial<ServeOptions> = {}): Promise<TestServer> {
  const { auth, ...rest } = options;
  return start({
    rateLimit: { maxRequests, windowMs: WINDOW_MS },
    // A silent audit sink unless the test reads the events: the console is the default.
    ...(auth === undefined ? {} : { auth: { auditSink: () => undefined, ...auth } }),
    ...rest,
  });
}

/** A clock the test moves by hand. */
function fakeClock(start: number): { now: () => number; set: (at: number) => void } {
  let at = start;
  return { now: () => at, set: (next) => (at = next) };
}

const list = (server: WeftServer, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/v1/workflows`, { headers });
const withKey = (key: string) => ({ 'x-api-key': key });
const jsonRpc = (server: WeftServer, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const rpcCall = (id: number, method: string, params: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method,
  params,
});
const remainingOf = (response: Response) => response.headers.get('x-ratelimit-remaining');

/** Spends the whole budget of the requests `send` makes, checking each one went through. */
async function spend(maxRequests: number, send: () => Promise<Response>): Promise<void> {
  for (let i = 1; i <= maxRequests; i++) {
    const response = await send();
    expect(response.status).toBe(200);
    await response.body?.cancel();
  }
}

describe('FixedWindowRateLimiter', () => {
  test('admits maxRequests requests of a key per window and refuses the next', () => {
    const clock = fakeClock(10_000);
    const limiter = new FixedWindowRateLimiter({ maxRequests: 3, windowMs: 1_000 }, clock.now);
    expect([1, 2, 3, 4, 5].map(() => limiter.take('k').allowed)).toEqual([true, true, true, false, false]);
  });

  test('each decision reports the limit and the requests left, never below zero', () => {
    const limiter = new FixedWindowRateLimiter({ maxRequests: 2, windowMs: 1_000 }, fakeClock(0).now);
    const decisions = [1, 2, 3, 4].map(() => limiter.take('k'));
    expect(decisions.map((d) => [d.allowed, d.limit, d.remaining])).toEqual([
      [true, 2, 1],
      [true, 2, 0],
      [false, 2, 0],
      [false, 2, 0],
    ]);
  });

  test('windows are aligned to the clock: the budget comes back at the next multiple of windowMs', () => {
    const clock = fakeClock(1_500);
    const limiter = new FixedWindowRateLimiter({ maxRequests: 1, windowMs: 1_000 }, clock.now);
    expect(limiter.take('k')).toEqual({ allowed: true, limit: 1, remaining: 0, resetAt: 2_000 });
    clock.set(1_999);
    expect(limiter.take('k')).toEqual({ allowed: false, limit: 1, remaining: 0, resetAt: 2_000 });
    clock.set(2_000);
    expect(limiter.take('k')).toEqual({ allowed: true, limit: 1, remaining: 0, resetAt: 3_000 });
  });

  test('a first request just before the boundary gets a fresh budget at the boundary, not windowMs later', () => {
    const clock = fakeClock(4_999);
    const limiter = new FixedWindowRateLimiter({ maxRequests: 1, windowMs: 1_000 }, clock.now);
    expect(limiter.take('k').resetAt).toBe(5_000);
    clock.set(5_001);
    expect(limiter.take('k').allowed).toBe(true);
  });

  test('keys have separate budgets', () => {
    const limiter = new FixedWindowRateLimiter({ maxRequests: 1, windowMs: 1_000 }, fakeClock(0).now);
    expect(limiter.take('subject:a').allowed).toBe(true);
    expect(limiter.take('subject:a').allowed).toBe(false);
    expect(limiter.take('subject:b').allowed).toBe(true);
    expect(limiter.take('address:127.0.0.1').allowed).toBe(true);
  });

  test('refused requests run up no debt: however many were refused, the next window grants the full budget', () => {
    const clock = fakeClock(0);
    const limiter = new FixedWindowRateLimiter({ maxRequests: 3, windowMs: 1_000 }, clock.now);
    for (let i = 0; i < 10_000; i++) limiter.take('flood');
    const refused = limiter.take('flood');
    expect(refused).toEqual({ allowed: false, limit: 3, remaining: 0, resetAt: 1_000 });
    clock.set(1_000);
    expect([1, 2, 3, 4].map(() => limiter.take('flood').allowed)).toEqual([true, true, true, false]);
  });

  test('a new window forgets every key of the last one', () => {
    const clock = fakeClock(0);
    const limiter = new FixedWindowRateLimiter({ maxRequests: 1, windowMs: 1_000 }, clock.now);
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    clock.set(2_500);
    for (const key of ['a', 'b', 'c']) expect(limiter.take(key)).toMatchObject({ allowed: true, resetAt: 3_000 });
  });

  test.each([
    ['maxRequests 0', { maxRequests: 0, windowMs: 1_000 }],
    ['maxRequests negative', { maxRequests: -1, windowMs: 1_000 }],
    ['maxRequests fractional', { maxRequests: 1.5, windowMs: 1_000 }],
    ['maxRequests NaN', { maxRequests: Number.NaN, windowMs: 1_000 }],
    ['maxRequests a string', { maxRequests: '10', windowMs: 1_000 }],
    ['maxRequests missing', { windowMs: 1_000 }],
    ['windowMs 0', { maxRequests: 10, windowMs: 0 }],
    ['windowMs negative', { maxRequests: 10, windowMs: -1_000 }],
    ['windowMs Infinity', { maxRequests: 10, windowMs: Number.POSITIVE_INFINITY }],
    ['windowMs fractional', { maxRequests: 10, windowMs: 0.5 }],
    ['windowMs missing', { maxRequests: 10 }],
  ])('%s is refused with InvalidArgumentError', (_, options) => {
    expect(() => new FixedWindowRateLimiter(options as unknown as RateLimitOptions)).toThrow(InvalidArgumentError);
  });
});

describe('rateLimitHeaders', () => {
  const decision = (overrides: Partial<RateLimitDecision>): RateLimitDecision => ({
    allowed: true,
    limit: 100,
    remaining: 99,
    resetAt: 1_700_000_060_000,
    ...overrides,
  });

  test('an allowed decision gets X-RateLimit-Limit, -Remaining and -Reset (epoch seconds) and no Retry-After', () => {
    expect(rateLimitHeaders(decision({}), 1_700_000_000_000)).toEqual({
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '99',
      'x-ratelimit-reset': '1700000060',
    });
  });

  test('a refused decision also gets Retry-After: the seconds until the window ends, rounded up', () => {
    const headers = rateLimitHeaders(decision({ allowed: false, remaining: 0 }), 1_700_000_058_500);
    expect(headers).toEqual({
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '1700000060',
      'retry-after': '2',
    });
  });

  test('Retry-After is at least 1, even with milliseconds left or none at all', () => {
    const refused = decision({ allowed: false, remaining: 0, resetAt: 10_000 });
    expect(rateLimitHeaders(refused, 9_999)['retry-after']).toBe('1');
    expect(rateLimitHeaders(refused, 10_000)['retry-after']).toBe('1');
  });

  test('X-RateLimit-Reset rounds a window end that is not a whole second up', () => {
    expect(rateLimitHeaders(decision({ resetAt: 1_500 }), 0)['x-ratelimit-reset']).toBe('2');
  });

  test('the headers of a limiter decision describe that decision', () => {
    const clock = fakeClock(1_700_000_000_250);
    const limiter = new FixedWindowRateLimiter({ maxRequests: 1, windowMs: 60_000 }, clock.now);
    limiter.take('k');
    expect(rateLimitHeaders(limiter.take('k'), clock.now())).toEqual({
      'x-ratelimit-limit': '1',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '1700000040',
      'retry-after': '40',
    });
  });
});

describe('serve({ rateLimit }) over HTTP', () => {
  test('the request past the budget gets 429 rate_limited with Retry-After and X-RateLimit-* headers', async () => {
    const auth = { apiKeys: ['key-1'] };
    const server = await limitedServer(3, { auth });
    const before = Date.now();
    await spend(3, () => list(server, withKey('key-1')));
    const response = await list(server, withKey('key-1'));
    const after = Date.now();
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect(response.headers.get('x-ratelimit-limit')).toBe('3');
    expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    expect(Number.isInteger(reset)).toBe(true);
    expect(reset).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(reset).toBeLessThanOrEqual(Math.ceil((after + WINDOW_MS) / 1000));
    const retryAfter = response.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(WINDOW_MS / 1000);
  });

  test('allowed responses carry X-RateLimit-* counting down, and no Retry-After', async () => {
    const server = await limitedServer(3);
    const responses = [await list(server), await list(server), await list(server)];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(responses.map((r) => r.headers.get('x-ratelimit-limit'))).toEqual(['3', '3', '3']);
    expect(responses.map(remainingOf)).toEqual(['2', '1', '0']);
    for (const response of responses) {
      expect(response.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
      expect(response.headers.has('retry-after')).toBe(false);
    }
  });

  test('a rate-limited principal stays refused however many more requests it sends', async () => {
    const server = await limitedServer(2, { auth: { apiKeys: ['key-1'] } });
    await spend(2, () => list(server, withKey('key-1')));
    for (let i = 0; i < 5; i++) expect((await list(server, withKey('key-1'))).status).toBe(429);
  });

  test('two API keys of two subjects have separate budgets', async () => {
    const grants: Record<string, Principal> = {
      'key-a': { subject: 'team-a', scopes: ['workflows:read'] },
      'key-b': { subject: 'team-b', scopes: ['workflows:read'] },
    };
    const server = await limitedServer(2, { auth: { resolveApiKeyPrincipal: (key) => grants[key] } });
    await spend(2, () => list(server, withKey('key-a')));
    expect((await list(server, withKey('key-a'))).status).toBe(429);
    const other = await list(server, withKey('key-b'));
    expect(other.status).toBe(200);
    expect(remainingOf(other)).toBe('1');
  });

  test('two static apiKeys are two principals with separate budgets', async () => {
    const server = await limitedServer(1, { auth: { apiKeys: ['key-1', 'key-2'] } });
    expect((await list(server, withKey('key-1'))).status).toBe(200);
    expect((await list(server, withKey('key-1'))).status).toBe(429);
    expect((await list(server, { authorization: 'Bearer key-2' })).status).toBe(200);
  });

  test('the budget belongs to the subject: two keys of the same subject share it', async () => {
    const grant: Principal = { subject: 'service-account', scopes: ['workflows:read'] };
    const server = await limitedServer(2, {
      auth: { resolveApiKeyPrincipal: (key) => (key === 'key-v1' || key === 'key-v2' ? grant : undefined) },
    });
    expect((await list(server, withKey('key-v1'))).status).toBe(200);
    expect((await list(server, withKey('key-v2'))).status).toBe(200);
    expect((await list(server, withKey('key-v2'))).status).toBe(429);
    expect((await list(server, withKey('key-v1'))).status).toBe(429);
  });

  test('without auth every request from one client address shares one budget', async () => {
    const server = await limitedServer(3);
    expect((await list(server)).status).toBe(200);
    expect((await list(server, withKey('made-up-1'))).status).toBe(200);
    expect((await fetch(`${server.url}/v1/workflows?limit=5`)).status).toBe(200);
    const refused = await list(server, withKey('made-up-2'));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });

  test('failed authentication attempts count against the client address: a flood of guesses ends in 429', async () => {
    const server = await limitedServer(3, { auth: { apiKeys: ['the-right-key'] } });
    const guesses = [
      await list(server, withKey('guess-1')),
      await list(server, withKey('guess-2')),
      await list(server),
    ];
    expect(guesses.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(guesses.map(remainingOf)).toEqual(['2', '1', '0']);
    const flood = await list(server, withKey('guess-3'));
    expect(flood.status).toBe(429);
    expect(flood.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await flood.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect((await list(server, { authorization: 'Bearer guess-4' })).status).toBe(429);
  });

  test('a flood of guesses from an address does not spend the budget of an authenticated subject', async () => {
    const server = await limitedServer(2, { auth: { apiKeys: ['the-right-key'] } });
    for (const guess of ['g-1', 'g-2', 'g-3']) await list(server, withKey(guess));
    expect((await list(server, withKey('g-4'))).status).toBe(429);
    const legitimate = await list(server, withKey('the-right-key'));
    expect(legitimate.status).toBe(200);
    expect(remainingOf(legitimate)).toBe('1');
  });

  test('a request turned away by the rate limit is still audited, like every authentication decision', async () => {
    const events: AuthAuditEvent[] = [];
    const server = await limitedServer(1, { auth: { apiKeys: ['key-1'], auditSink: (e) => events.push(e) } });
    expect((await list(server, withKey('key-1'))).status).toBe(200);
    expect((await list(server, withKey('key-1'))).status).toBe(429);
    expect(events.map((e) => [e.outcome, e.method])).toEqual([
      ['success', 'weft.workflows.list'],
      ['success', 'weft.workflows.list'],
    ]);
  });

  test('health, metrics, the discovery documents and an admitted rpc.discover are never counted nor limited', async () => {
    const server = await limitedServer(2, { auth: { apiKeys: ['key-1'] } });
    const publicRequests = (): Promise<Response>[] => [
      fetch(`${server.url}/api/v1/health`),
      fetch(`${server.url}/v1/health`),
      fetch(`${server.url}/v1/metrics`),
      fetch(`${server.url}/openapi.json`),
      fetch(`${server.url}/openrpc.json`),
      // On a protected server JSON-RPC is authenticated before its body is read; public methods cost nothing.
      jsonRpc(server, rpcCall(1, 'rpc.discover'), withKey('key-1')),
    ];
    for (let round = 0; round < 3; round++) {
      const responses = await Promise.all(publicRequests());
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      for (const response of responses) expect(response.headers.has('x-ratelimit-remaining')).toBe(false);
    }
    // Nothing above was counted: the address budget is whole for a guess, the subject's for its key.
    expect(remainingOf(await list(server, withKey('wrong')))).toBe('1');
    await spend(2, () => list(server, withKey('key-1')));
    expect((await list(server, withKey('key-1'))).status).toBe(429);
    expect((await list(server, withKey('wrong'))).status).toBe(401);
    expect((await list(server, withKey('wrong'))).status).toBe(429);
    // Both budgets are spent; the public routes still answer.
    const after = await Promise.all(publicRequests());
    expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await after[5]!.json()).toMatchObject({ jsonrpc: '2.0', id: 1, result: { openrpc: expect.any(String) } });
  });

  test('a CORS preflight is never counted nor limited', async () => {
    const server = await limitedServer(2, { cors: { allowedOrigins: [ORIGIN] } });
    const preflight = () =>
      fetch(`${server.url}/api/v1/workflows`, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      });
    for (let i = 0; i < 3; i++) expect((await preflight()).status).toBe(204);
    await spend(2, () => list(server, { origin: ORIGIN }));
    const refused = await list(server, { origin: ORIGIN });
    expect(refused.status).toBe(429);
    const answer = await preflight();
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(answer.headers.has('x-ratelimit-remaining')).toBe(false);
  });

  test('each call of a JSON-RPC batch counts; a batch over the budget left is refused whole', async () => {
    const server = await limitedServer(5);
    const batch = await jsonRpc(server, [
      rpcCall(1, 'weft.workflows.list'),
      rpcCall(2, 'weft.workflows.list', { limit: 1 }),
      rpcCall(3, 'weft.workflows.get', { id: 'missing' }),
      rpcCall(4, 'rpc.discover'),
    ]);
    expect(batch.status).toBe(200);
    expect(((await batch.json()) as unknown[]).length).toBe(4);
    // Three guarded calls cost three; the public rpc.discover costs nothing.
    expect(remainingOf(batch)).toBe('2');
    const starts = Array.from({ length: 100 }, (_, i) => rpcCall(i, 'weft.workflows.start', { type: 'noop' }));
    const refused = await jsonRpc(server, starts);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { data: { code: 'rate_limited' } } });
    expect((await list(server)).status).toBe(429);
    expect((await server.engine.list()).total).toBe(0);
  });

  test('seven batches of 100 starts under a budget of 5 start no more than 5 runs', async () => {
    const server = await limitedServer(5);
    for (let round = 0; round < 7; round++) {
      const starts = Array.from({ length: 100 }, (_, i) => rpcCall(i, 'weft.workflows.start', { type: 'noop' }));
      expect((await jsonRpc(server, starts)).status).toBe(429);
    }
    const few = Array.from({ length: 5 }, (_, i) => rpcCall(i, 'weft.workflows.start', { type: 'noop' }));
    expect((await jsonRpc(server, few)).status).toBe(429);
    expect((await server.engine.list()).total).toBe(0);
  });

  test('a JSON-RPC request over the budget gets 429 with a rate_limited JSON-RPC error and Retry-After', async () => {
    const server = await limitedServer(1);
    expect((await jsonRpc(server, rpcCall(1, 'weft.workflows.list'))).status).toBe(200);
    const refused = await jsonRpc(server, rpcCall(2, 'weft.workflows.list'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'rate_limited' } } });
  });

  test('a bad rateLimit throws InvalidArgumentError from serve() before a port is bound', async () => {
    const engine = await openEngine();
    const bind = spyOn(Bun, 'serve');
    try {
      const bad: unknown[] = [
        { maxRequests: 0, windowMs: WINDOW_MS },
        { maxRequests: 10, windowMs: 0 },
        { maxRequests: 2.5, windowMs: WINDOW_MS },
        { maxRequests: 10 },
        null,
      ];
      for (const rateLimit of bad) {
        expect(() =>
          serve({ engine, port: 0, unauthenticatedAccess: 'allow', rateLimit: rateLimit as RateLimitOptions }),
        ).toThrow(InvalidArgumentError);
      }
      expect(bind).not.toHaveBeenCalled();
    } finally {
      bind.mockRestore();
    }
    // The engine is untouched: a correct configuration serves it at once.
    await using server = serve({
      engine,
      port: 0,
      unauthenticatedAccess: 'allow',
      rateLimit: { maxRequests: 1, windowMs: WINDOW_MS },
    });
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
  });
});
