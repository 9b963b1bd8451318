/**
 * `HttpClient` from a user's side, against a real `serve()` on port 0 (and once against
 * `handleRequest` directly): every catalog operation, typed results, and server errors arriving as
 * `WeftError`s with the server's code.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Engine, signal, workflow } from '../index.ts';
import { handleRequest } from '../server/handler.ts';
import { serve, type WeftServer } from '../server/index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { getWorkflow, HttpClient, listWorkflows } from './index.ts';
import { weftRejection } from '../testing/weft-rejection.ts';

const approve = signal<{ by: string }>('approve');
let gate = Promise.withResolvers<void>();
let atGate = Promise.withResolvers<void>();

const order = workflow({ name: 'order' })
  .activities({ charge: async (amount: number) => `rcpt-${amount}` })
  .execute(async function* (ctx, input: { amount: number; region?: string }) {
    let discount = 0;
    ctx.setAttribute('region', input.region ?? 'eu');
    ctx.setAttribute('amount', input.amount);
    ctx.onUpdate('discount', (pct: number) => (discount = pct));
    ctx.onQuery('discount', () => discount);
    const receipt = yield* ctx.run('charge', input.amount);
    const { by } = yield* ctx.waitForSignal(approve);
    return { receipt, by, discount };
  });

const broken = workflow({ name: 'broken' }).execute(async function* () {
  yield* [];
  throw new Error('out of stock');
});

/** After its first signal, busy in workflow code until `gate` opens, so an update sent meanwhile stays pending. */
const busy = workflow({ name: 'busy' }).execute(async function* (ctx) {
  ctx.onUpdate('ping', (n: number) => n + 1);
  yield* ctx.waitForSignal(approve);
  atGate.resolve();
  await gate.promise;
  return yield* ctx.waitForSignal(approve);
});

let storage: MemoryStorage;
let engine: Engine;
let server: WeftServer;
let client: HttpClient;

beforeAll(async () => {
  storage = new MemoryStorage();
  engine = await Engine.create({ storage, workflows: [order, broken, busy], shutdownGracePeriod: 0 });
  server = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
  client = new HttpClient({ baseUrl: server.url });
});

afterAll(async () => {
  gate.resolve();
  await server.stop();
  await engine.close();
  await storage.close();
});

