/**
 * The real-time rows of `npm run bench`: how soon a chunk written with `ctx.stream.write` reaches a
 * WebSocket client of `/api/v1/workflows/:id/stream`, beside a Bun WebSocket echo round trip, and
 * how many stream frames per second `serve()` delivers to 1,000 sockets on one run's stream, beside
 * a `Bun.serve` sending the same frames to 1,000 sockets itself. Each row's two sides alternate in
 * the same process, against the same kind of client.
 *
 * The engine is on `SQLiteStorage` with its default durability (`normal`, WAL), as `weft serve`
 * runs it: a chunk reaches readers once committed, so its commit is part of the latency.
 *
 * Traps it avoids:
 * - Timing the trigger instead of the write. The workflow itself reads the clock at the write and
 *   sends the time as the chunk; the client subtracts it from its receipt time. Nothing before the
 *   write (the signal that wakes the workflow) is timed.
 * - One topology only. A client in the server's own process shares its event loop: no wake-up
 *   between processes, a 10–20 µs echo, a floor no real client sees. So latency is measured twice:
 *   with the client in this process, and with it in a client process (realtime-clients.ts), which
 *   is how a real client connects; each beside an echo from the same place.
 * - A fan-out limited by its own clients. The 1,000 subscribers run in a client process, so on 2
 *   vCPUs the server has a core of its own; the baseline is what those clients can take at all,
 *   the ceiling the Weft figure stands beside (as the HTTP rows' hello-world is).
 * - Leftovers. Every socket, client process, server, engine and store is closed on every path (the
 *   store's file lives in the benchmark's temporary directory, which `run.ts` removes).
 */
import { join } from 'node:path';
import { Engine, signal, workflow } from '../src/index.ts';
import { serve } from '../src/server/index.ts';
import { SQLiteStorage } from '../src/storage/sqlite/index.ts';
import {
  ClientProcess,
  chunkLatency,
  closeSocket,
  echoRoundTrip,
  now,
  openSocket,
  Receiver,
} from './realtime-clients.ts';
import { percentile, type Row } from './row.ts';

/** Sockets on one run's stream in the fan-out row. */
export const SUBSCRIBERS = 1_000;
/** Chunks the fan-out workflow writes per signal: a burst of tokens, as a model emits them. */
const BURST = 10;
/** Latency samples per block; Weft and the echo alternate block by block. */
const BLOCK = 100;

interface Phases {
  latencyWarmUp: number;
  latencySamples: number;
  fanoutFrames: number;
  fanoutRounds: number;
}

const FULL: Phases = { latencyWarmUp: 200, latencySamples: 2_000, fanoutFrames: 40, fanoutRounds: 3 };
const QUICK: Phases = { latencyWarmUp: 100, latencySamples: 300, fanoutFrames: 20, fanoutRounds: 1 };

const tick = signal<number>('tick');
const burst = signal<number>('burst');

/** On each `tick`, writes one chunk: the moment of the write (see `now`). */
const ticker = workflow({ name: 'ticker' }).execute(async function* (ctx) {
  for (;;) {
    yield* ctx.waitForSignal(tick);
    ctx.stream.write(now());
  }
});

/** On each `burst` of n, writes the next n chunks. */
const streamer = workflow({ name: 'streamer' }).execute(async function* (ctx) {
  for (let written = 0; ;) {
    const count = yield* ctx.waitForSignal(burst);
    for (let i = 0; i < count; i++) ctx.stream.write(++written);
  }
});

