import { describe, expect, test } from 'bun:test';
import { InvalidArgumentError, signal, workflow } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { SQLiteStorage } from '../storage/sqlite/index.ts';
import { useTestEngines } from '../testing/index.ts';

const go = signal<string>('go');

/** Echoes its input once `go` arrives; handles the `bump` update and the `peek` query meanwhile. */
const order = workflow({ name: 'order' }).execute(async function* (ctx, input: string) {
  ctx.onUpdate('bump', (n: number) => n + 1);
  ctx.onQuery('peek', () => input);
  yield* ctx.waitForSignal(go);
  return input;
});

const HIGH = 'ik-\ud800';
const LOW = 'ik-\udc00';

/** Resolves with the `invalid_argument` error `call` rejects with (fails the test if it does not). */
async function refusal(call: () => Promise<unknown>): Promise<InvalidArgumentError> {
  const error = await call().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidArgumentError);
  return error as InvalidArgumentError;
}

for (const [name, create] of [
  ['SQLiteStorage', () => new SQLiteStorage(':memory:')],
  ['MemoryStorage', () => new MemoryStorage()],
] as const) {
  describe(`strings with lone surrogates on ${name}`, () => {
    const harness = useTestEngines({ storage: create });

    test('two idempotency keys differing only in a lone surrogate are refused instead of merging', async () => {
      const t = await harness(order);
      const error = await refusal(() => t.engine.start(order, 'first', { idempotencyKey: HIGH }));
      expect(error.message).toContain('idempotencyKey must be well-formed Unicode');
      expect(error.message).not.toContain(HIGH);
      await refusal(() => t.engine.start(order, 'second', { idempotencyKey: LOW }));
      expect((await t.engine.list()).total).toBe(0);
    });

    test('a well-formed key with a surrogate pair or U+FFFD is its own key', async () => {
      const t = await harness(order);
      const pair = await t.engine.start(order, 'pair', { idempotencyKey: 'ik-\ud83d\ude00' });
      const replacement = await t.engine.start(order, 'fffd', { idempotencyKey: 'ik-\ufffd' });
      expect(pair.id).not.toBe(replacement.id);
      expect((await t.engine.get(pair.id))?.idempotencyKey).toBe('ik-😀');
    });

    test('ids, workflow types, signal, update and query names and update ids with lone surrogates are refused', async () => {
      const t = await harness(order);
      await t.engine.start(order, 'x', { id: 'o-\ufffd' });
      await refusal(() => t.engine.start(order, 'x', { id: 'o-\ud800' }));
      await refusal(() => t.engine.start('order\udfff', 'x'));
      // A lookup by an ill-formed id must not find the run stored under U+FFFD either.
      await refusal(() => t.engine.get('o-\ud800'));
      await refusal(() => t.engine.handle('o-\ud800').result());
      await refusal(() => t.engine.signal('o-\ud800', go, 'x'));
      await refusal(() => t.engine.signal('o-\ufffd', 'go\ud800', 'x'));
      await refusal(() => t.engine.update('o-\ufffd', 'bump\ud800', 1));
      await refusal(() => t.engine.update('o-\ufffd', 'bump', 1, { idempotencyKey: LOW }));
      await refusal(() => t.engine.query('o-\ufffd', 'peek\udc00'));
      await refusal(() => t.engine.getUpdate('u-\ud800'));
      await refusal(() => t.engine.cancel('o-\ud800'));
      await refusal(() => t.engine.delete('o-\ud800'));
      await refusal(() => t.engine.readWatch('o-\ud800'));
      await refusal(() => t.engine.readStream('o-\ud800'));
      await refusal(() => t.engine.getAttributes('o-\ud800'));
      expect((await t.engine.get('o-\ufffd'))?.status).toBe('suspended');
    });

    test('attribute values and list filters with lone surrogates are refused', async () => {
      const t = await harness(order);
      await t.engine.start(order, 'x', { id: 'o-1' });
      await t.engine.setAttributes('o-1', { customer: 'c-\ufffd' });
      await refusal(() => t.engine.setAttributes('o-1', { customer: 'c-\ud800' }));
      await refusal(() => t.engine.list({ attributes: { customer: 'c-\ud800' } }));
      await refusal(() => t.engine.list({ type: 'order\ud800' }));
      await refusal(() => t.engine.list({ idPrefix: 'o-\udbff' }));
      await refusal(() => t.engine.list({ parentId: 'p-\ud800' }));
      await refusal(() => t.engine.aggregate('type', { type: ['order', 'x\udc00'] }));
      expect(await t.engine.getAttributes('o-1')).toEqual({ customer: 'c-\ufffd' });
    });
  });
}

describe('names at the engine boundary', () => {
  const harness = useTestEngines();

  test('names longer than 256 characters are refused, and the refusal does not quote them', async () => {
    const t = await harness(order);
    await t.engine.start(order, 'x', { id: 'o-1' });
    const long = 'n'.repeat(900_000);
    for (const call of [
      () => t.engine.start(long, 'x'),
      () => t.engine.signal('o-1', long, 'x'),
      () => t.engine.update('o-1', long, 1),
      () => t.engine.query('o-1', long),
      () => t.engine.list({ type: long }),
      () => t.engine.get(long),
    ]) {
      const error = await refusal(call);
      expect(JSON.stringify({ message: error.message, details: error.details }).length).toBeLessThan(1_000);
    }
  });

  test('__proto__ is refused as an attribute name; constructor and toString are ordinary names', async () => {
    const t = await harness(order);
    await t.engine.start(order, 'x', { id: 'o-1' });
    const proto = JSON.parse('{"__proto__": "p"}') as Record<string, string>;
    await refusal(() => t.engine.setAttributes('o-1', proto));
    await refusal(() => t.engine.list({ attributes: proto }));
    await refusal(() => t.engine.aggregate('attribute:__proto__'));
    await t.engine.setAttributes('o-1', { constructor: 'c', toString: 't', hasOwnProperty: 1 });
    expect(await t.engine.getAttributes('o-1')).toEqual({ constructor: 'c', toString: 't', hasOwnProperty: 1 });
    expect((await t.engine.list({ attributes: { toString: 't' } })).total).toBe(1);
    expect((await t.engine.list({ attributes: { valueOf: 't' } })).total).toBe(0);
  });
});
