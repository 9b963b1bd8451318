/**
 * The HTTP rows of `npm run bench`: REST workflow starts per second and start-to-result latency,
 * driven by a real HTTP load generator (autocannon) against `serve()`, beside a `Bun.serve`
 * hello-world driven by the same generator with the same settings in the same run.
 *
 * Each server runs in a child process (`bun bench/http.ts --serve weft|hello <dir>`) and the load
 * generator in the benchmark process, so the two never share a thread: on a 2-vCPU machine that is
 * one core each, and the hello-world figure is what this generator can drive through one core of
 * `Bun.serve` at all — the ceiling the Weft figure stands beside.
 *
 * Answers are checked: any non-2xx status or connection error fails the benchmark.
 */
import type { AutocannonRequest, AutocannonResult } from 'autocannon';
import { join } from 'node:path';
import { Engine, workflow } from '../src/index.ts';
import { serve } from '../src/server/index.ts';
import { SQLiteStorage } from '../src/storage/sqlite/index.ts';
import { percentile, type Row } from './row.ts';

/** Concurrent connections of the throughput phases (both servers): enough to saturate either. */
const STARTS_CONNECTIONS = 50;
/**
 * Concurrent connections of the latency phases (both servers): autocannon's default, a moderate
 * load, so the figure is mostly the cost of one start-to-result and not queueing behind 50 others.
 */
const LATENCY_CONNECTIONS = 10;

interface Phases {
  warmUpSeconds: number;
  startsSeconds: number;
  latencySeconds: number;
}

const FULL: Phases = { warmUpSeconds: 0.5, startsSeconds: 2, latencySeconds: 1.5 };
const QUICK: Phases = { warmUpSeconds: 0.5, startsSeconds: 1, latencySeconds: 1 };

/** A workflow that waits for a signal: a start is one committed run that suspends at once. */
const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal<number>('ping');
});

/** A workflow with one trivial activity: start-to-result is two commits and one activity. */
const echo = workflow({ name: 'echo' })
  .activities({ echo: (x: number) => x })
  .execute(async function* (ctx, x: number) {
    return yield* ctx.run('echo', x);
  });

/** The four HTTP rows: starts/s, and start-to-result p50 and p99. */
export async function measureHttp(options: { quick: boolean; dir: string }): Promise<Row[]> {
  const phases = options.quick ? QUICK : FULL;
  const hello = await measureServer('hello', options.dir, phases);
  const weft = await measureServer('weft', options.dir, phases);
  const secured = await measureServer('weft-auth', options.dir, phases);
  const rows: Row[] = [
    {
      metric: `HTTP workflow starts (POST /api/v1/workflows, ${STARTS_CONNECTIONS} connections)`,
      weft: weft.startsPerSecond,
      unit: '/s',
      baseline: hello.startsPerSecond,
      baselineName: 'Bun.serve hello-world POST req/s, same load',
      target: '-',
      higherIsBetter: true,
    },
    {
      metric: `HTTP workflow starts with an API key and a rate limit (${STARTS_CONNECTIONS} connections)`,
      weft: secured.startsPerSecond,
      unit: '/s',
      baseline: weft.startsPerSecond,
      baselineName: 'the same starts without auth, same run',
      target: '-',
      higherIsBetter: true,
    },
  ];
  for (const p of [50, 99]) {
    rows.push({
      metric: `HTTP start-to-result p${p} (POST start, GET result; ${LATENCY_CONNECTIONS} connections)`,
      weft: percentile(weft.roundTripsMs, p),
      unit: 'ms',
      baseline: percentile(hello.roundTripsMs, p),
      baselineName: `two hello-world round trips p${p} ms, same load`,
      target: '-',
      higherIsBetter: false,
    });
  }
  return rows;
}

interface ServerFigures {
  startsPerSecond: number;
  roundTripsMs: number[];
}

type ServerKind = 'weft' | 'weft-auth' | 'hello';

/** The API key of the `weft-auth` server (a benchmark fixture, not a secret). */
const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';

