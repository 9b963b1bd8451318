/**
 * The client side of the real-time rows (`realtime.ts`): WebSocket helpers shared by both sides of
 * each row, and the two client processes the benchmark starts —
 * `bun bench/realtime-clients.ts --latency <echo url> <stream url>` and
 * `bun bench/realtime-clients.ts --subscribers <url> <count>` — driven line by line over stdin and
 * answering on stdout (`ClientProcess` is the parent's handle).
 *
 * Traps it avoids:
 * - Two clocks. Latency across processes is `receipt - write` on `performance.timeOrigin +
 *   performance.now()`, which every process on a machine derives from the same wall clock: two Bun
 *   processes agreed on it to about 3 µs (median of 300 pipe ping-pongs, 2026-12-08), well under
 *   the figures measured. The echo round trip needs no second clock: one process times it.
 * - Counting wrong frames. Every frame's `seq` must follow the last one its socket saw; a gap, a
 *   duplicate or a close nobody asked for ends the process with an error, which fails the benchmark.
 */

/** Milliseconds on a clock that processes on one machine share (see the header). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error(`could not open a WebSocket to ${url}`));
  });
}

export function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  const closed = new Promise<void>((resolve) => socket.addEventListener('close', () => resolve(), { once: true }));
  socket.close();
  return closed;
}

interface Received {
  /** `now()` when the message event ran. */
  at: number;
  text: string;
}

/** One socket's messages, one awaited at a time, each with the moment it arrived. */
export class Receiver {
  #waiting: ((message: Received) => void) | undefined;
  #unexpected: string | undefined;

  constructor(socket: WebSocket) {
    socket.onmessage = (event) => {
      const at = now();
      const resolve = this.#waiting;
      this.#waiting = undefined;
      if (resolve === undefined) this.#unexpected ??= String(event.data);
      else resolve({ at, text: event.data as string });
    };
  }

