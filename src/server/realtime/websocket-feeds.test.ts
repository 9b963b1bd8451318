/**
 * The feeds over real WebSockets and raw TCP handshakes: `/watch` and `/stream` with `resumeFrom`,
 * every refusal answered before the upgrade, the subprotocols (MessagePack, the credential offer),
 * authentication, scopes, origins, the rate limit and the connection limit.
 */
import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { signal, workflow } from '../../index.ts';
import { CloseCode, Subprotocol } from '../../protocol/realtime.ts';
import { rawRequest } from '../../testing/raw-http.ts';
import { testServers } from '../../testing/test-servers.ts';
import { openTestSocket } from '../../testing/test-socket.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Principal } from '../security/auth-config.ts';

const go = signal<string>('go');
const talker = workflow({ name: 'talker' }).execute(async function* (ctx) {
  ctx.stream.write('a');
  ctx.stream.write({ b: 2 });
  const value = yield* ctx.waitForSignal(go);
  ctx.stream.write(value);
  return value;
});
const { start, expectRefusedBeforeBinding } = testServers([talker]);

/** A WebSocket handshake as raw HTTP, so refusals before the upgrade can be read as they are sent. */
function handshake(path: string, headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const seqs = (messages: unknown[]) => messages.map((message) => (message as { seq: number }).seq);
const base64url = (text: string) => Buffer.from(text).toString('base64url');

describe('resumeFrom', () => {
  test('anything but -1 or a plain non-negative decimal is refused with 400 before the upgrade', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'r' });
    for (const value of ['', '1.5', '0x10', '1e3', '+1', '-2', '%201', '1%20', '01', 'abc', '99999999999999999999']) {
      const response = await rawRequest(server.port, handshake(`/api/v1/workflows/r/watch?resumeFrom=${value}`));
      expect({ value, status: response.status }).toEqual({ value, status: 400 });
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'bad_request' } });
    }
    for (const value of ['-1', '0', '2', '7']) {
      for (const prefix of ['/api/v1', '/v1']) {
        for (const feed of ['watch', 'stream']) {
          const response = await rawRequest(
            server.port,
            handshake(`${prefix}/workflows/r/${feed}?resumeFrom=${value}`),
          );
          expect({ value, feed, status: response.status }).toEqual({ value, feed, status: 101 });
        }
      }
    }
  });

  test('an unknown run is 404 before the upgrade; a plain GET is 426 naming the ways in', async () => {
    const server = await start();
    const missing = await rawRequest(server.port, handshake('/api/v1/workflows/nobody/watch'));
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ error: { code: 'workflow_not_found' } });
    const plain = await fetch(`${server.url}/api/v1/workflows/nobody/stream`);
    expect(plain.status).toBe(426);
    expect(plain.headers.get('upgrade')).toBe('websocket');
    expect(await plain.json()).toMatchObject({ error: { code: 'upgrade_required' } });
  });

  test('each frame carries its seq; reconnecting after the last one seen gets the rest, with no gap and no duplicate', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'w' });
    const first = openTestSocket(`${server.url}/api/v1/workflows/w/watch`);
    await first.until((messages) => messages.length === 2);
    first.socket.close();
    await first.closed;
    const last = seqs(first.messages).at(-1)!;
    await server.engine.signal('w', go, 'done');
    await using second = openTestSocket(`${server.url}/api/v1/workflows/w/watch?resumeFrom=${last}`);
    const closed = await second.closed;
    expect([...seqs(first.messages), ...seqs(second.messages)]).toEqual([1, 2, 3, 4]);
    expect(second.messages.at(-1)).toMatchObject({ type: 'workflow:completed', status: 'completed' });
    expect(closed.code).toBe(CloseCode.finished);
    // Missing resumeFrom: from before the first retained frame, then closed after the terminal one.
    await using again = openTestSocket(`${server.url}/v1/workflows/w/watch`);
    expect((await again.closed).code).toBe(CloseCode.finished);
    expect(seqs(again.messages)).toEqual([1, 2, 3, 4]);
  });

  test('a cursor above the durable tail is clamped: the socket stays open and gets the later live frames', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'f' });
    await using watch = openTestSocket(`${server.url}/api/v1/workflows/f/watch?resumeFrom=1000`);
    await using stream = openTestSocket(`${server.url}/api/v1/workflows/f/stream?resumeFrom=1000`);
    await Promise.all([watch.opened, stream.opened]);
    await server.engine.signal('f', go, 'later');
    expect((await watch.closed).code).toBe(CloseCode.finished);
    expect((await stream.closed).code).toBe(CloseCode.finished);
    expect(seqs(watch.messages)).toEqual([3, 4]);
    expect(stream.messages).toEqual([expect.objectContaining({ seq: 3, data: 'later' })]);
  });
});

