/**
 * Back-pressure from the outside: a real server whose engine is made to look behind — a storage
 * whose commits are held back so its queue deepens, or an event loop kept busy — refuses new starts
 * with 503 `overloaded` and `Retry-After` over REST and JSON-RPC, still takes signals and reads, and
 * takes starts again once the backlog drained. No timing is asserted: every wait is for an event.
 */
import { describe, expect, test } from 'bun:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { signal, workflow } from '../../index.ts';
import { Engine } from '../../engine/engine.ts';
import type { Mutation } from '../../storage/storage.ts';
import { MemoryStorage } from '../../storage/memory/index.ts';
import { parsePrometheusText, sampleValue } from '../../testing/prometheus-text.ts';
import { testServers } from '../../testing/test-servers.ts';
import { MetricName } from '../metrics/metric-names.ts';
import { serve } from '../serve.ts';
import { EventLoopLagProbe } from './event-loop-lag.ts';
import { OverloadGuard, OverloadReason } from './overload-guard.ts';

const go = signal<string>('go');

const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return `got ${yield* ctx.waitForSignal(go)}`;
});

/** MemoryStorage whose commits wait while `hold()` is in force, and which reports them as queued. */
class HeldStorage extends MemoryStorage {
  #gate: PromiseWithResolvers<void> | undefined;
  #held = 0;

  hold(): void {
    this.#gate ??= Promise.withResolvers<void>();
  }

  release(): void {
    this.#gate?.resolve();
    this.#gate = undefined;
  }

  pendingCommits(): number {
    return this.#held;
  }

  override async commit(mutations: readonly Mutation[]): Promise<void> {
    const gate = this.#gate;
    if (gate !== undefined) {
      this.#held += 1;
      await gate.promise;
      this.#held -= 1;
    }
    return super.commit(mutations);
  }
}

const { defer, expectRefusedBeforeBinding } = testServers([waiter]);

async function heldServer(maxCommitQueueDepth: number) {
  const storage = new HeldStorage();
  const engine = await Engine.create({ storage, workflows: [waiter], shutdownGracePeriod: 0 });
  const server = serve({
    engine,
    port: 0,
    unauthenticatedAccess: 'allow',
    overload: { storage, maxCommitQueueDepth, maxEventLoopLagMs: Infinity },
  });
  defer(async () => {
    storage.release();
    await server.stop();
    await engine.close();
    await storage.close();
  });
  return { storage, engine, url: server.url };
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

const startCall = (id: number, runId: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'weft.workflows.start',
  params: { type: 'waiter', id: runId },
});