describe('HttpClient against serve()', () => {
  test('health answers ok', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
  });

  test('a workflow started over HTTP runs to its result, signalled, updated and queried on the way', async () => {
    expect(await client.startWorkflow({ type: 'order', input: { amount: 30 }, id: 'o-1' })).toEqual({ id: 'o-1' });
    const update = await client.updateWorkflow({ id: 'o-1', name: 'discount', payload: 10, timeout: '5s' });
    expect(update).toMatchObject({ status: 'completed', result: 10 });
    expect(await client.getUpdate({ updateId: update.updateId })).toMatchObject({
      workflowId: 'o-1',
      name: 'discount',
      status: 'completed',
      result: 10,
    });
    expect(await client.queryWorkflow({ id: 'o-1', name: 'discount' })).toEqual({ result: 10 });
    expect(await client.signalWorkflow({ id: 'o-1', name: 'approve', payload: { by: 'ann' } })).toEqual({ ok: true });
    expect(await client.workflowResult({ id: 'o-1' })).toEqual({
      result: { receipt: 'rcpt-30', by: 'ann', discount: 10 },
    });
    const state = await client.getWorkflow({ id: 'o-1' });
    expect(state).toMatchObject({ id: 'o-1', type: 'order', status: 'completed', input: { amount: 30 } });
    expect(typeof state.createdAt).toBe('string');
  });

  test('server errors reject with a WeftError carrying the same code and the HTTP status', async () => {
    await client.startWorkflow({ type: 'order', input: { amount: 1 }, id: 'dup' });
    const duplicate = await weftRejection(client.startWorkflow({ type: 'order', input: { amount: 1 }, id: 'dup' }));
    expect(duplicate.code).toBe('workflow_already_exists');
    expect(duplicate.details?.status).toBe(409);

    const missing = await weftRejection(client.getWorkflow({ id: 'nope' }));
    expect(missing.code).toBe('workflow_not_found');
    expect(missing.details?.status).toBe(404);

    await client.startWorkflow({ type: 'broken', id: 'b-1' });
    const failed = await weftRejection(client.workflowResult({ id: 'b-1' }));
    expect(failed.code).toBe('workflow_failed');
    expect(failed.details?.status).toBe(422);

    const unknownType = await weftRejection(client.startWorkflow({ type: 'no-such-type' }));
    expect(unknownType.code).toBe('workflow_type_not_registered');
  });

  test('list filters travel as the query parameters the server reads, attribute values keeping their type', async () => {
    await client.startWorkflow({ type: 'order', input: { amount: 5, region: 'us' }, id: 'l-us-5' });
    await client.startWorkflow({ type: 'order', input: { amount: 7, region: '5' }, id: 'l-str-5' });
    await client.startWorkflow({ type: 'order', input: { amount: 5, region: 'eu' }, id: 'l-eu-5' });
    const ids = async (filter: Parameters<HttpClient['listWorkflows']>[0]) =>
      (await client.listWorkflows(filter)).items.map((item) => item.id).sort();

    expect(await ids({ idPrefix: 'l-', attributes: { amount: 5 } })).toEqual(['l-eu-5', 'l-us-5']);
    // '5' the string is not 5 the number.
    expect(await ids({ idPrefix: 'l-', attributes: { region: '5' } })).toEqual(['l-str-5']);
    expect(await ids({ idPrefix: 'l-', attributes: { region: 'us', amount: 5 } })).toEqual(['l-us-5']);
    expect(await ids({ idPrefix: 'l-', status: ['suspended', 'running'], type: 'order' })).toHaveLength(3);
    expect(await ids({ idPrefix: 'l-', status: 'completed' })).toEqual([]);

    const page = await client.listWorkflows({ idPrefix: 'l-', limit: 2, offset: 1, include: ['failureCategory'] });
    expect(page).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(page.items).toHaveLength(2);
  });

  test('aggregates count by the requested grouping', async () => {
    const counts = await client.aggregateWorkflows({ groupBy: 'type', type: ['broken'] });
    expect(counts).toEqual({ total: 1, groups: [{ key: 'broken', count: 1 }], truncated: false });
  });

  test('attributes can be read and set', async () => {
    await client.startWorkflow({ type: 'order', input: { amount: 2 }, id: 'a-1' });
    const set = await client.setAttributes({ id: 'a-1', attributes: { tier: 'gold', amount: null } });
    expect(set.attributes).toEqual({ region: 'eu', tier: 'gold' });
    expect(await client.getAttributes({ id: 'a-1' })).toEqual({ attributes: { region: 'eu', tier: 'gold' } });
  });

  test('cancel keeps the record; delete removes it; both resolve with null (204)', async () => {
    await client.startWorkflow({ type: 'order', input: { amount: 3 }, id: 'c-1' });
    expect(await client.cancelWorkflow({ id: 'c-1' })).toBeNull();
    expect((await client.getWorkflow({ id: 'c-1' })).status).toBe('cancelled');
    expect(await client.deleteWorkflow({ id: 'c-1' })).toBeNull();
    expect((await weftRejection(client.getWorkflow({ id: 'c-1' }))).code).toBe('workflow_not_found');
  });

  test('an update the run cannot take yet answers pending (202), and getUpdate reports it once applied', async () => {
    gate = Promise.withResolvers<void>();
    atGate = Promise.withResolvers<void>();
    await client.startWorkflow({ type: 'busy', id: 'busy-1' });
    await client.signalWorkflow({ id: 'busy-1', name: 'approve', payload: { by: 'bo' } });
    await atGate.promise;
    const pending = await client.updateWorkflow({ id: 'busy-1', name: 'ping', payload: 1, timeout: 20 });
    expect(pending.status).toBe('pending');
    expect(await client.getUpdate({ updateId: pending.updateId })).toMatchObject({ status: 'pending' });
    gate.resolve();
    let state = await client.getUpdate({ updateId: pending.updateId });
    for (let i = 0; i < 100 && state.status === 'pending'; i++) {
      await Bun.sleep(10);
      state = await client.getUpdate({ updateId: pending.updateId });
    }
    expect(state).toMatchObject({ status: 'completed', result: 2 });
  });

  test('ids with slashes and spaces stay one path segment', async () => {
    const id = 'tenant/a b?c';
    expect(await client.startWorkflow({ type: 'order', input: { amount: 4 }, id })).toEqual({ id });
    expect((await client.getWorkflow({ id })).id).toBe(id);
  });

  test('events are listed after a cursor', async () => {
    const { items } = await client.listEvents({ after: -1, limit: 5 });
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((event, i) => i === 0 || event.seq > items[i - 1]!.seq)).toBe(true);
    const later = await client.listEvents({ after: items[0]!.seq, limit: 1 });
    expect(later.items[0]?.seq).toBe(items[1]?.seq);
  });

  test('call(spec, input) reaches any operation by its spec', async () => {
    await client.startWorkflow({ type: 'order', input: { amount: 9 }, id: 'g-1' });
    expect((await client.call(getWorkflow, { id: 'g-1' })).type).toBe('order');
    expect((await client.call(listWorkflows, { idPrefix: 'g-' })).total).toBe(1);
  });

  test('bad parameters the types allow are refused by the server as invalid_params', async () => {
    const error = await weftRejection(client.listWorkflows({ limit: 5000 }));
    expect(error.code).toBe('invalid_params');
    expect(error.details?.status).toBe(400);
  });
});