describe('the token stream', () => {
  test('chunks arrive as written, with seq and ISO timestamp; the socket closes normally when the run ends', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 's' });
    await using stream = openTestSocket(`${server.url}/api/v1/workflows/s/stream`);
    await stream.until((messages) => messages.length === 2);
    await server.engine.signal('s', go, 'c');
    expect((await stream.closed).code).toBe(CloseCode.finished);
    expect(stream.messages.map((m) => (m as { data: unknown }).data)).toEqual(['a', { b: 2 }, 'c']);
    expect(seqs(stream.messages)).toEqual([1, 2, 3]);
    expect((stream.messages[0] as { timestamp: string }).timestamp).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  test('offering weft.msgpack.v1 gets binary MessagePack frames and the subprotocol echoed', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'm' });
    await using stream = openTestSocket(`${server.url}/api/v1/workflows/m/stream`, [Subprotocol.msgpack]);
    await stream.until((messages) => messages.length === 2);
    expect(stream.socket.protocol).toBe(Subprotocol.msgpack);
    expect(stream.messages[1]).toMatchObject({ seq: 2, data: { b: 2 } });
    await using json = openTestSocket(`${server.url}/api/v1/workflows/m/stream`, [Subprotocol.json]);
    await json.opened;
    expect(json.socket.protocol).toBe(Subprotocol.json);
    // A binary message on a feed socket is ignored, like any message: the socket only talks.
    stream.socket.send(pack({ hello: 1 }));
    await server.engine.signal('m', go, 'x');
    expect((await stream.closed).code).toBe(CloseCode.finished);
  });
});

describe('who may connect', () => {
  const key = 'k-realtime-1';

  test('with auth: no credential is 401; a header or the subprotocol offer opens; the offer is never echoed', async () => {
    const server = await start({ auth: { apiKeys: [key] } });
    await server.engine.start(talker, undefined, { id: 'a' });
    expect((await rawRequest(server.port, handshake('/api/v1/workflows/a/watch'))).status).toBe(401);
    const wrong = handshake('/api/v1/workflows/a/watch', {
      'Sec-WebSocket-Protocol': `${Subprotocol.json}, ${Subprotocol.authPrefix}${base64url('wrong')}`,
    });
    expect((await rawRequest(server.port, wrong)).status).toBe(401);
    const garbage = handshake('/api/v1/workflows/a/watch', { 'Sec-WebSocket-Protocol': `${Subprotocol.authPrefix}!!` });
    expect((await rawRequest(server.port, garbage)).status).toBe(401);
    expect((await rawRequest(server.port, handshake('/api/v1/workflows/a/watch', { 'X-API-Key': key }))).status).toBe(
      101,
    );
    const offered = await rawRequest(
      server.port,
      handshake('/api/v1/workflows/a/stream', {
        'Sec-WebSocket-Protocol': `${Subprotocol.json}, ${Subprotocol.authPrefix}${base64url(key)}`,
      }),
    );
    expect(offered.status).toBe(101);
    expect(offered.headers['sec-websocket-protocol']).toBe(Subprotocol.json);
    // The way a browser does it.
    await using browser = openTestSocket(`${server.url}/api/v1/workflows/a/watch`, [
      Subprotocol.json,
      `${Subprotocol.authPrefix}${base64url(key)}`,
    ]);
    await browser.until((messages) => messages.length === 2);
    expect(browser.socket.protocol).toBe(Subprotocol.json);
  });

  test('/watch needs events:read and /stream needs streams:read', async () => {
    const principals: Record<string, Principal> = {
      streams: { subject: 'streams-only', scopes: ['streams:read'] },
      events: { subject: 'events-only', scopes: ['events:read'] },
    };
    const server = await start({
      auth: { authenticate: (request) => principals[request.headers.get('x-who') ?? ''] ?? null },
    });
    await server.engine.start(talker, undefined, { id: 'p' });
    const status = async (feed: string, who: string) =>
      (await rawRequest(server.port, handshake(`/api/v1/workflows/p/${feed}`, { 'X-Who': who }))).status;
    expect(await status('watch', 'streams')).toBe(403);
    expect(await status('stream', 'streams')).toBe(101);
    expect(await status('watch', 'events')).toBe(101);
    expect(await status('stream', 'events')).toBe(403);
    const events = await fetch(`${server.url}/api/v1/events`, {
      headers: { accept: 'text/event-stream', 'x-who': 'streams' },
    });
    expect(events.status).toBe(403);
  });

  test('a cross-origin upgrade from an origin cors does not allow, or Origin: null, is 403', async () => {
    const open = await start();
    await open.engine.start(talker, undefined, { id: 'o' });
    const status = async (port: number, origin: string) =>
      (await rawRequest(port, handshake('/api/v1/workflows/o/watch', { Origin: origin }))).status;
    expect(await status(open.port, 'https://evil.example')).toBe(403);
    expect(await status(open.port, 'null')).toBe(403);
    // Same origin: the handshake's Host is 127.0.0.1.
    expect(await status(open.port, 'http://127.0.0.1')).toBe(101);
    expect((await rawRequest(open.port, handshake('/api/jsonrpc', { Origin: 'https://evil.example' }))).status).toBe(
      403,
    );
    const withCors = await start({ cors: { allowedOrigins: ['https://app.example'] } });
    await withCors.engine.start(talker, undefined, { id: 'o' });
    expect(await status(withCors.port, 'https://app.example')).toBe(101);
    expect(await status(withCors.port, 'https://APP.example:443/')).toBe(101);
    expect(await status(withCors.port, 'https://other.example')).toBe(403);
    expect(await status(withCors.port, 'null')).toBe(403);
  });

  test('every upgrade counts against the rate limit', async () => {
    const server = await start({ rateLimit: { maxRequests: 2, windowMs: 60_000 } });
    await server.engine.start(talker, undefined, { id: 'l' });
    expect((await rawRequest(server.port, handshake('/api/v1/workflows/l/watch'))).status).toBe(101);
    expect((await rawRequest(server.port, handshake('/api/jsonrpc'))).status).toBe(101);
    const third = await rawRequest(server.port, handshake('/api/v1/workflows/l/stream'));
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBeDefined();
  });

  test('connections per caller are bounded (429 too_many_connections) and freed when they close', async () => {
    const server = await start({ realtime: { maxConnectionsPerPrincipal: 2 } });
    await server.engine.start(talker, undefined, { id: 'c' });
    const one = openTestSocket(`${server.url}/api/v1/workflows/c/watch`);
    await using two = openTestSocket(`${server.url}/api/jsonrpc`);
    await Promise.all([one.opened, two.opened]);
    const refused = await rawRequest(server.port, handshake('/api/v1/workflows/c/stream'));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'too_many_connections', details: { limit: 2 } } });
    const sse = await fetch(`${server.url}/api/v1/workflows/c/watch`, { headers: { accept: 'text/event-stream' } });
    expect(sse.status).toBe(429);
    one.socket.close();
    await one.closed;
    await using three = openTestSocket(`${server.url}/api/v1/workflows/c/stream`);
    await three.opened;
  });
});