  next(): Promise<Received> {
    if (this.#unexpected !== undefined) throw new Error(`a message nobody waited for: ${this.#unexpected}`);
    return new Promise((resolve) => (this.#waiting = resolve));
  }
}

/** One echo round trip of a message the size and shape of a chunk frame, ms. */
export async function echoRoundTrip(socket: WebSocket, echoes: Receiver, seq: number): Promise<number> {
  const message = JSON.stringify({ seq, data: now(), timestamp: new Date().toISOString() });
  const next = echoes.next();
  const sentAt = now();
  socket.send(message);
  const { at, text } = await next;
  if ((JSON.parse(text) as { seq: number }).seq !== seq) throw new Error('echo: an answer out of order');
  return at - sentAt;
}

/** Triggers one chunk write and returns write-to-receipt, ms; the chunk is its write time, its seq `seq`. */
export async function chunkLatency(frames: Receiver, seq: number, trigger: () => Promise<void>): Promise<number> {
  const next = frames.next();
  await trigger();
  const { at, text } = await next;
  const frame = JSON.parse(text) as { seq: number; data: number };
  if (frame.seq !== seq) throw new Error(`stream: frame ${frame.seq} where ${seq} was due`);
  return at - frame.data;
}

// ---- the parent's handle --------------------------------------------------------------------------

/** A client process of this file: send it a line, read its answers. */
export class ClientProcess implements AsyncDisposable {
  readonly #child: Bun.Subprocess<'pipe', 'pipe', 'inherit'>;
  readonly #lines: AsyncIterator<string>;

  private constructor(child: Bun.Subprocess<'pipe', 'pipe', 'inherit'>) {
    this.#child = child;
    this.#lines = lines(child.stdout);
  }

  /** Starts `bun realtime-clients.ts ...args` and waits for its `open`. */
  static async start(args: string[]): Promise<ClientProcess> {
    const child = Bun.spawn([process.execPath, import.meta.path, ...args], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'inherit',
    });
    const client = new ClientProcess(child);
    try {
      await client.expect('open');
    } catch (error) {
      await client[Symbol.asyncDispose]().catch(() => undefined);
      throw error;
    }
    return client;
  }

  async say(line: string): Promise<void> {
    await this.#child.stdin.write(`${line}\n`);
    await this.#child.stdin.flush();
  }

  async next(): Promise<string> {
    const next = await this.#lines.next();
    if (next.done === true) throw new Error(`the client process ${this.#child.pid} ended early`);
    return next.value;
  }

  async expect(line: string): Promise<void> {
    const answer = await this.next();
    if (answer !== line) throw new Error(`the client process said "${answer}", not "${line}"`);
  }

  /** Says `echo <count>` and returns the round trips it answers, ms. */
  async echoes(count: number): Promise<number[]> {
    await this.say(`echo ${count}`);
    return JSON.parse(await this.next()) as number[];
  }

  /** Runs `write` and returns the write-to-receipt time of the one chunk it writes, as the client reports it, ms. */
  async chunkLatency(write: () => Promise<void>): Promise<number> {
    const line = this.next();
    await write();
    return Number(await line);
  }

  /** Seconds from just before `send` until every subscriber socket has `frames` more frames. */
  async deliver(frames: number, send: () => Promise<void>): Promise<number> {
    await this.say(`expect ${frames}`);
    await this.expect('ready');
    const start = performance.now();
    await send();
    await this.expect('done');
    return (performance.now() - start) / 1000;
  }

  /** Asks it to close its sockets and exit; kills it after 5 s. Throws if it failed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#child.exitCode === null) {
      await this.say('close').catch(() => undefined);
      const timer = setTimeout(() => this.#child.kill(), 5_000);
      await this.#child.exited;
      clearTimeout(timer);
    }
    if (this.#child.exitCode !== 0) throw new Error(`the client process failed (exit ${this.#child.exitCode})`);
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
      yield text.slice(0, end);
      text = text.slice(end + 1);
    }
  }
}

// ---- the client processes -------------------------------------------------------------------------

function fail(message: string): never {
  console.error(`realtime client: ${message}`);
  process.exit(1);
}

/**
 * `echo n`: n echo round trips, answered as one JSON array. And for every frame of the stream, as it
 * arrives, a line with its write-to-receipt time: the parent writes one chunk at a time and reads it.
 */
async function runLatencyClient(echoUrl: string, streamUrl: string): Promise<void> {
  const echoSocket = await openSocket(echoUrl);
  const echoes = new Receiver(echoSocket);
  const streamSocket = await openSocket(streamUrl);
  let echoSeq = 0;
  let chunkSeq = 0;
  streamSocket.onmessage = (event) => {
    const at = now();
    const frame = JSON.parse(event.data as string) as { seq: number; data: number };
    if (frame.seq !== ++chunkSeq) fail(`stream: frame ${frame.seq} where ${chunkSeq} was due`);
    console.log(String(at - frame.data));
  };
  console.log('open');
  for await (const line of console) {
    const [command, argument] = line.split(' ');
    if (command === 'echo') {
      const samples: number[] = [];
      for (let i = 0; i < Number(argument); i++) samples.push(await echoRoundTrip(echoSocket, echoes, ++echoSeq));
      console.log(JSON.stringify(samples));
    } else if (command === 'close') {
      await Promise.all([closeSocket(echoSocket), closeSocket(streamSocket)]);
      return;
    }
  }
}

/** `count` sockets on `url`; `expect n` → `ready`, then `done` once every socket has n more frames. */
async function runSubscribers(url: string, count: number): Promise<void> {
  const lastSeq = new Float64Array(count);
  const received = new Int32Array(count);
  let expected = 0;
  let complete = 0;
  let closing = false;
  const sockets: WebSocket[] = [];
  // In batches: a thousand handshakes at once would overflow the server's listen backlog.
  for (let from = 0; from < count; from += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, count - from) }, () => openSocket(url)));
    for (const [k, socket] of batch.entries()) {
      const index = from + k;
      sockets.push(socket);
      socket.onmessage = (event) => {
        // A prefix check, not JSON.parse: this process is the baseline's ceiling, so it stays cheap.
        const seq = lastSeq[index]! + 1;
        const text = event.data as string;
        if (!text.startsWith(`{"seq":${seq},`)) fail(`socket ${index}: ${text.slice(0, 40)} where seq ${seq} was due`);
        lastSeq[index] = seq;
        if (++received[index]! === expected && ++complete === count) console.log('done');
      };
      socket.onclose = (event) => {
        if (!closing) fail(`socket ${index} closed by the server (${event.code} ${event.reason})`);
      };
    }
  }
  console.log('open');
  for await (const line of console) {
    const [command, argument] = line.split(' ');
    if (command === 'expect') {
      received.fill(0);
      complete = 0;
      expected = Number(argument);
      console.log('ready');
    } else if (command === 'close') {
      closing = true;
      await Promise.all(sockets.map(closeSocket));
      return;
    }
  }
}

if (import.meta.main) {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === '--latency') await runLatencyClient(args[0] ?? '', args[1] ?? '');
  else if (mode === '--subscribers') await runSubscribers(args[0] ?? '', Number(args[1]));
  else fail(`unknown mode ${String(mode)}`);
  process.exit(0);
}
