/**
 * A consumer that stops reading, against a real server process: a client does the WebSocket
 * handshake by hand on a raw TCP socket for a run's `/stream`, then stops reading while the run
 * writes tens of megabytes of chunks. The server closes it as a slow consumer (4008, counted in
 * `weft_realtime_slow_consumer_closes_total`), the open-socket gauge returns to 0, the server's
 * memory grows by far less than what was written, and a fresh client resuming from the last seq
 * the stalled one parsed gets the rest — nothing lost, nothing twice.
 *
 * The trap: a server that queues every frame for a client that never reads. Bun's WebSocket
 * `send` always accepts the message, so only the outbox's bound (`maxBufferedBytes`, here 256 KiB,
 * and `stallTimeoutMs`) stands between the engine's log and the server's heap. The server runs in
 * a process of its own (realtime-server-worker.ts) so its memory is its own, not the test
 * runner's; the client is a raw socket because a WebSocket client library reads on its own.
 */
import { afterAll, afterEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseCode } from '../../src/protocol/realtime.ts';
import { parsePrometheusText, sampleValue } from '../../src/testing/prometheus-text.ts';
import { openTestSocket, type TestSocket } from '../../src/testing/test-socket.ts';

const CHUNKS = 512;
const CHUNK_BYTES = 64 * 1024;
const WRITTEN = CHUNKS * CHUNK_BYTES;
/**
 * The stall timeout is longer than the run takes to write everything here (about a second), so the
 * server's memory is measured while the stalled client is still connected: what it holds then is
 * what it holds for that client. (On a machine so slow that the close comes first the figures only
 * get smaller.)
 */
const LIMITS = { maxBufferedBytes: 256 * 1024, stallTimeoutMs: 5_000 };
/**
 * How much the server's live heap (after a full GC) may grow while the stalled client is open: an
 * eighth of what the run writes (4 MiB). A server that held the unsent frames would keep all 32 MiB.
 */
const MAX_HEAP_GROWTH = WRITTEN / 8;
/** The same for its RSS, which also counts what the allocator has not returned yet: half of it. */
const MAX_RSS_GROWTH = WRITTEN / 2;

const worker = join(import.meta.dir, 'realtime-server-worker.ts');
const dir = mkdtempSync(join(tmpdir(), 'weft-realtime-slow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** The worker process: its URL, and its memory figures on request. */
interface ServerProcess {
  url: string;
  /** Its RSS, peak RSS since it started and heap in use, bytes, after a full GC. */
  memory(): Promise<{ rss: number; peak: number; heap: number }>;
}

async function startServer(db: string): Promise<ServerProcess> {
  const child = Bun.spawn([process.execPath, worker, db, JSON.stringify(LIMITS)], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await child.exited;
  });
  // Both pipes are read in the background, so a full pipe never blocks the server.
  const stderr = new Response(child.stderr).text();
  const lines: string[] = [];
  let wake = Promise.withResolvers<void>();
  let ended = false;
  void (async () => {
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      const complete = text.split('\n');
      text = complete.pop()!;
      lines.push(...complete);
      wake.resolve();
      wake = Promise.withResolvers();
    }
    ended = true;
    wake.resolve();
  })();
  const nextLine = async (prefix: string): Promise<string> => {
    for (;;) {
      const index = lines.findIndex((line) => line.startsWith(prefix));
      if (index !== -1) return lines.splice(index, 1)[0]!.slice(prefix.length);
      if (ended) throw new Error(`the server worker ended: ${await stderr}`);
      await wake.promise;
    }
  };
  const url = await nextLine('listening ');
  return {
    url,
    async memory() {
      void child.stdin.write('memory\n');
      void child.stdin.flush();
      const [rss, peak, heap] = (await nextLine('memory ')).split(' ').map(Number);
      return { rss: rss!, peak: peak!, heap: heap! };
    },
  };
}

