/**
 * The feeds as Server-Sent Events over real sockets: `id` is the seq, `Last-Event-ID` resumes,
 * `end` closes a run's feed, and a stream quiet for longer than Bun's 10 s idle timeout stays open.
 * Also through `handleRequest` alone (no Bun), as a Service Worker would serve it.
 */
import { describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { MemoryStorage } from '../../storage/memory/index.ts';
import { Engine } from '../../engine/engine.ts';
import { signal, workflow } from '../../index.ts';
import { testServers } from '../../testing/test-servers.ts';
import { openTestSocket } from '../../testing/test-socket.ts';
import { handleRequest } from '../handler.ts';

const go = signal<string>('go');
const talker = workflow({ name: 'talker' }).execute(async function* (ctx) {
  ctx.stream.write('a');
  const value = yield* ctx.waitForSignal(go);
  ctx.stream.write(value);
  return value;
});
const { start, defer } = testServers([talker]);

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** The events of an SSE body (comments and `retry` dropped). */
function eventsOf(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => {
      const event: SseEvent = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const field = line.slice(0, colon) as keyof SseEvent;
        if (field === 'id' || field === 'event' || field === 'data') event[field] = line.slice(colon + 1).trimStart();
      }
      return event;
    })
    .filter((event) => event.event !== undefined);
}

const sse = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { accept: 'text/event-stream', ...headers } });

describe('Server-Sent Events', () => {
  test('a run’s watch: one event per frame with its seq as id, then end; Last-Event-ID resumes after it', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'e' });
    await server.engine.signal('e', go, 'b');
    await server.engine.handle('e').result();
    const whole = await sse(`${server.url}/api/v1/workflows/e/watch`);
    expect(whole.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = eventsOf(await whole.text());
    expect(events.map((event) => [event.id, event.event])).toEqual([
      ['1', 'watch'],
      ['2', 'watch'],
      ['3', 'watch'],
      ['4', 'watch'],
      [undefined, 'end'],
    ]);
    expect(JSON.parse(events[3]!.data!)).toMatchObject({ seq: 4, status: 'completed' });
    const resumed = eventsOf(
      await (await sse(`${server.url}/v1/workflows/e/watch?resumeFrom=1`, { 'last-event-id': '2' })).text(),
    );
    expect(resumed.map((event) => event.id)).toEqual(['3', '4', undefined]);
    const chunks = eventsOf(await (await sse(`${server.url}/api/v1/workflows/e/stream?resumeFrom=1`)).text());
    expect(
      chunks.map((event) => [event.event, event.data && (JSON.parse(event.data) as { data: unknown }).data]),
    ).toEqual([
      ['chunk', 'b'],
      ['end', undefined],
    ]);
    const bad = await sse(`${server.url}/api/v1/workflows/e/watch`, { 'last-event-id': '1.0' });
    expect(bad.status).toBe(400);
  });

  test('fleet events: GET /events with Accept: text/event-stream follows the log from resumeFrom', async () => {
    const server = await start();
    await server.engine.start(talker, undefined, { id: 'f1' });
    const controller = new AbortController();
    defer(() => controller.abort());
    const response = await fetch(`${server.url}/api/v1/events?resumeFrom=0`, {
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    await server.engine.start(talker, undefined, { id: 'f2' });
    while (!text.includes('"workflowId":"f2"')) text += (await reader.read()).value ?? '';
    const events = eventsOf(text.slice(0, text.lastIndexOf('\n\n')));
    expect(events.every((event) => event.event === 'event')).toBe(true);
    expect(events.map((event) => Number(event.id))).toEqual(events.map((_, index) => index + 1));
    controller.abort();
    // A plain GET is still the REST list.
    expect(await (await fetch(`${server.url}/api/v1/events`)).json()).toMatchObject({ items: expect.any(Array) });
  });

  test('handleRequest serves SSE without Bun; a WebSocket upgrade it cannot perform is a 400', async () => {
    const storage = new MemoryStorage();
    const engine = await Engine.create({ storage, workflows: [talker], shutdownGracePeriod: 0 });
    defer(async () => {
      await engine.close();
      await storage.close();
    });
    await engine.start(talker, undefined, { id: 'h' });
    await engine.signal('h', go, 'z');
    await engine.handle('h').result();
    const response = await handleRequest(
      new Request('http://weft.test/api/v1/workflows/h/stream', { headers: { accept: 'text/event-stream' } }),
      engine,
    );
    expect(eventsOf(await response.text()).map((event) => event.event)).toEqual(['chunk', 'chunk', 'end']);
    const upgrade = await handleRequest(
      new Request('http://weft.test/api/v1/workflows/h/stream', { headers: { upgrade: 'websocket' } }),
      engine,
    );
    expect(upgrade.status).toBe(400);
  });
});

describe('quiet for longer than every idle timeout in the stack', () => {
  test('a subscribed WebSocket, a JSON-RPC subscription and an SSE stream all stay open 12 s and get the next frame', async () => {
    // Sockets quiet for 4 s are pinged, and dropped 4 s later without a pong: only pongs keep them.
    const server = await start({ realtime: { idleTimeoutSeconds: 4 } });
    await server.engine.start(talker, undefined, { id: 'q' });
    // A peer that never answers a ping (it reads, but speaks no WebSocket) is dropped.
    const deaf = connect(server.port, '127.0.0.1');
    defer(() => deaf.destroy());
    deaf.on('data', () => undefined);
    const deafClosed = new Promise<void>((resolve) => deaf.on('close', () => resolve()));
    deaf.write(
      'GET /api/v1/workflows/q/watch HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const ws = openTestSocket(`${server.url}/api/v1/workflows/q/watch`);
    defer(() => ws.socket.close());
    const rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    defer(() => rpc.socket.close());
    await rpc.opened;
    rpc.send({ jsonrpc: '2.0', id: 1, method: 'weft.workflows.subscribe', params: { id: 'q' } });
    const stream = await sse(`${server.url}/api/v1/workflows/q/stream`);
    const body = stream.text();
    await Promise.all([ws.until((m) => m.length === 2), rpc.until((m) => m.length === 3)]);
    // Bun's default idle timeout is 10 s: a stream nobody told it about would be cut by now.
    await Bun.sleep(12_000);
    await deafClosed;
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    await server.engine.signal('q', go, 'late');
    expect((await ws.closed).code).toBe(1000);
    expect(ws.messages.at(-1)).toMatchObject({ status: 'completed' });
    await rpc.until((messages) =>
      messages.some((m) => (m as { method?: string }).method === 'weft.subscription.ended'),
    );
    const chunks = eventsOf(await body);
    expect(chunks.map((event) => event.event)).toEqual(['chunk', 'chunk', 'end']);
    expect(JSON.parse(chunks[1]!.data!)).toMatchObject({ seq: 2, data: 'late' });
  }, 30_000);
});
