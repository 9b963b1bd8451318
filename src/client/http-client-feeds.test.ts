/**
 * `client.watch`, `client.stream` and `client.events` against a real `serve()` on port 0: each
 * feed yields what the engine's durable logs hold, `after` resumes exactly, a server restart in the
 * middle of a run costs neither a frame nor a duplicate, the signal closes the connection, and
 * refusals arrive as the server's `WeftError`s.
 *
 * The runs wait for a `go` signal before each token, so a test decides when frames exist.
 */
import { describe, expect, test } from 'bun:test';
import { signal, workflow } from '../index.ts';
import { handleRequest } from '../server/handler.ts';
import { serve } from '../server/serve.ts';
import { parsePrometheusText, sampleValue } from '../testing/prometheus-text.ts';
import { testServers, type TestServer } from '../testing/test-servers.ts';
import { HttpClient, type FetchFunction } from './index.ts';
import { weftRejection } from '../testing/weft-rejection.ts';

const go = signal<number>('go');

/** Writes one token per `go` signal, `rounds` times, then completes. */
const chatty = workflow({ name: 'chatty' }).execute(async function* (ctx, input: { rounds: number }) {
  for (let round = 1; round <= input.rounds; round++) {
    const n = yield* ctx.waitForSignal(go);
    ctx.stream.write(`token-${n}`);
  }
  return 'done';
});

const { start, defer } = testServers([chatty]);

/** Reconnect at once in tests: a restart should cost milliseconds, not the default second. */
const fast = { retryDelayMs: 10, maxRetryDelayMs: 50 };

async function collect<T>(frames: AsyncIterable<T>): Promise<T[]> {
  const seen: T[] = [];
  for await (const frame of frames) seen.push(frame);
  return seen;
}

/** The next value of `iterator`, which must not have ended. */
async function nextOf<T>(iterator: AsyncIterator<T>): Promise<T> {
  const result = await iterator.next();
  if (result.done === true) throw new Error('the feed ended early');
  return result.value;
}

/** Starts a `chatty` run of `rounds` tokens and sends every `go` signal, so it completes. */
async function finishedRun(server: TestServer, rounds: number): Promise<string> {
  const handle = await server.engine.start(chatty, { rounds });
  for (let n = 1; n <= rounds; n++) await server.engine.signal(handle.id, go, n);
  await handle.result();
  return handle.id;
}

/** The run's watch frames and stream chunks as the engine stored them. */
async function stored(server: TestServer, id: string): Promise<{ watch: number[]; chunks: unknown[] }> {
  const watch = (await server.engine.readWatch(id)).map((frame) => frame.seq);
  const chunks = (await server.engine.readStream(id)).chunks.map((chunk) => chunk.data);
  return { watch, chunks };
}

