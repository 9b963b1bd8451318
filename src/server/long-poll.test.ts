/**
 * Long-polls over a real socket, held longer than Bun's 10 s idle timeout: every wait the server
 * offers ends with its own answer (the result, 408, 202 `pending`), never a cut connection.
 */
import { describe, expect, test } from 'bun:test';
import { HttpClient } from '../client/index.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { signal, workflow } from '../index.ts';
import { testServers } from '../testing/test-servers.ts';
import { handleRequest } from './handler.ts';
import { MAX_WAIT_MS } from './handler-options.ts';

const go = signal<string>('go');
const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(go);
});
/** Awaits something outside the engine before it parks, so updates queue and stay pending. */
const gate = Promise.withResolvers<void>();
const atGate = Promise.withResolvers<void>();
const stalled = workflow({ name: 'stalled' }).execute(async function* (ctx) {
  ctx.onUpdate('set', (value: number) => value);
  yield* ctx.sleep('10ms');
  atGate.resolve();
  await gate.promise;
  return yield* ctx.waitForSignal(go);
});
const counter = workflow({ name: 'counter' }).execute(async function* (ctx) {
  ctx.onUpdate('set', (value: number) => value * 2);
  return yield* ctx.waitForSignal(go);
});
const { start, openEngine, expectRefusedBeforeBinding, defer } = testServers([waiter, stalled, counter]);

/** Longer than Bun's default idle timeout (10 s), which used to cut these waits with no answer. */
const WAIT_MS = 12_500;

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('waits longer than Bun’s idle timeout', () => {
  test('result and update waits of 12.5 s end with the server’s own answers', async () => {
    const server = await start({ resultTimeoutMs: WAIT_MS });
    const { engine, url } = server;
    for (const id of ['never', 'later']) await engine.start(waiter, undefined, { id });
    await engine.start(stalled, undefined, { id: 'stalled' });
    defer(() => gate.resolve());
    await atGate.promise;
    const client = new HttpClient({ baseUrl: url });
    const started = performance.now();

    const [timedOut, finished, clientTimedOut, rpcTimedOut, updateWithTimeout, updateWithout] = await Promise.all([
      fetch(`${url}/api/v1/workflows/never/result`),
      (async () => {
        const answer = fetch(`${url}/api/v1/workflows/later/result`);
        await Bun.sleep(11_000);
        await engine.signal('later', go, 'done');
        return answer;
      })(),
      client.workflowResult({ id: 'never' }).then(
        () => 'resolved',
        (error: unknown) => (error as { code?: string }).code ?? String(error),
      ),
      post(`${url}/api/jsonrpc`, { jsonrpc: '2.0', id: 7, method: 'weft.workflows.result', params: { id: 'never' } }),
      post(`${url}/api/v1/workflows/stalled/update/set`, { payload: 1, timeout: `${WAIT_MS}ms` }),
      post(`${url}/api/v1/workflows/stalled/update/set`, { payload: 2 }),
    ]);

    expect(performance.now() - started).toBeGreaterThan(10_000);
    expect(timedOut.status).toBe(408);
    expect(await timedOut.json()).toMatchObject({ error: { code: 'result_timeout' } });
    expect(finished.status).toBe(200);
    expect(await finished.json()).toEqual({ result: 'done' });
    expect(clientTimedOut).toBe('result_timeout');
    expect(await rpcTimedOut.json()).toMatchObject({ id: 7, error: { data: { code: 'result_timeout' } } });
    for (const update of [updateWithTimeout, updateWithout]) {
      expect(update.status).toBe(202);
      expect(await update.json()).toMatchObject({ status: 'pending', updateId: expect.any(String) });
    }
  }, 30_000);

  test('resultTimeoutMs past what a quiet connection can be kept open is refused before binding', async () => {
    await expectRefusedBeforeBinding({ resultTimeoutMs: MAX_WAIT_MS + 1 }, InvalidArgumentError);
    await expectRefusedBeforeBinding({ resultTimeoutMs: 0 }, InvalidArgumentError);
  });
});

describe('keepOpen, the listener’s side of a wait', () => {
  test('the handler says how long each wait may last before it waits; an update’s timeout is capped at MAX_WAIT_MS', async () => {
    const engine = await openEngine();
    await engine.start(counter, undefined, { id: 'c-1' });
    const held: number[] = [];
    const connection = { keepOpen: (ms: number) => void held.push(ms) };
    const update = (body: unknown) =>
      handleRequest(
        new Request('http://127.0.0.1/api/v1/workflows/c-1/update/set', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
        engine,
        { resultTimeoutMs: 20_000 },
        connection,
      );
    expect(await (await update({ payload: 1, timeout: '1h' })).json()).toMatchObject({ result: 2 });
    expect(await (await update({ payload: 2, timeout: 5_000 })).json()).toMatchObject({ result: 4 });
    expect(await (await update({ payload: 3 })).json()).toMatchObject({ result: 6 });
    await engine.signal('c-1', go, 'x');
    await handleRequest(new Request('http://127.0.0.1/api/v1/workflows/c-1/result'), engine, {}, connection);
    expect(held).toEqual([MAX_WAIT_MS, 5_000, 20_000, 30_000]);
    // Requests that do not wait do not touch the connection's timeout.
    await handleRequest(new Request('http://127.0.0.1/api/v1/workflows/c-1'), engine, {}, connection);
    expect(held.length).toBe(4);
  });
});
