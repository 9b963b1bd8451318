/**
 * Fan-out at the scale the issue names: 1,000 runs wait for a signal, 1,000 real WebSockets watch
 * one run each, every run is signalled over HTTP, and every socket gets its own run's terminal
 * frame and then a normal close (1000) — none is dropped, each gets exactly its run's stored log,
 * none is left open.
 *
 * The trap: a fan-out that works for ten sockets and loses some at a thousand — a listener set
 * dropped while frames are in flight, a close sent before the last frame was queued, a per-caller
 * connection count that leaks. So each socket is checked whole (every seq from 1, one terminal
 * frame, last), and the open-socket gauge must come back to 0.
 */
import { expect, test } from 'bun:test';
import { signal, workflow } from '../../src/index.ts';
import { CloseCode } from '../../src/protocol/realtime.ts';
import { parsePrometheusText, sampleValue } from '../../src/testing/prometheus-text.ts';
import { testServers } from '../../src/testing/test-servers.ts';
import { openTestSocket, type TestSocket } from '../../src/testing/test-socket.ts';

const SOCKETS = 1000;

const go = signal<number>('go');
/** Waits for `go`, then sleeps `n % 3` times: runs differ in their logs, so a crossed feed shows. */
const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx, n: number) {
  const value = yield* ctx.waitForSignal(go);
  for (let i = 0; i < n % 3; i++) yield* ctx.sleep(1);
  return n + value;
});
const { start, defer } = testServers([waiter]);

interface Frame {
  seq: number;
  type: string;
  status: string;
  data: Record<string, unknown>;
}

const frames = (socket: TestSocket) => socket.messages as Frame[];

/** Sockets open now on `route`, as the server's metrics say. */
async function openSockets(url: string, route: string): Promise<number | undefined> {
  const samples = parsePrometheusText(await (await fetch(`${url}/v1/metrics`)).text());
  return sampleValue(samples, 'weft_realtime_connections', { route, transport: 'websocket' });
}

/** `count` calls of `task`, at most `width` at a time. */
async function inBatches(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

test(`${SOCKETS.toLocaleString('en')} sockets watching one run each all see their run's completion, then a normal close`, async () => {
  const server = await start();
  const ids = Array.from({ length: SOCKETS }, (_, i) => `fan-${i}`);
  await Promise.all(ids.map((id, i) => server.engine.start(waiter, i, { id })));
  const sockets = ids.map((id) => openTestSocket(`${server.url}/api/v1/workflows/${id}/watch`));
  defer(() => Promise.all(sockets.map((socket) => socket[Symbol.asyncDispose]())));
  // Every socket is live before any run moves: what follows arrives as live frames, not replayed ones.
  await Promise.all(sockets.map((socket) => socket.until((list) => (list as Frame[]).at(-1)?.status === 'suspended')));
  expect(await openSockets(server.url, 'watch')).toBe(SOCKETS);

  await inBatches(SOCKETS, 64, async (i) => {
    const response = await fetch(`${server.url}/api/v1/workflows/${ids[i]}/signal/go`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payload: 1000 }),
    });
    expect(response.status).toBe(200);
  });
  const closes = await Promise.all(sockets.map((socket) => socket.closed));

  // Each socket got its own run's log, whole (the stored frames, from seq 1), ending with the
  // terminal frame, then the normal close.
  const logs = await Promise.all(ids.map((id) => server.engine.readWatch(id)));
  const wrong = sockets.flatMap((socket, i) => {
    const list = frames(socket);
    const log = logs[i]!.map((record) => ({ ...record, timestamp: new Date(record.timestamp).toISOString() }));
    const whole =
      Bun.deepEquals(list, log) &&
      list.filter((frame) => frame.status === 'completed').length === 1 &&
      list.at(-1)?.type === 'workflow:completed' &&
      closes[i]?.code === CloseCode.finished;
    return whole ? [] : [{ id: ids[i], close: closes[i], frames: list, log }];
  });
  expect(wrong).toEqual([]);
  const results = await Promise.all(ids.map((id) => server.engine.handle(id).result()));
  expect(results).toEqual(ids.map((_, i) => i + 1000));

  // The server has seen every close too: no socket is counted as open any more.
  while ((await openSockets(server.url, 'watch')) !== 0) await Bun.sleep(10);
}, 60_000);
