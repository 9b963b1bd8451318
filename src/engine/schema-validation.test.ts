import { describe, expect, test } from 'bun:test';
import { z } from 'zod';
import { InvalidInputError, signal, update, workflow, WorkflowFailedError, type StandardSchemaV1 } from '../index.ts';
import type { TestEngine } from '../testing/index.ts';
import { useTestEngines } from '../testing/index.ts';

const approval = signal('approval', { schema: z.object({ approved: z.boolean() }) });
const discount = update('discount', { schema: z.number().int().min(0).max(100) });

/** Waits for an approval; takes discounts meanwhile; its input has a default. */
const order = workflow({
  name: 'order',
  input: z.object({ amount: z.number().positive(), currency: z.string().default('EUR') }),
  signals: [approval],
  updates: [discount],
}).execute(async function* (ctx, input) {
  let percent = 0;
  ctx.onUpdate(discount, (next) => (percent = next));
  const decision = yield* ctx.waitForSignal(approval);
  return { ...input, percent, approved: decision.approved };
});

/** A Standard Schema written by hand (no zod): an even number, issues with `{ key }` path segments. */
const evenCount: StandardSchemaV1<{ count: number }> = {
  '~standard': {
    version: 1,
    vendor: 'hand-written',
    validate: (value) => {
      const count = (value as { count?: unknown } | null)?.count;
      if (typeof count === 'number' && count % 2 === 0) return { value: { count } };
      return { issues: [{ message: 'must be even', path: [{ key: 'count' }] }] };
    },
  },
};

/** A Standard Schema that answers asynchronously (a look-up elsewhere, say): only known SKUs. */
const knownSku: StandardSchemaV1<string> = {
  '~standard': {
    version: 1,
    vendor: 'hand-written',
    validate: async (value) => {
      await Promise.resolve();
      return value === 'sku-1' ? { value } : { issues: [{ message: `unknown SKU ${String(value)}` }] };
    },
  },
};

const halve = workflow({ name: 'halve', input: evenCount }).execute(async function* (_ctx, { count }) {
  return count / 2;
});
const ship = workflow({ name: 'ship', input: knownSku }).execute(async function* (_ctx, sku) {
  return `shipped ${sku}`;
});

/** Everything a refused call could have left behind for run `id`. */
async function traces(t: TestEngine, id: string) {
  const [run, journal, approvalMessage, events] = await Promise.all([
    t.storage.getRun(id),
    t.storage.getJournal(id),
    t.storage.peekSignal(id, 'approval'),
    t.storage.lastEventSeq(),
  ]);
  return { status: run?.status, journal: journal.length, approvalMessage, events };
}

async function refusal(call: Promise<unknown>): Promise<InvalidInputError> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  return error as InvalidInputError;
}