/** Latency p50 and p99 beside the echo (client in this process, then in another), and fan-out frames/s. */
export async function measureRealtime(options: { quick: boolean; dir: string }): Promise<Row[]> {
  const phases = options.quick ? QUICK : FULL;
  await using stack = new AsyncDisposableStack();

  const storage = stack.adopt(new SQLiteStorage(join(options.dir, `realtime-${process.pid}.db`)), (s) => s.close());
  const engine = stack.adopt(await Engine.create({ storage, workflows: [ticker, streamer] }), (e) => e.close());
  const server = stack.use(serve({ engine, port: 0, unauthenticatedAccess: 'allow' }));
  const streamUrl = (id: string): string => `${server.url.replace(/^http/, 'ws')}/api/v1/workflows/${id}/stream`;
  const echoServer = stack.adopt(
    Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request, bun) => (bun.upgrade(request) ? undefined : new Response('upgrade', { status: 426 })),
      websocket: { message: (socket, message) => void socket.send(message) },
    }),
    (s) => s.stop(true),
  );
  const echoUrl = `ws://127.0.0.1:${echoServer.port}/`;
  const rows: Row[] = [];
  const latencyRows = (where: string, samples: { echo: number[]; weft: number[] }): void => {
    for (const p of [50, 99]) {
      rows.push({
        metric: `stream latency p${p}, ctx.stream.write to receipt (/stream, SQLite; client in ${where})`,
        weft: percentile(samples.weft, p),
        unit: 'ms',
        baseline: percentile(samples.echo, p),
        baselineName: `Bun WebSocket echo round trip p${p} ms, client in ${where}`,
        target: p === 50 ? '<= 2× baseline' : '-',
        higherIsBetter: false,
      });
    }
  };

  // ---- latency, client in this process ----
  {
    await engine.start(ticker, undefined, { id: 'ticker-here' });
    await using sockets = new AsyncDisposableStack();
    const streamSocket = sockets.adopt(await openSocket(streamUrl('ticker-here')), closeSocket);
    const frames = new Receiver(streamSocket);
    const echoSocket = sockets.adopt(await openSocket(echoUrl), closeSocket);
    const echoes = new Receiver(echoSocket);
    let echoSeq = 0;
    let chunkSeq = 0;
    latencyRows(
      'this process',
      await alternate(
        async (n) => {
          const out: number[] = [];
          for (let i = 0; i < n; i++) out.push(await echoRoundTrip(echoSocket, echoes, ++echoSeq));
          return out;
        },
        async (n) => {
          const out: number[] = [];
          for (let i = 0; i < n; i++) {
            out.push(await chunkLatency(frames, ++chunkSeq, () => engine.signal('ticker-here', tick, chunkSeq)));
          }
          return out;
        },
        phases,
      ),
    );
  }

  // ---- latency, client in another process ----
  {
    await engine.start(ticker, undefined, { id: 'ticker-there' });
    await using client = await ClientProcess.start(['--latency', echoUrl, streamUrl('ticker-there')]);
    latencyRows(
      'another process',
      await alternate(
        (n) => client.echoes(n),
        async (n) => {
          const out: number[] = [];
          for (let i = 0; i < n; i++) out.push(await client.chunkLatency(() => engine.signal('ticker-there', tick, i)));
          return out;
        },
        phases,
      ),
    );
  }

  // ---- fan-out ----
  await engine.start(streamer, undefined, { id: 'streamer' });
  const weftSubscribers = stack.use(
    await ClientProcess.start(['--subscribers', streamUrl('streamer'), `${SUBSCRIBERS}`]),
  );
  const writeChunks = async (frames: number): Promise<void> => {
    for (let sent = 0; sent < frames; sent += BURST) {
      await engine.signal('streamer', burst, Math.min(BURST, frames - sent));
    }
  };
  const broadcast = stack.adopt(new Broadcast(), (b) => b.stop());
  const bunSubscribers = stack.use(await ClientProcess.start(['--subscribers', broadcast.url, `${SUBSCRIBERS}`]));
  await broadcast.opened(SUBSCRIBERS);
  const rates = { weft: [] as number[], bun: [] as number[] };
  for (let round = -1; round < phases.fanoutRounds; round++) {
    // Round -1 warms both sides up with half the frames and is not counted.
    const frames = round < 0 ? Math.max(BURST, phases.fanoutFrames / 2) : phases.fanoutFrames;
    const bunSeconds = await bunSubscribers.deliver(frames, () => broadcast.send(frames));
    const weftSeconds = await weftSubscribers.deliver(frames, () => writeChunks(frames));
    if (round < 0) continue;
    rates.bun.push((SUBSCRIBERS * frames) / bunSeconds);
    rates.weft.push((SUBSCRIBERS * frames) / weftSeconds);
  }
  const subscribers = SUBSCRIBERS.toLocaleString('en-US');
  rows.push({
    metric: `stream frames delivered to ${subscribers} sockets on one run (SQLite; median of ${phases.fanoutRounds} × ${phases.fanoutFrames} chunks)`,
    weft: percentile(rates.weft, 50),
    unit: '/s',
    baseline: percentile(rates.bun, 50),
    baselineName: `Bun.serve ws.send of the same frames to ${subscribers} sockets, frames/s`,
    target: '-',
    higherIsBetter: true,
  });
  return rows;
}

/**
 * `samples` of the echo and of Weft after `warmUp` of each, in alternating blocks so both see the
 * same phases of a shared machine; each function returns n samples, taken one at a time.
 */
async function alternate(
  echo: (n: number) => Promise<number[]>,
  weft: (n: number) => Promise<number[]>,
  phases: Phases,
): Promise<{ echo: number[]; weft: number[] }> {
  await echo(phases.latencyWarmUp);
  await weft(phases.latencyWarmUp);
  const out = { echo: [] as number[], weft: [] as number[] };
  while (out.echo.length < phases.latencySamples) {
    const block = Math.min(BLOCK, phases.latencySamples - out.echo.length);
    out.echo.push(...(await echo(block)));
    out.weft.push(...(await weft(block)));
  }
  return out;
}

/** The fan-out baseline: a `Bun.serve` that sends each frame to every open socket itself. */
class Broadcast {
  readonly #sockets = new Set<Bun.ServerWebSocket<undefined>>();
  readonly #server: Bun.Server<undefined>;
  #seq = 0;

  constructor() {
    this.#server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request, bun) => (bun.upgrade(request) ? undefined : new Response('upgrade', { status: 426 })),
      websocket: {
        open: (socket) => void this.#sockets.add(socket),
        message: () => undefined,
        close: (socket) => void this.#sockets.delete(socket),
      },
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#server.port}/`;
  }

  /** Resolves once the server side of `count` sockets is open (a client may see its side open first). */
  async opened(count: number): Promise<void> {
    while (this.#sockets.size < count) await Bun.sleep(5);
  }

  /** The next `frames` frames, shaped as chunk frames, in bursts of `BURST` as the workflow writes them. */
  async send(frames: number): Promise<void> {
    for (let sent = 0; sent < frames; sent += BURST) {
      for (let i = 0; i < Math.min(BURST, frames - sent); i++) {
        const seq = ++this.#seq;
        const frame = JSON.stringify({ seq, data: seq, timestamp: new Date().toISOString() });
        for (const socket of this.#sockets) socket.send(frame);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  stop(): Promise<void> {
    return this.#server.stop(true);
  }
}
