/**
 * A read the storage abandoned over its budget (SQLite's read worker: `read_timeout`) reaches a
 * client as the 503 it is, with `Retry-After`, over REST and JSON-RPC — never as a 500.
 */
import { expect, test } from 'bun:test';
import { ReadTimeoutError } from '../core/errors.ts';
import { Engine } from '../engine/engine.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import type { ListRunsOptions, RunPage, RunQuery } from '../storage/storage.ts';
import { handleRequest } from './handler.ts';

/** A store whose listings always run out of budget, as a saturated read worker's do. */
class SlowListings extends MemoryStorage {
  override listRuns(_query: RunQuery, _options: ListRunsOptions): Promise<RunPage> {
    return Promise.reject(new ReadTimeoutError('listRuns', 5_000));
  }
}

test('a listing over the storage’s read budget is a 503 read_timeout with Retry-After, over REST and JSON-RPC', async () => {
  const storage = new SlowListings();
  await using engine = await Engine.create({ storage, workflows: [] });
  const rest = await handleRequest(new Request('http://127.0.0.1/api/v1/workflows?status=running'), engine);
  expect(rest.status).toBe(503);
  expect(rest.headers.get('retry-after')).toBe('5');
  expect(await rest.json()).toMatchObject({ error: { code: 'read_timeout', details: { retryAfterSeconds: 5 } } });

  const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'weft.workflows.list', params: {} });
  const post = (body: unknown) =>
    handleRequest(
      new Request('http://127.0.0.1/api/jsonrpc', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
      engine,
    );
  const single = await post(call(1));
  expect(single.status).toBe(503);
  expect(single.headers.get('retry-after')).toBe('5');
  expect(await single.json()).toMatchObject({ id: 1, error: { code: -32053, data: { code: 'read_timeout' } } });
  const batch = await post([call(2), { jsonrpc: '2.0', id: 3, method: 'weft.system.health' }]);
  expect(batch.status).toBe(200);
  expect(batch.headers.get('retry-after')).toBe('5');
  expect(await batch.json()).toMatchObject([
    { id: 2, error: { data: { code: 'read_timeout' } } },
    { id: 3, result: { status: 'ok' } },
  ]);
  await storage.close();
});