describe('the server side of a socket', () => {
  test('stop() closes open sockets with 1001 and ends SSE streams, without waiting for the grace period', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'x' });
    const watch = openTestSocket(`${server.url}/api/v1/workflows/x/watch`);
    const rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    await Promise.all([watch.opened, rpc.opened]);
    const sse = await fetch(`${server.url}/api/v1/workflows/x/stream`, { headers: { accept: 'text/event-stream' } });
    const body = sse.text();
    const started = performance.now();
    await server.stop();
    expect((await watch.closed).code).toBe(CloseCode.goingAway);
    expect((await rpc.closed).code).toBe(CloseCode.goingAway);
    expect(await body).toContain('"data":"a"');
    // Not the 2 s grace period of requests in flight: nothing was left to force-close.
    expect(performance.now() - started).toBeLessThan(1_900);
  });

  test('the metrics count open connections by route and transport, and the frames sent', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'n' });
    await using watch = openTestSocket(`${server.url}/api/v1/workflows/n/watch`);
    await watch.until((messages) => messages.length === 2);
    const metrics = await (await fetch(`${server.url}/v1/metrics`)).text();
    expect(metrics).toContain(
      'weft_realtime_connections{route="watch",transport="websocket",otel_scope_name="weft"} 1',
    );
    expect(metrics).toContain('weft_realtime_frames_sent_total{route="watch",otel_scope_name="weft"} 2');
    expect(metrics).toMatch(
      /weft_http_requests_total\{route="\/api\/v1\/workflows\/:id\/watch",method="GET",status="101"/,
    );
  });

  test('a broken handshake is 400 and a client that walks away frees its slot, on both transports', async () => {
    const server = await start({ realtime: { maxConnectionsPerPrincipal: 1 } });
    await server.engine.start(talker, undefined, { id: 'b' });
    const noKey = handshake('/api/v1/workflows/b/watch').replace(/Sec-WebSocket-Key: .*\r\n/, '');
    const broken = await rawRequest(server.port, noKey);
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body)).toMatchObject({ error: { code: 'bad_request' } });
    // The refused handshake held no slot: an SSE stream gets it, and gives it back when abandoned.
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/v1/workflows/b/stream`, {
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    expect((await rawRequest(server.port, handshake('/api/v1/workflows/b/watch'))).status).toBe(429);
    controller.abort();
    let status = 429;
    while (status === 429) {
      await Bun.sleep(10);
      status = (await rawRequest(server.port, handshake('/api/v1/workflows/b/watch'))).status;
    }
    expect(status).toBe(101);
  });

  test('a bad realtime limit is refused before anything binds', async () => {
    for (const limits of [{ maxBufferedBytes: 0 }, { stallTimeoutMs: 1.5 }, { maxConnectionsPerPrincipal: -1 }]) {
      await expectRefusedBeforeBinding({ unauthenticatedAccess: 'allow', realtime: limits }, InvalidArgumentError);
    }
  });
});