async function metric(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const samples = parsePrometheusText(await (await fetch(`${url}/v1/metrics`)).text());
  return sampleValue(samples, name, labels) ?? 0;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** A WebSocket client by hand on a TCP socket: it reads only when told to. */
interface RawClient {
  socket: Socket;
  /** Bytes received after the handshake's response headers. */
  received(): Buffer;
  /** Resolves once the connection is closed (by either side, cleanly or not). */
  closed: Promise<void>;
}

async function rawWebSocket(url: string, path: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  cleanups.push(() => socket.destroy());
  const chunks: Buffer[] = [];
  const closed = Promise.withResolvers<void>();
  const upgraded = Promise.withResolvers<string>();
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('latin1');
    if (text.includes('\r\n\r\n')) upgraded.resolve(text);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed.resolve();
    upgraded.reject(new Error(`closed during the handshake: ${Buffer.concat(chunks).toString('latin1')}`));
  });
  socket.write(
    [
      `GET ${path} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  const response = await upgraded.promise;
  expect(response).toStartWith('HTTP/1.1 101 ');
  return {
    socket,
    received: () => {
      const all = Buffer.concat(chunks);
      return all.subarray(all.indexOf('\r\n\r\n') + 4);
    },
    closed: closed.promise,
  };
}

/** The whole server-to-client frames in `bytes` (unmasked, as RFC 6455 has servers send them). */
function parseFrames(bytes: Buffer): { opcode: number; payload: Buffer }[] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (at + 4 > bytes.length) break;
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (at + 10 > bytes.length) break;
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > bytes.length) break;
    frames.push({ opcode, payload: bytes.subarray(at + header, at + header + length) });
    at += header + length;
  }
  return frames;
}

test('a consumer that stops reading is closed with 4008 while the server stays bounded; it resumes from its last seq', async () => {
  const server = await startServer(join(dir, 'slow.db'));
  const id = 'hose';
  const started = await post(`${server.url}/api/v1/workflows`, {
    type: 'firehose',
    input: { count: CHUNKS, bytes: CHUNK_BYTES },
    id,
  });
  expect(started.status).toBe(201);
  const stalled = await rawWebSocket(server.url, `/api/v1/workflows/${id}/stream`);
  stalled.socket.pause();
  const idle = await server.memory();

  expect((await post(`${server.url}/api/v1/workflows/${id}/signal/open`, {})).status).toBe(200);
  // The run writes everything whether or not anyone reads.
  expect(await (await fetch(`${server.url}/api/v1/workflows/${id}/result`)).json()).toEqual({ result: CHUNKS });
  // All of it is written; the client has read none of it and is still connected.
  const stalledMemory = await server.memory();
  const slowCloses = { route: 'stream' };
  const open = { route: 'stream', transport: 'websocket' };
  while ((await metric(server.url, 'weft_realtime_slow_consumer_closes_total', slowCloses)) < 1) await Bun.sleep(20);
  while ((await metric(server.url, 'weft_realtime_connections', open)) !== 0) await Bun.sleep(20);

  // The connection is gone: reading again drains what the kernel still held, then the end.
  stalled.socket.resume();
  await stalled.closed;
  const frames = parseFrames(stalled.received());
  const seen = frames
    .filter((frame) => frame.opcode === 0x1)
    .map((frame) => (JSON.parse(frame.payload.toString()) as { seq: number }).seq);
  expect(seen).toEqual(seen.map((_, i) => i + 1));
  expect(seen.length).toBeLessThan(CHUNKS);
  const close = frames.find((frame) => frame.opcode === 0x8);
  if (close !== undefined) expect(close.payload.readUInt16BE(0)).toBe(CloseCode.slowConsumer);

  // A fresh client from the last seq it parsed gets exactly the rest, then the normal close.
  const last = seen.at(-1) ?? -1;
  const fresh: TestSocket = openTestSocket(`${server.url}/api/v1/workflows/${id}/stream?resumeFrom=${last}`);
  cleanups.push(() => fresh[Symbol.asyncDispose]());
  expect((await fresh.closed).code).toBe(CloseCode.finished);
  const rest = fresh.messages as { seq: number; data: string }[];
  expect([...seen, ...rest.map((chunk) => chunk.seq)]).toEqual(Array.from({ length: CHUNKS }, (_, i) => i + 1));
  expect(rest.every((chunk) => chunk.data.startsWith(`${chunk.seq}:`) && chunk.data.length === CHUNK_BYTES)).toBe(true);
  expect(await metric(server.url, 'weft_realtime_slow_consumer_closes_total', slowCloses)).toBe(1);
  while ((await metric(server.url, 'weft_realtime_connections', open)) !== 0) await Bun.sleep(20);

  // Bounded: the server did not keep what the stalled client did not read.
  if (process.env.WEFT_REALTIME_REPORT) console.log({ idle, stalledMemory, seen: seen.length, written: WRITTEN });
  expect(stalledMemory.heap - idle.heap).toBeLessThan(MAX_HEAP_GROWTH);
  expect(stalledMemory.rss - idle.rss).toBeLessThan(MAX_RSS_GROWTH);
}, 45_000);