async function measureServer(kind: ServerKind, dir: string, phases: Phases): Promise<ServerFigures> {
  const child = Bun.spawn([process.execPath, import.meta.path, '--serve', kind, dir], {
    stdout: 'pipe',
    stderr: 'inherit',
  });
  try {
    const url = await firstLine(child.stdout);
    const start = startRequest('waiter', kind);
    await load(kind, url, STARTS_CONNECTIONS, phases.warmUpSeconds, [start]);
    const starts = await load(kind, url, STARTS_CONNECTIONS, phases.startsSeconds, [start]);
    const roundTripsMs: number[] = [];
    if (kind !== 'weft-auth') {
      await load(kind, url, LATENCY_CONNECTIONS, phases.latencySeconds, startThenResult(roundTripsMs));
    }
    return { startsPerSecond: starts['2xx'] / starts.duration, roundTripsMs };
  } finally {
    child.kill('SIGTERM');
    if ((await child.exited) !== 0) throw new Error(`the ${kind} server process failed`);
  }
}

/** Runs the generator for `seconds` and fails on any error or non-2xx answer. */
async function load(
  kind: string,
  url: string,
  connections: number,
  seconds: number,
  requests: AutocannonRequest[],
): Promise<AutocannonResult> {
  // Imported here, not at the top: the server processes load this file too and never need it.
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({ url, connections, pipelining: 1, duration: seconds, requests });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${kind}: ${result.errors} errors, ${result.non2xx} non-2xx answers under load`);
  }
  return result;
}

function startRequest(type: string, kind: ServerKind = 'weft'): AutocannonRequest {
  return {
    method: 'POST',
    path: '/api/v1/workflows',
    headers: {
      'content-type': 'application/json',
      ...(kind === 'weft-auth' ? { authorization: `Bearer ${BENCH_API_KEY}` } : {}),
    },
    body: JSON.stringify({ type, input: 1 }),
  };
}

/** One start and the wait for its result, timed from sending the start to receiving the result. */
function startThenResult(samples: number[]): AutocannonRequest[] {
  return [
    {
      ...startRequest('echo'),
      setupRequest: (request, context) => {
        context.sentAt = performance.now();
        return request;
      },
      onResponse: (_status, body, context) => {
        context.id = (JSON.parse(body) as { id: string }).id;
      },
    },
    {
      method: 'GET',
      setupRequest: (request, context) => ({
        ...request,
        path: `/api/v1/workflows/${encodeURIComponent(String(context.id))}/result`,
      }),
      onResponse: (_status, _body, context) => {
        samples.push(performance.now() - (context.sentAt as number));
      },
    },
  ];
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk);
    const end = text.indexOf('\n');
    if (end >= 0) return text.slice(0, end);
  }
  throw new Error('the server process exited before printing its URL');
}

// ---- the server processes ----------------------------------------------------------------------

/**
 * `weft`: serve() over SQLite with the two workflows; `weft-auth`: the same with an API key, a
 * (never reached) rate limit and an audit sink that drops events, so the figure is the security
 * layer's own cost and not a console's; `hello`: the smallest Bun.serve answering JSON.
 */
async function runServer(kind: string, dir: string): Promise<void> {
  const stopped = Promise.withResolvers<void>();
  process.once('SIGTERM', () => stopped.resolve());
  if (kind === 'hello') {
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async (request) => {
        if (request.method !== 'POST') return Response.json({ result: 1 });
        await request.text();
        return Response.json({ id: 'hello' }, { status: 201 });
      },
    });
    console.log(server.url.href.replace(/\/$/, ''));
    await stopped.promise;
    await server.stop(true);
    return;
  }
  const storage = new SQLiteStorage(join(dir, `http-${process.pid}.db`));
  const engine = await Engine.create({ storage, workflows: [waiter, echo] });
  const server =
    kind === 'weft-auth'
      ? serve({
          engine,
          port: 0,
          auth: { apiKeys: [BENCH_API_KEY], auditSink: () => undefined },
          rateLimit: { maxRequests: 1_000_000_000, windowMs: 60_000 },
        })
      : serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
  console.log(server.url);
  await stopped.promise;
  await server.stop();
  await engine.close();
  await storage.close();
}

if (import.meta.main && process.argv[2] === '--serve') {
  await runServer(process.argv[3] ?? 'hello', process.argv[4] ?? '.');
  process.exit(0);
}
