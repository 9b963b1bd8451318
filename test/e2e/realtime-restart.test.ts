/**
 * Cursors across a server restart, with real processes: `weft serve` on a SQLite file runs a
 * workflow that streams chunks and changes state across timers and signals; WebSocket clients read
 * `/stream` and `/watch` part of the way, the server is stopped (SIGTERM, while the run waits for a
 * signal) or killed (SIGKILL, in the middle of a round, between chunks and with a timer pending),
 * a new process opens the same database, and the clients reconnect with
 * `?resumeFrom=<last seq seen>`. What they saw before and after is exactly the stored log — 1..N,
 * no gap, no duplicate — and the run completes. A cursor above the durable tail is clamped: the
 * socket stays open and gets the frames written after it connected.
 *
 * The trap: a test that only reconnects to the same process proves nothing about durability. The
 * frames a client saw before the kill must be the stored ones, so their seqs are still valid
 * after a restart (a server that numbered frames in memory, or sent a frame before it was
 * committed, would fail here with a gap or a duplicate).
 */
import { afterAll, afterEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCodec } from '../../src/core/codec.ts';
import { CloseCode } from '../../src/protocol/realtime.ts';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';
import { openTestSocket, type TestSocket } from '../../src/testing/test-socket.ts';
import { TOKENS_PER_ROUND } from './realtime-server-worker.ts';

const ROUNDS = 6;
/** Rounds signalled before the restart. */
const BEFORE = 3;
const LAST_TOKEN = TOKENS_PER_ROUND - 1;

