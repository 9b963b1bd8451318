import { describe, expect, test } from 'bun:test';
import { signal, update, UpdateFailedError, workflow } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { SQLiteStorage } from '../storage/sqlite/index.ts';
import { useTestEngines } from '../testing/index.ts';

const go = signal<string>('go');

/** A cart: updates add items (rejecting bad ones), a query reads the total, a signal checks out. */
const handled: string[] = [];
const cart = workflow({ name: 'cart' })
  .activities({ charge: async (total: number) => `charged ${total}` })
  .execute(async function* (ctx) {
    const items: number[] = [];
    ctx.onUpdate('add', (price: number) => {
      handled.push(`add ${price}`);
      if (price <= 0) throw new Error('price must be positive');
      items.push(price);
      return items.length;
    });
    ctx.onQuery('total', () => items.reduce((a, b) => a + b, 0));
    ctx.onQuery('items', () => items);
    yield* ctx.waitForSignal(go);
    const total = items.reduce((a, b) => a + b, 0);
    return yield* ctx.run('charge', total);
  });

for (const [name, create] of [
  ['MemoryStorage', () => new MemoryStorage()],
  ['SQLiteStorage', () => new SQLiteStorage(':memory:')],
] as const) {
  describe(`updates and queries on ${name}`, () => {
    const harness = useTestEngines({ storage: create });

    test('an update runs its handler between steps and returns its result; the run sees the change', async () => {
      const t = await harness(cart);
      const handle = await t.engine.start(cart, undefined, { id: 'u-1' });
      const first = await t.engine.update('u-1', 'add', 5);
      expect(first).toEqual({ updateId: expect.any(String), status: 'completed', result: 1 });
      expect(await t.engine.update('u-1', 'add', 7)).toMatchObject({ status: 'completed', result: 2 });
      expect(await t.engine.query('u-1', 'total')).toBe(12);
      expect(await t.engine.getUpdate(first.updateId)).toEqual({
        updateId: first.updateId,
        workflowId: 'u-1',
        name: 'add',
        status: 'completed',
        result: 1,
      });
      await t.engine.signal('u-1', go, 'now');
      expect(await handle.result()).toBe('charged 12');
    });

    test('accepted updates are journaled: after a restart the replay re-applies them at the same point', async () => {
      const t = await harness(cart);
      await t.engine.start(cart, undefined, { id: 'u-2' });
      await t.engine.update('u-2', 'add', 3);
      await t.engine.update('u-2', 'add', 4);
      const engine = await t.restart();
      expect(await engine.query('u-2', 'items')).toEqual([3, 4]);
      await engine.signal('u-2', go, 'now');
      expect(await engine.handle('u-2').result()).toBe('charged 7');
    });

    test('a repeated idempotency key returns the first outcome without running the handler again', async () => {
      const t = await harness(cart);
      await t.engine.start(cart, undefined, { id: 'u-3' });
      handled.length = 0;
      const [a, b] = await Promise.all([
        t.engine.update('u-3', 'add', 2, { idempotencyKey: 'k1' }),
        t.engine.update('u-3', 'add', 2, { idempotencyKey: 'k1' }),
      ]);
      expect(a).toEqual(b);
      const engine = await t.restart();
      expect(await engine.update('u-3', 'add', 2, { idempotencyKey: 'k1' })).toEqual(a);
      expect(handled).toEqual(['add 2', 'add 2']); // the first run and the replay after the restart
      expect(await engine.query('u-3', 'items')).toEqual([2]);
    });

    test('a handler that throws rejects the update with update_failed; the run goes on', async () => {
      const t = await harness(cart);
      const handle = await t.engine.start(cart, undefined, { id: 'u-4' });
      const rejected = t.engine.update('u-4', 'add', -1);
      await expect(rejected).rejects.toBeInstanceOf(UpdateFailedError);
      await expect(rejected).rejects.toMatchObject({ code: 'update_failed', details: { name: 'add' } });
      const updateId = ((await rejected.catch((e: unknown) => e)) as UpdateFailedError).updateId;
      expect(await t.engine.getUpdate(updateId)).toMatchObject({
        status: 'failed',
        error: { message: 'price must be positive' },
      });
      await t.engine.update('u-4', 'add', 1);
      await t.engine.signal('u-4', go, 'now');
      expect(await handle.result()).toBe('charged 1');
    });

    test('an update to a finished run, or to a name without a handler, fails with a clear code', async () => {
      const t = await harness(cart);
      const handle = await t.engine.start(cart, undefined, { id: 'u-5' });
      await expect(t.engine.update('u-5', 'remove', 1)).rejects.toMatchObject({ code: 'update_not_handled' });
      await t.engine.signal('u-5', go, 'now');
      await handle.result();
      await expect(t.engine.update('u-5', 'add', 1)).rejects.toMatchObject({ code: 'workflow_not_running' });
      await expect(t.engine.update('nope', 'add', 1)).rejects.toMatchObject({ code: 'workflow_not_found' });
      await expect(t.engine.query('u-5', 'total')).rejects.toMatchObject({ code: 'workflow_not_running' });
      await expect(t.engine.update('u-5', '', 1)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(t.engine.update('u-5', 'add', 1, { idempotencyKey: 'k'.repeat(257) })).rejects.toMatchObject({
        code: 'invalid_argument',
      });
    });

    test('when the timeout passes first the caller learns the update is pending; getUpdate reports it until done', async () => {
      const gate = Promise.withResolvers<void>();
      const busy = workflow({ name: 'busy' }).execute(async function* (ctx) {
        let value = 0;
        ctx.onUpdate('set', (v: number) => (value = v));
        yield* ctx.sleep('1s');
        // Workflow code that awaits something outside the engine: the run is not parked on a step,
        // so updates wait until it is.
        await gate.promise;
        yield* ctx.waitForSignal(go);
        return value;
      });
      const t = await harness(busy);
      const handle = await t.engine.start(busy, undefined, { id: 'u-6' });
      await t.clock.advance('1s');
      const sent = t.engine.update('u-6', 'set', 3, { timeout: '5s' });
      await t.clock.advance('5s');
      const outcome = await sent;
      expect(outcome).toEqual({ updateId: expect.any(String), status: 'pending' });
      expect(await t.engine.getUpdate(outcome.updateId)).toMatchObject({ status: 'pending', workflowId: 'u-6' });
      gate.resolve();
      await t.clock.advance(0);
      expect(await t.engine.getUpdate(outcome.updateId)).toMatchObject({ status: 'completed', result: 3 });
      await t.engine.signal('u-6', go, 'now');
      expect(await handle.result()).toBe(3);
    });

    test('queries are answered for a suspended run, an evicted run and after a restart, and cannot change state', async () => {
      const t = await harness(cart);
      await t.engine.start(cart, undefined, { id: 'u-7' });
      await t.engine.update('u-7', 'add', 10);
      const items = await t.engine.query<number[]>('u-7', 'items');
      items.push(99); // a copy: the run's array is untouched
      expect(await t.engine.query('u-7', 'items')).toEqual([10]);
      await expect(t.engine.query('u-7', 'nope')).rejects.toMatchObject({ code: 'query_not_handled' });
      const engine = await t.restart();
      expect(await engine.query('u-7', 'total')).toBe(10);
    });
  });
}

describe('updates of evicted runs', () => {
  const harness = useTestEngines({ maxSuspendedInMemory: 0 });

  test('an update wakes an evicted run, applies, and the run continues from there', async () => {
    const t = await harness(cart);
    const handle = await t.engine.start(cart, undefined, { id: 'e-1' });
    await t.clock.advance(0);
    expect(await t.engine.update('e-1', 'add', 4)).toMatchObject({ result: 1 });
    expect(await t.engine.query('e-1', 'total')).toBe(4);
    await t.engine.signal('e-1', go, 'x');
    expect(await handle.result()).toBe('charged 4');
  });
});

describe('update() definitions', () => {
  const harness = useTestEngines();
  const rename = update<string, string>('rename');

  test('ctx.onUpdate and engine.update take the definition, typed, as well as the bare name', async () => {
    const named = workflow({ name: 'named', updates: [rename] }).execute(async function* (ctx) {
      let name = 'first';
      ctx.onUpdate(rename, (next) => {
        const previous = name;
        name = next;
        return previous;
      });
      yield* ctx.waitForSignal(go);
      return name;
    });
    const t = await harness(named);
    const handle = await t.engine.start(named, undefined, { id: 'n-1' });
    const outcome = await t.engine.update('n-1', rename, 'second');
    expect(outcome).toMatchObject({ status: 'completed', result: 'first' });
    if (outcome.status === 'completed') {
      const result: string = outcome.result;
      expect(result).toBe('first');
    }
    expect(await t.engine.update('n-1', 'rename', 'third')).toMatchObject({ result: 'second' });
    await t.engine.signal('n-1', go, 'now');
    expect(await handle.result()).toBe('third');
  });
});