describe('a start whose input fails the workflow input schema', () => {
  const harness = useTestEngines();

  test('is refused with invalid_input listing the issues, and nothing is stored', async () => {
    const t = await harness(order);
    const before = await t.storage.lastEventSeq();
    const error = await refusal(t.engine.start('order', { amount: -1, currency: 7 }, { id: 'o-bad' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toStartWith("input of workflow 'order' does not match its schema: amount: ");
    expect(error.details).toEqual({
      what: "input of workflow 'order'",
      issues: [
        { path: 'amount', message: expect.stringContaining('>0') },
        { path: 'currency', message: expect.stringContaining('expected string') },
      ],
    });
    expect(await t.engine.get('o-bad')).toBeUndefined();
    expect((await t.engine.list()).total).toBe(0);
    expect(await t.storage.lastEventSeq()).toBe(before);
  });

  test('with an idempotency key leaves the key free: a corrected start with it creates the run', async () => {
    const t = await harness(order);
    await refusal(t.engine.start(order, { amount: 0 } as never, { idempotencyKey: 'req-1' }));
    expect(await t.storage.findRunByIdempotencyKey('req-1')).toBeUndefined();
    const handle = await t.engine.start(order, { amount: 5 }, { idempotencyKey: 'req-1' });
    expect((await t.engine.get(handle.id))?.status).not.toBeUndefined();
  });

  test("an accepted input is stored and run as the schema's output, defaults applied", async () => {
    const t = await harness(order);
    const handle = await t.engine.start(order, { amount: 5 }, { id: 'o-1' });
    expect((await t.engine.get('o-1'))?.input).toEqual({ amount: 5, currency: 'EUR' });
    await t.engine.signal('o-1', approval, { approved: true });
    expect(await handle.result()).toEqual({ amount: 5, currency: 'EUR', percent: 0, approved: true });
  });

  test('any Standard Schema works, not only zod: its issues and their { key } path segments are reported', async () => {
    const t = await harness(halve);
    const error = await refusal(t.engine.start(halve, { count: 3 }));
    expect(error.issues).toEqual([{ path: 'count', message: 'must be even' }]);
    expect(await t.engine.start(halve, { count: 4 }).then((h) => h.result())).toBe(2);
  });

  test('a schema that validates asynchronously is awaited before anything is stored', async () => {
    const t = await harness(ship);
    const error = await refusal(t.engine.start(ship, 'sku-9', { id: 's-bad' }));
    expect(error.issues).toEqual([{ path: '', message: 'unknown SKU sku-9' }]);
    expect(await t.engine.get('s-bad')).toBeUndefined();
    expect(await t.engine.start(ship, 'sku-1').then((h) => h.result())).toBe('shipped sku-1');
  });
});

describe('a signal whose payload fails its schema', () => {
  const harness = useTestEngines();

  for (const [label, maxSuspendedInMemory] of [
    ['a resident run', 1000],
    ['an evicted run', 0],
  ] as const) {
    const evicting = useTestEngines({ maxSuspendedInMemory });

    test(`is refused before it reaches the inbox of ${label}, whether sent by name or by definition`, async () => {
      const t = await evicting(order);
      const handle = await t.engine.start(order, { amount: 5, currency: 'EUR' }, { id: 'o-1' });
      await t.clock.advance(0);
      const before = await traces(t, 'o-1');
      const byName = await refusal(t.engine.signal('o-1', 'approval', { approved: 'yes' }));
      expect(byName.details).toMatchObject({
        what: "payload of signal 'approval'",
        issues: [{ path: 'approved', message: expect.any(String) }],
      });
      await refusal(t.engine.signal('o-1', approval, { approved: 1 } as never));
      expect(await traces(t, 'o-1')).toEqual(before);
      expect(before.approvalMessage).toBeUndefined();
      // The run still waits: the next, valid signal is the one it takes.
      await t.engine.signal('o-1', 'approval', { approved: false });
      expect(await handle.result()).toMatchObject({ approved: false });
    });
  }

  test("a signal() definition's own schema checks the payload when the run's workflow declares none", async () => {
    const typed = signal('note', { schema: z.string().max(3) });
    const notes = workflow({ name: 'notes' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(typed);
    });
    const t = await harness(notes);
    const handle = await t.engine.start(notes, undefined, { id: 'n-1' });
    await refusal(t.engine.signal('n-1', typed, 'too long'));
    await t.engine.signal('n-1', 'note', 'not checked by name');
    expect(await handle.result()).toBe('not checked by name');
  });

  test('to an unknown run is still workflow_not_found', async () => {
    const t = await harness(order);
    await expect(t.engine.signal('nope', 'approval', { approved: true })).rejects.toMatchObject({
      code: 'workflow_not_found',
    });
  });
});

describe('an update whose payload fails its schema', () => {
  for (const [label, maxSuspendedInMemory] of [
    ['a resident run', 1000],
    ['an evicted run', 0],
  ] as const) {
    const harness = useTestEngines({ maxSuspendedInMemory });

    test(`is refused before it is recorded on ${label}; the handler never sees it`, async () => {
      const t = await harness(order);
      const handle = await t.engine.start(order, { amount: 5, currency: 'EUR' }, { id: 'o-1' });
      await t.clock.advance(0);
      const before = await traces(t, 'o-1');
      const error = await refusal(t.engine.update('o-1', 'discount', 150, { idempotencyKey: 'k-1' }));
      expect(error.details).toMatchObject({
        what: "payload of update 'discount'",
        issues: [{ path: '', message: expect.stringContaining('100') }],
      });
      await refusal(t.engine.update('o-1', discount, 2.5));
      expect(await traces(t, 'o-1')).toEqual(before);
      expect(await t.storage.findUpdateByIdempotencyKey('o-1', 'k-1')).toBeUndefined();
      expect(await t.engine.update('o-1', discount, 10, { idempotencyKey: 'k-1' })).toMatchObject({
        status: 'completed',
      });
      await t.engine.signal('o-1', approval, { approved: true });
      expect(await handle.result()).toMatchObject({ percent: 10 });
    });
  }
});

describe('a child run whose input fails its schema', () => {
  const harness = useTestEngines();

  test('is refused at ctx.startChild with invalid_input, which the parent can catch; no child is created', async () => {
    const parent = workflow({ name: 'parent' }).execute(async function* (ctx, count: number) {
      try {
        const child = ctx.startChild<number>('halve', { count }, { id: `child-${count}` });
        return yield* child.result();
      } catch (error) {
        return (error as InvalidInputError).code;
      }
    });
    const t = await harness(parent, halve);
    expect(await t.engine.start(parent, 3).then((h) => h.result())).toBe('invalid_input');
    expect(await t.engine.get('child-3')).toBeUndefined();
    expect(await t.engine.start(parent, 8).then((h) => h.result())).toBe(4);
  });

  test('an input schema that validates asynchronously cannot check a child start: invalid_argument, said plainly', async () => {
    const parent = workflow({ name: 'parent' }).execute(async function* (ctx) {
      yield* ctx.startChild('ship', 'sku-1').result();
    });
    const t = await harness(parent, ship);
    const failure = await t.engine
      .start(parent, undefined)
      .then((h) => h.result())
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).details?.['cause']).toMatchObject({
      code: 'invalid_argument',
      message: expect.stringContaining(
        "input of child workflow 'ship' cannot be checked by ctx.startChild: its schema validates asynchronously",
      ),
    });
    expect(await t.engine.list({ type: 'ship' })).toMatchObject({ total: 0 });
  });
});