const root = join(import.meta.dir, '../..');
const main = join(root, 'src/cli/main.ts');
const workflows = join(import.meta.dir, 'realtime-server-worker.ts');
const dir = mkdtempSync(join(tmpdir(), 'weft-realtime-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every process and socket a test opened, ended after it whatever happened. */
const children = new Set<Bun.Subprocess>();
const sockets = new Set<TestSocket>();
afterEach(async () => {
  for (const socket of sockets) await socket[Symbol.asyncDispose]();
  sockets.clear();
  for (const child of children) {
    child.kill('SIGKILL');
    await child.exited;
  }
  children.clear();
});

/** A `/stream` frame, without its timestamp. */
interface Chunk {
  seq: number;
  data: unknown;
}

/** A `/watch` frame, without its timestamp and data. */
interface Change {
  seq: number;
  type: string;
  status: string;
}

/** `weft serve` on `db` with the test workflows, once it says where it listens. */
async function startServer(db: string): Promise<{ child: Bun.Subprocess; url: string }> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of ['WEFT_API_KEYS', 'WEFT_ALLOWED_HOSTS', 'WEFT_SERVER_AUTHENTICATION_REQUIRED', 'WEFT_DB']) {
    delete env[name];
  }
  const child = Bun.spawn([process.execPath, main, 'serve', '--workflows', workflows, '--port', '0', '--db', db], {
    cwd: root,
    env,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  children.add(child);
  // Both pipes are read to their end in the background, so a full pipe never blocks the server.
  const stderr = new Response(child.stderr).text();
  const listening = /weft server listening at (http:\/\/127\.0\.0\.1:\d+)/;
  let text = '';
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  while (!listening.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`weft serve did not start:\n${text}\n${await stderr}`);
    text += decoder.decode(value, { stream: true });
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return { child, url: listening.exec(text)![1]! };
}

function open(url: string): TestSocket {
  const socket = openTestSocket(url);
  sockets.add(socket);
  return socket;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function advance(url: string, id: string, round: number): Promise<void> {
  const response = await post(`${url}/api/v1/workflows/${id}/signal/advance`, { payload: round });
  expect(response.status).toBe(200);
}

const chunksOf = (socket: TestSocket) => socket.messages as Chunk[];
const changesOf = (socket: TestSocket) => socket.messages as Change[];
const seqs = (list: { seq: number }[]) => list.map((frame) => frame.seq);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
/** The predicate "`token` of `round` (default: its last) has arrived" over a list of chunk frames. */
const hasToken =
  (list: () => Chunk[], round: number, token = LAST_TOKEN) =>
  () =>
    list().some((frame) => {
      const data = frame.data as { round?: number; token?: number };
      return data.round === round && data.token === token;
    });

/** The chunks a `chatty` run of `rounds` rounds writes, in order. */
function expectedChunks(rounds: number): unknown[] {
  const chunks: unknown[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (let token = 0; token < TOKENS_PER_ROUND; token++) chunks.push({ round, token });
  }
  return [...chunks, 'end'];
}

/** The run's stored chunks and watch frames, read from the database once no server holds it. */
async function stored(db: string, id: string): Promise<{ chunks: Chunk[]; watch: Change[] }> {
  const codec = createCodec();
  await using storage = new SQLiteStorage(db);
  const chunks = await storage.readChunks(id, -1, 1000);
  const watch = await storage.readWatch(id, -1, 1000);
  return {
    chunks: chunks.map((chunk) => ({ seq: chunk.seq, data: codec.decode(chunk.data) })),
    watch: watch.map(({ seq, type, status }) => ({ seq, type, status })),
  };
}

for (const how of ['SIGTERM', 'SIGKILL'] as const)
  test(`after a ${how} restart mid-run, reconnecting with the last seq yields exactly the remaining frames and the run completes`, async () => {
    const db = join(dir, `${how}.db`);
    const id = `chat-${how}`;
    const first = await startServer(db);
    expect((await post(`${first.url}/api/v1/workflows`, { type: 'chatty', input: ROUNDS, id })).status).toBe(201);
    const stream = open(`${first.url}/api/v1/workflows/${id}/stream`);
    const watch = open(`${first.url}/api/v1/workflows/${id}/watch`);
    for (let round = 1; round <= BEFORE; round++) {
      await stream.until(hasToken(() => chunksOf(stream), round));
      await advance(first.url, id, round);
    }
    if (how === 'SIGTERM') {
      // Stopped while the run waits in its next round: the sockets are told the server is going away.
      await stream.until(hasToken(() => chunksOf(stream), BEFORE + 1));
      first.child.kill('SIGTERM');
      expect((await stream.closed).code).toBe(CloseCode.goingAway);
      expect((await watch.closed).code).toBe(CloseCode.goingAway);
      expect(await first.child.exited).toBe(0);
    } else {
      // Killed in the middle of the next round, between its first chunks and its timer's end.
      await stream.until(hasToken(() => chunksOf(stream), BEFORE + 1, 0));
      first.child.kill('SIGKILL');
      await first.child.exited;
      expect((await stream.closed).code).not.toBe(CloseCode.finished);
      expect((await watch.closed).code).not.toBe(CloseCode.finished);
    }
    // What each client saw is a prefix of the log.
    expect(seqs(chunksOf(stream))).toEqual(oneTo(chunksOf(stream).length));
    expect(seqs(changesOf(watch))).toEqual(oneTo(changesOf(watch).length));
    const lastChunk = chunksOf(stream).at(-1)!.seq;
    const lastChange = changesOf(watch).at(-1)!.seq;

    const second = await startServer(db);
    const streamAgain = open(`${second.url}/api/v1/workflows/${id}/stream?resumeFrom=${lastChunk}`);
    const watchAgain = open(`${second.url}/v1/workflows/${id}/watch?resumeFrom=${lastChange}`);
    const allChunks = () => [...chunksOf(stream), ...chunksOf(streamAgain)];
    for (let round = BEFORE + 1; round <= ROUNDS; round++) {
      await streamAgain.until(hasToken(allChunks, round));
      await advance(second.url, id, round);
    }
    expect((await streamAgain.closed).code).toBe(CloseCode.finished);
    expect((await watchAgain.closed).code).toBe(CloseCode.finished);
    expect(await (await fetch(`${second.url}/api/v1/workflows/${id}/result`)).json()).toEqual({ result: ROUNDS });
    second.child.kill('SIGTERM');
    expect(await second.child.exited).toBe(0);

    // Before and after together are the stored log exactly: 1..N, nothing missing, nothing twice.
    const log = await stored(db, id);
    expect(log.chunks.map((chunk) => chunk.data)).toEqual(expectedChunks(ROUNDS));
    expect(seqs(allChunks())).toEqual(oneTo(log.chunks.length));
    expect(allChunks().map(({ seq, data }) => ({ seq, data }))).toEqual(log.chunks);
    const allChanges = [...changesOf(watch), ...changesOf(watchAgain)];
    expect(seqs(allChanges)).toEqual(oneTo(log.watch.length));
    expect(allChanges.map(({ seq, type, status }) => ({ seq, type, status }))).toEqual(log.watch);
    expect(allChanges.at(-1)).toMatchObject({ type: 'workflow:completed', status: 'completed' });
    // Both halves carried frames: the cursor was used, not just a replay from the start.
    expect(chunksOf(streamAgain).length).toBeGreaterThan(0);
    expect(changesOf(watchAgain).length).toBeGreaterThan(0);
  }, 30_000);

test('a cursor above the durable tail is clamped: the socket stays open and gets the frames written after it', async () => {
  const server = await startServer(join(dir, 'ahead.db'));
  const id = 'chat-ahead';
  expect((await post(`${server.url}/api/v1/workflows`, { type: 'chatty', input: 2, id })).status).toBe(201);
  const stream = open(`${server.url}/api/v1/workflows/${id}/stream`);
  const watch = open(`${server.url}/api/v1/workflows/${id}/watch`);
  // The run waits for its first signal: nothing more is written until it comes.
  await stream.until(hasToken(() => chunksOf(stream), 1));
  await watch.until((list) => (list as Change[]).filter((frame) => frame.type === 'workflow:suspended').length === 2);
  const streamTail = chunksOf(stream).at(-1)!.seq;
  const watchTail = changesOf(watch).at(-1)!.seq;
  const streamAhead = open(`${server.url}/api/v1/workflows/${id}/stream?resumeFrom=1000000000`);
  const watchAhead = open(`${server.url}/api/v1/workflows/${id}/watch?resumeFrom=1000000000`);
  await Promise.all([streamAhead.opened, watchAhead.opened]);
  await advance(server.url, id, 1);
  await stream.until(hasToken(() => chunksOf(stream), 2));
  await advance(server.url, id, 2);
  for (const socket of [stream, watch, streamAhead, watchAhead]) {
    expect((await socket.closed).code).toBe(CloseCode.finished);
  }
  expect(chunksOf(streamAhead).length).toBeGreaterThan(0);
  expect(chunksOf(streamAhead)).toEqual(chunksOf(stream).filter((frame) => frame.seq > streamTail));
  expect(changesOf(watchAhead).length).toBeGreaterThan(0);
  expect(changesOf(watchAhead)).toEqual(changesOf(watch).filter((frame) => frame.seq > watchTail));
  expect(changesOf(watchAhead).at(-1)).toMatchObject({ type: 'workflow:completed', status: 'completed' });
}, 30_000);