describe('HttpClient with its own fetch', () => {
  test('runs over handleRequest without a network, sending the configured headers', async () => {
    const seen: Request[] = [];
    const local = new HttpClient({
      baseUrl: 'http://weft.local/base/',
      headers: { 'x-tenant': 't-1' },
      fetch: (request) => (
        seen.push(request),
        handleRequest(new Request(request.url.replace('/base', ''), request), engine)
      ),
    });
    await local.startWorkflow({ type: 'order', input: { amount: 11 }, id: 'local-1' });
    expect((await local.getWorkflow({ id: 'local-1' }, { headers: { 'x-call': 'yes' } })).id).toBe('local-1');
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /base/api/v1/workflows',
      'GET /base/api/v1/workflows/local-1',
    ]);
    expect(seen[0]!.headers.get('x-tenant')).toBe('t-1');
    expect(seen[0]!.headers.get('content-type')).toBe('application/json');
    expect(seen[1]!.headers.get('x-call')).toBe('yes');
  });

  test('a response that is not Weft JSON rejects with unexpected_response', async () => {
    const proxy = new HttpClient({
      baseUrl: 'http://weft.local',
      fetch: async () =>
        new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    });
    const error = await weftRejection(proxy.health());
    expect(error.code).toBe('unexpected_response');
    expect(error.details).toMatchObject({ status: 502, contentType: 'text/html' });
  });

  test('an input the REST binding cannot carry is refused before anything is sent', async () => {
    let sent = 0;
    const counting = new HttpClient({
      baseUrl: 'http://weft.local',
      fetch: async () => (sent++, new Response(null, { status: 204 })),
    });
    expect((await weftRejection(counting.getWorkflow({ id: '' }))).code).toBe('invalid_argument');
    expect(sent).toBe(0);
  });
});

describe('HttpClient against a server with authentication', () => {
  test('sends its credential as a bearer token; without it, or with a wrong one, calls reject as unauthenticated (401)', async () => {
    await using secured = serve({ engine, port: 0, auth: { apiKeys: ['client-key'], auditSink: () => undefined } });
    const withKey = new HttpClient({ baseUrl: secured.url, credential: 'client-key' });
    expect((await withKey.listWorkflows()).total).toBeGreaterThanOrEqual(0);
    expect(await new HttpClient({ baseUrl: secured.url }).health()).toEqual({ status: 'ok' });
    for (const anonymous of [
      new HttpClient({ baseUrl: secured.url }),
      new HttpClient({ baseUrl: secured.url, credential: 'wrong-key' }),
    ]) {
      const error = await weftRejection(anonymous.listWorkflows());
      expect(error.code).toBe('unauthenticated');
      expect(error.details).toMatchObject({ status: 401 });
    }
    const overridden = new HttpClient({
      baseUrl: secured.url,
      credential: 'client-key',
      headers: { authorization: 'Bearer wrong-key' },
    });
    expect((await weftRejection(overridden.listWorkflows())).code).toBe('unauthenticated');
  });
});