/** Turns of the event loop until `condition` holds (no clock involved). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('back-pressure', () => {
  test('a deep commit queue turns starts away with 503 and Retry-After while signals and reads go on, until it drains', async () => {
    const { storage, engine, url } = await heldServer(2);
    expect((await post(`${url}/api/v1/workflows`, { type: 'waiter', id: 'w-1' })).status).toBe(201);

    // Three runs started inside the process while storage holds their commits: the queue is 3 deep.
    storage.hold();
    const backlog = ['b-1', 'b-2', 'b-3'].map((id) => engine.start(waiter, undefined, { id }));
    await until(() => storage.pendingCommits() === 3);

    const refused = await post(`${url}/api/v1/workflows`, { type: 'waiter', id: 'w-2' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      error: {
        code: 'overloaded',
        message: expect.stringContaining('retry in 1 s'),
        details: { reason: 'commit_queue', retryAfterSeconds: 1 },
      },
    });

    const rpc = await post(`${url}/api/jsonrpc`, startCall(1, 'w-3'));
    expect(rpc.status).toBe(503);
    expect(rpc.headers.get('retry-after')).toBe('1');
    expect(await rpc.json()).toMatchObject({
      id: 1,
      error: { code: -32053, data: { code: 'overloaded', status: 503 } },
    });

    // In a batch the refused start is that call's error; the read beside it is answered.
    const batch = await post(`${url}/api/jsonrpc`, [
      startCall(2, 'w-4'),
      { jsonrpc: '2.0', id: 3, method: 'weft.workflows.get', params: { id: 'w-1' } },
    ]);
    expect(batch.status).toBe(200);
    expect(batch.headers.get('retry-after')).toBe('1');
    expect(await batch.json()).toMatchObject([
      { id: 2, error: { data: { code: 'overloaded' } } },
      { id: 3, result: { id: 'w-1', status: 'suspended' } },
    ]);

    // Work already accepted is still taken: the signal is admitted and waits with the backlog.
    const signalled = post(`${url}/api/v1/workflows/w-1/signal/go`, { payload: 'through' });
    expect((await fetch(`${url}/api/v1/workflows/w-1`)).status).toBe(200);
    await until(() => storage.pendingCommits() === 4);

    storage.release();
    expect((await signalled).status).toBe(200);
    await Promise.all(backlog);
    expect(storage.pendingCommits()).toBe(0);
    expect((await post(`${url}/api/v1/workflows`, { type: 'waiter', id: 'w-2' })).status).toBe(201);
    expect(await (await fetch(`${url}/api/v1/workflows/w-1/result`)).json()).toEqual({ result: 'got through' });

    const samples = parsePrometheusText(await (await fetch(`${url}/v1/metrics`)).text());
    const shed = { operation: 'weft.workflows.start', reason: 'commit_queue' };
    expect(sampleValue(samples, MetricName.overloadShed, shed)).toBe(3);
    expect(sampleValue(samples, MetricName.commitQueueDepth, {})).toBe(0);
    expect(sampleValue(samples, MetricName.eventLoopLag, {})).toBeGreaterThanOrEqual(0);
  });

  test('a busy event loop, as the lag probe measures it, turns starts away until the loop is free again', async () => {
    const storage = new MemoryStorage();
    const engine = await Engine.create({ storage, workflows: [waiter], shutdownGracePeriod: 0 });
    const server = serve({ engine, port: 0, unauthenticatedAccess: 'allow', overload: { maxEventLoopLagMs: 20 } });
    // Synchronous work on every turn while `blocking`: the probe's timer runs late, well past 20 ms.
    let blocking = false;
    const blocker = setInterval(() => {
      const until = performance.now() + 150;
      while (blocking && performance.now() < until) {
        // Busy.
      }
    }, 1);
    defer(async () => {
      clearInterval(blocker);
      await server.stop();
      await engine.close();
      await storage.close();
    });
    const start = (id: string) => post(`${server.url}/api/v1/workflows`, { type: 'waiter', id });
    expect((await start('w-1')).status).toBe(201);

    blocking = true;
    let refused: Response;
    let attempt = 0;
    while ((refused = await start(`try-${attempt++}`)).status !== 503) expect(refused.status).toBe(201);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({
      error: { code: 'overloaded', details: { reason: 'event_loop_lag' } },
    });
    // Still answered while the loop is busy: a signal to a run already started.
    expect((await post(`${server.url}/api/v1/workflows/w-1/signal/go`, { payload: 'slowly' })).status).toBe(200);

    blocking = false;
    let accepted: Response;
    while ((accepted = await start(`after-${attempt++}`)).status !== 201) expect(accepted.status).toBe(503);
    expect(await (await fetch(`${server.url}/api/v1/workflows/w-1/result`)).json()).toEqual({ result: 'got slowly' });
  });

  test('overload: false never refuses, however deep the queue', async () => {
    const storage = new HeldStorage();
    const engine = await Engine.create({ storage, workflows: [waiter], shutdownGracePeriod: 0 });
    const server = serve({ engine, port: 0, unauthenticatedAccess: 'allow', overload: false });
    defer(async () => {
      storage.release();
      await server.stop();
      await engine.close();
      await storage.close();
    });
    storage.hold();
    const backlog = ['b-1', 'b-2'].map((id) => engine.start(waiter, undefined, { id }));
    await until(() => storage.pendingCommits() === 2);
    const started = post(`${server.url}/api/v1/workflows`, { type: 'waiter', id: 'w-1' });
    await until(() => storage.pendingCommits() === 3);
    storage.release();
    expect((await started).status).toBe(201);
    await Promise.all(backlog);
    const metrics = await (await fetch(`${server.url}/v1/metrics`)).text();
    expect(metrics).not.toContain(MetricName.eventLoopLag);
  });

  test('bad overload options are refused before the server binds', async () => {
    for (const overload of [
      { maxEventLoopLagMs: 0 },
      { maxEventLoopLagMs: Number.NaN },
      { maxCommitQueueDepth: 1.5 },
      { maxCommitQueueDepth: -1 },
      { retryAfterSeconds: 0 },
      { retryAfterSeconds: 0.5 },
      { storage: { pendingCommits: 3 } },
      'on',
    ]) {
      await expectRefusedBeforeBinding({ overload } as never, InvalidArgumentError);
    }
  });
});

describe('OverloadGuard', () => {
  function manualGuard(options: ConstructorParameters<typeof OverloadGuard>[0] = {}) {
    let now = 0;
    let tick = (): void => {};
    const probe = new EventLoopLagProbe({ now: () => now, every: (callback) => ((tick = callback), () => {}) });
    const guard = new OverloadGuard(options, probe);
    const sampleAt = (at: number): void => {
      now = at;
      tick();
    };
    return { guard, sampleAt };
  }

  test('admits while the smoothed lag is at or under its bound and refuses above it', () => {
    const { guard, sampleAt } = manualGuard({ maxEventLoopLagMs: 100 });
    sampleAt(100 + 300); // 300 ms late: smoothed to 100, not over the bound
    expect(guard.reason()).toBeUndefined();
    expect(() => guard.admitNewWork('weft.workflows.start')).not.toThrow();
    sampleAt(400 + 100 + 300); // late again: over
    expect(guard.reason()).toBe(OverloadReason.eventLoopLag);
    expect(() => guard.admitNewWork('weft.workflows.start')).toThrow(expect.objectContaining({ code: 'overloaded' }));
    expect(guard.shedCounts()).toEqual([{ operation: 'weft.workflows.start', reason: 'event_loop_lag', count: 1 }]);
  });

  test('reads the queue depth from the storage given, and none without one', () => {
    let depth = 10;
    const { guard } = manualGuard({ maxCommitQueueDepth: 10, storage: { pendingCommits: () => depth } });
    expect(guard.commitQueueDepth()).toBe(10);
    expect(guard.reason()).toBeUndefined();
    depth = 11;
    expect(guard.reason()).toBe(OverloadReason.commitQueue);
    expect(manualGuard({ storage: {} }).guard.commitQueueDepth()).toBeUndefined();
    expect(manualGuard().guard.commitQueueDepth()).toBeUndefined();
  });

  test('Infinity turns one bound off', () => {
    const { guard, sampleAt } = manualGuard({ maxEventLoopLagMs: Infinity, storage: { pendingCommits: () => 1e9 } });
    sampleAt(10_000);
    expect(guard.reason()).toBe(OverloadReason.commitQueue);
    expect(manualGuard({ maxCommitQueueDepth: Infinity, storage: { pendingCommits: () => 1e9 } }).guard.reason()).toBe(
      undefined,
    );
  });
});