/** Open SSE connections of `route` on `server`, from its metrics. */
async function openFeeds(server: TestServer, route: string): Promise<number> {
  const text = await (await fetch(`${server.url}/v1/metrics`)).text();
  return sampleValue(parsePrometheusText(text), 'weft_realtime_connections', { route, transport: 'sse' }) ?? 0;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('HttpClient feeds against serve()', () => {
  test('watch yields every state change of a run, in order, and ends after its terminal one', async () => {
    const server = await start();
    const client = new HttpClient({ baseUrl: server.url });
    const { id } = await client.startWorkflow({ type: 'chatty', input: { rounds: 2 } });
    const watching = collect(client.watch(id));
    for (let n = 1; n <= 2; n++) await client.signalWorkflow({ id, name: 'go', payload: n });
    const frames = await watching;
    expect(frames.map((frame) => frame.seq)).toEqual((await stored(server, id)).watch);
    expect(frames[0]).toMatchObject({ seq: 1, type: 'workflow:started', status: 'running' });
    expect(frames.at(-1)).toMatchObject({ type: 'workflow:completed', status: 'completed' });
    expect(typeof frames[0]!.timestamp).toBe('string');
  });

  test("stream yields the run's chunks as written and ends when the run ended", async () => {
    const server = await start();
    const client = new HttpClient({ baseUrl: server.url });
    const { id } = await client.startWorkflow({ type: 'chatty', input: { rounds: 3 } });
    const streaming = collect(client.stream(id));
    for (let n = 1; n <= 3; n++) await client.signalWorkflow({ id, name: 'go', payload: n });
    const chunks = await streaming;
    expect(chunks.map((chunk) => chunk.data)).toEqual(['token-1', 'token-2', 'token-3']);
    expect(chunks.map((chunk) => chunk.seq)).toEqual([1, 2, 3]);
  });

  test('events yields fleet events that happen after it connected, and runs until stopped', async () => {
    const server = await start();
    await finishedRun(server, 1); // before the feed: not replayed without `after`
    const connected = Promise.withResolvers<void>();
    const client = new HttpClient({
      baseUrl: server.url,
      fetch: async (request) => {
        const response = await fetch(request);
        connected.resolve();
        return response;
      },
    });
    const abort = new AbortController();
    const seen: { type: string; workflowId: string | null; seq: number }[] = [];
    const following = (async () => {
      for await (const event of client.events({ signal: abort.signal })) {
        seen.push(event);
        if (event.type === 'workflow:completed') abort.abort();
      }
    })();
    await connected.promise;
    const id = await finishedRun(server, 1);
    await following;
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((event) => event.workflowId === id)).toBe(true);
    expect(seen[0]!.type).toBe('workflow:started');
    const seqs = seen.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  test('after resumes exactly after the given seq, and -1 starts before everything retained', async () => {
    const server = await start();
    const client = new HttpClient({ baseUrl: server.url });
    const id = await finishedRun(server, 3);
    const all = (await collect(client.watch(id))).map((frame) => frame.seq);
    expect((await collect(client.watch(id, { after: -1 }))).map((frame) => frame.seq)).toEqual(all);
    for (const [index, seq] of all.entries()) {
      expect((await collect(client.watch(id, { after: seq }))).map((frame) => frame.seq)).toEqual(all.slice(index + 1));
    }
    expect((await collect(client.stream(id, { after: 1 }))).map((chunk) => chunk.data)).toEqual(['token-2', 'token-3']);

    const events = (await client.listEvents({})).items;
    const from = events[1]!.seq;
    const resumed = [];
    for await (const event of client.events({ after: from })) {
      resumed.push(event.seq);
      if (resumed.length === events.length - 2) break;
    }
    expect(resumed).toEqual(events.slice(2).map((event) => event.seq));
  });

  test('a server restart in the middle of a run is survived without a gap or a duplicate', async () => {
    const server = await start();
    let connections = 0;
    const client = new HttpClient({
      baseUrl: server.url,
      fetch: (request) => {
        if (request.headers.get('accept') === 'text/event-stream') connections++;
        return fetch(request);
      },
    });
    const { engine } = server;
    const { id } = await client.startWorkflow({ type: 'chatty', input: { rounds: 4 } });
    const watch = client.watch(id, fast)[Symbol.asyncIterator]();
    const stream = client.stream(id, fast)[Symbol.asyncIterator]();
    const frames: number[] = [];
    const chunks: unknown[] = [];
    const next = async () => {
      const frame = await nextOf(watch);
      frames.push(frame.seq);
      return frame;
    };
    expect((await next()).type).toBe('workflow:started');
    expect((await next()).type).toBe('workflow:suspended');
    await engine.signal(id, go, 1);
    expect((await next()).type).toBe('workflow:resumed');
    chunks.push((await nextOf(stream)).data);

    await server.stop();
    // While the server is down the run moves on: these frames must arrive after the restart.
    await engine.signal(id, go, 2);
    await Bun.sleep(50);
    const again = serve({ engine, port: server.port, unauthenticatedAccess: 'allow' });
    defer(() => again.stop());
    await engine.signal(id, go, 3);
    await engine.signal(id, go, 4);

    for (;;) {
      const frame = await watch.next();
      if (frame.done === true) break;
      frames.push(frame.value.seq);
    }
    for (;;) {
      const chunk = await stream.next();
      if (chunk.done === true) break;
      chunks.push(chunk.value.data);
    }
    const expected = await stored(server, id);
    expect(frames).toEqual(expected.watch);
    expect(chunks).toEqual(['token-1', 'token-2', 'token-3', 'token-4']);
    expect((await engine.get(id))?.status).toBe('completed');
    // Both feeds really lost their connection and came back (at least one more each).
    expect(connections).toBeGreaterThanOrEqual(4);
  });

  test('aborting the signal, or leaving the loop, ends the iteration and closes the connection', async () => {
    const server = await start();
    const client = new HttpClient({ baseUrl: server.url });
    const { id } = await client.startWorkflow({ type: 'chatty', input: { rounds: 2 } });

    const abort = new AbortController();
    const seen: string[] = [];
    for await (const frame of client.watch(id, { signal: abort.signal })) {
      seen.push(frame.type);
      if (frame.type === 'workflow:suspended') {
        expect(await openFeeds(server, 'watch')).toBe(1);
        abort.abort();
      }
    }
    expect(seen).toEqual(['workflow:started', 'workflow:suspended']);
    await eventually(async () => (await openFeeds(server, 'watch')) === 0, 'the aborted watch is closed');

    const streaming = client.stream(id)[Symbol.asyncIterator]();
    const first = nextOf(streaming);
    await client.signalWorkflow({ id, name: 'go', payload: 1 });
    expect((await first).data).toBe('token-1');
    // The run still waits for its second token: only the client can close this connection.
    expect(await openFeeds(server, 'stream')).toBe(1);
    await streaming.return?.();
    await eventually(async () => (await openFeeds(server, 'stream')) === 0, 'the stream left early is closed');
  });

  test('an unknown run throws workflow_not_found, the same WeftError a REST call gets', async () => {
    const server = await start();
    const client = new HttpClient({ baseUrl: server.url });
    for (const feed of [client.watch('no-such-run'), client.stream('no-such-run')]) {
      const error = await weftRejection(collect(feed));
      expect(error.code).toBe('workflow_not_found');
      expect(error.details?.status).toBe(404);
    }
  });

  test('with auth, the feeds send the credential; without one they throw unauthenticated', async () => {
    const server = await start({ auth: { apiKeys: ['feed-key'], auditSink: () => undefined } });
    const id = await finishedRun(server, 2);
    const client = new HttpClient({ baseUrl: server.url, credential: 'feed-key' });
    expect((await collect(client.watch(id))).at(-1)?.status).toBe('completed');
    expect((await collect(client.stream(id))).map((chunk) => chunk.data)).toEqual(['token-1', 'token-2']);
    const byHeader = new HttpClient({ baseUrl: server.url, headers: { authorization: 'Bearer feed-key' } });
    expect((await collect(byHeader.watch(id, { after: 1 })))[0]?.seq).toBe(2);

    const anonymous = new HttpClient({ baseUrl: server.url });
    const error = await weftRejection(collect(anonymous.watch(id)));
    expect(error.code).toBe('unauthenticated');
    expect(error.details?.status).toBe(401);
    const wrong = new HttpClient({ baseUrl: server.url, credential: 'wrong' });
    expect((await weftRejection(collect(wrong.events({ after: 0 })))).code).toBe('unauthenticated');
  });

  test('the feeds run in-process over handleRequest as the fetch function, and a break cancels the feed', async () => {
    const server = await start();
    const id = await finishedRun(server, 2);
    const local: FetchFunction = (request) => handleRequest(request, server.engine);
    const client = new HttpClient({ baseUrl: 'http://weft.local', fetch: local });
    expect((await collect(client.stream(id))).map((chunk) => chunk.data)).toEqual(['token-1', 'token-2']);
    for await (const frame of client.events({ after: 0 })) {
      expect(frame.seq).toBe(1);
      break;
    }
  });
});
