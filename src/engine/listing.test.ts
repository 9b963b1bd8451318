import { describe, expect, test } from 'bun:test';
import { signal, workflow } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { SQLiteStorage } from '../storage/sqlite/index.ts';
import { useTestEngines } from '../testing/index.ts';

const go = signal<string>('go');

const order = workflow({ name: 'order' }).execute(async function* (ctx, input: { customer: string; fail?: boolean }) {
  ctx.setAttribute('customer', input.customer);
  ctx.setAttribute('priority', input.customer === 'c-1' ? 1 : 2);
  yield* ctx.waitForSignal(go);
  if (input.fail === true) throw new Error('declined');
  return 'ok';
});
const refund = workflow({ name: 'refund' }).execute(async function* () {
  return 'refunded';
});

for (const [name, create] of [
  ['MemoryStorage', () => new MemoryStorage()],
  ['SQLiteStorage', () => new SQLiteStorage(':memory:')],
] as const) {
  describe(`listing, aggregates and search attributes on ${name}`, () => {
    const harness = useTestEngines({ storage: create });

    /** o-1 (c-1, completed), o-2 (c-2, failed), o-3 (c-1, suspended), r-1 (refund, completed), one minute apart. */
    async function seed() {
      const t = await harness(order, refund);
      await t.engine.start(order, { customer: 'c-1' }, { id: 'o-1' });
      await t.clock.advance('1m');
      await t.engine.start(order, { customer: 'c-2', fail: true }, { id: 'o-2', executionTimeout: '1h' });
      await t.clock.advance('1m');
      await t.engine.start(order, { customer: 'c-1' }, { id: 'o-3' });
      await t.clock.advance('1m');
      await (await t.engine.start(refund, undefined, { id: 'r-1' })).result();
      await t.engine.signal('o-1', go, 'x');
      await t.engine.signal('o-2', go, 'x');
      await t.clock.advance(0);
      return t;
    }

    test('lists newest first with total, offset and limit', async () => {
      const t = await seed();
      const all = await t.engine.list();
      expect(all.items.map((r) => r.id)).toEqual(['r-1', 'o-3', 'o-2', 'o-1']);
      expect(all).toMatchObject({ total: 4, offset: 0, limit: 50 });
      expect(all.items[0]).not.toHaveProperty('failureCategory');
      const page = await t.engine.list({ limit: 2, offset: 1 });
      expect(page.items.map((r) => r.id)).toEqual(['o-3', 'o-2']);
      expect(page.total).toBe(4);
    });

    test('a cursor continues after the last item; nextCursor is null on the last page and on an empty one', async () => {
      const t = await seed();
      const first = await t.engine.list({ limit: 3 });
      expect(first.items.map((r) => r.id)).toEqual(['r-1', 'o-3', 'o-2']);
      expect(typeof first.nextCursor).toBe('string');
      await t.engine.start(refund, undefined, { id: 'r-2' });
      const second = await t.engine.list({ limit: 3, cursor: first.nextCursor! });
      expect(second).toMatchObject({ total: 5, totalIsExact: true, offset: 0, limit: 3, nextCursor: null });
      expect(second.items.map((r) => r.id)).toEqual(['o-1']);
      expect((await t.engine.list({ limit: 4 })).nextCursor).not.toBeNull();
      expect((await t.engine.list({ limit: 5 })).nextCursor).toBeNull();
      expect(await t.engine.list({ type: 'nope' })).toMatchObject({ items: [], total: 0, nextCursor: null });
      const failed = await t.engine.list({ status: ['failed', 'suspended'], limit: 1 });
      // Array order and duplicates do not make another filter; include and limit may change.
      const next = await t.engine.list({
        status: ['suspended', 'failed', 'failed'],
        limit: 5,
        include: ['failureCategory'],
        cursor: failed.nextCursor!,
      });
      expect(next.items.map((r) => [r.id, r.failureCategory])).toEqual([['o-2', 'workflow']]);
    });

    test('a cursor of another filter, a garbled one, or one with an offset is refused with invalid_cursor', async () => {
      const t = await seed();
      const { nextCursor } = await t.engine.list({ status: 'completed', limit: 1 });
      const cursor = nextCursor!;
      const refusal = { code: 'invalid_cursor', details: { field: 'cursor' } };
      for (const options of [
        { status: 'failed', cursor },
        { cursor },
        { status: 'completed', attributes: { customer: 'c-1' }, cursor },
        { status: 'completed', cursor: `${cursor}x` },
        { status: 'completed', cursor: cursor.slice(0, -2) },
        { status: 'completed', cursor: `A${cursor.slice(1)}` },
        { status: 'completed', cursor: 'not a cursor' },
        { status: 'completed', cursor: btoa('[1,0,"x",0,0]').replace(/=+$/, '') },
        { status: 'completed', cursor: 'x'.repeat(3000) },
        { status: 'completed', cursor: 42 },
        { status: 'completed', cursor, offset: 1 },
      ] as Parameters<typeof t.engine.list>[0][]) {
        await expect(t.engine.list(options)).rejects.toMatchObject(refusal);
      }
      expect((await t.engine.list({ status: 'completed', cursor, offset: 0 })).items.map((r) => r.id)).toEqual(['o-1']);
    });

    test('filters by status (several = OR), type, id prefix, failure category, ranges and attributes', async () => {
      const t = await seed();
      const ids = async (filter: Parameters<typeof t.engine.list>[0]) =>
        (await t.engine.list(filter)).items.map((r) => r.id);
      expect(await ids({ status: 'completed' })).toEqual(['r-1', 'o-1']);
      expect(await ids({ status: ['failed', 'suspended'] })).toEqual(['o-3', 'o-2']);
      expect(await ids({ type: 'refund' })).toEqual(['r-1']);
      expect(await ids({ idPrefix: 'o-' })).toEqual(['o-3', 'o-2', 'o-1']);
      expect(await ids({ failureCategory: ['workflow', 'activity'] })).toEqual(['o-2']);
      const start = (await t.engine.get('o-2'))!.createdAt;
      expect(await ids({ createdAfter: start })).toEqual(['r-1', 'o-3']);
      expect(await ids({ createdBefore: start })).toEqual(['o-1']);
      expect(await ids({ deadlineAfter: start })).toEqual(['o-2']);
      expect(await ids({ attributes: { customer: 'c-1' } })).toEqual(['o-3', 'o-1']);
      expect(await ids({ attributes: { customer: 'c-1', priority: 1 } })).toEqual(['o-3', 'o-1']);
      expect(await ids({ attributes: { priority: '1' } })).toEqual([]); // '1' is not 1
      expect(await ids({ status: 'suspended', attributes: { customer: 'c-1' } })).toEqual(['o-3']);
      const failed = await t.engine.list({ status: 'failed', include: ['failureCategory'] });
      expect(failed.items[0]?.failureCategory).toBe('workflow');
    });

    test('aggregates by status, type, failure category and attribute', async () => {
      const t = await seed();
      expect(await t.engine.aggregate('status')).toEqual({
        total: 4,
        groups: [
          { key: 'completed', count: 2 },
          { key: 'failed', count: 1 },
          { key: 'suspended', count: 1 },
        ],
        truncated: false,
      });
      expect(await t.engine.aggregate('type')).toMatchObject({
        groups: [
          { key: 'order', count: 3 },
          { key: 'refund', count: 1 },
        ],
      });
      expect(await t.engine.aggregate('failureCategory')).toMatchObject({
        total: 4,
        groups: [{ key: 'workflow', count: 1 }],
      });
      expect(await t.engine.aggregate('attribute:customer', { type: 'order' })).toMatchObject({
        total: 3,
        groups: [
          { key: 'c-1', count: 2 },
          { key: 'c-2', count: 1 },
        ],
      });
    });

    test('attributes are read and set from outside; null removes one', async () => {
      const t = await seed();
      expect(await t.engine.getAttributes('o-1')).toEqual({ customer: 'c-1', priority: 1 });
      await t.engine.setAttributes('o-1', { priority: null, vip: true });
      expect(await t.engine.getAttributes('o-1')).toEqual({ customer: 'c-1', vip: true });
      expect((await t.engine.list({ attributes: { vip: true } })).items.map((r) => r.id)).toEqual(['o-1']);
      await expect(t.engine.getAttributes('nope')).rejects.toMatchObject({ code: 'workflow_not_found' });
      await expect(t.engine.setAttributes('nope', { a: 1 })).rejects.toMatchObject({ code: 'workflow_not_found' });
    });

    test('an attribute set by the workflow is not written again by a replay', async () => {
      const t = await seed();
      await t.engine.setAttributes('o-3', { customer: 'moved' });
      const engine = await t.restart();
      await engine.signal('o-3', go, 'x');
      await engine.handle('o-3').result();
      expect(await engine.getAttributes('o-3')).toMatchObject({ customer: 'moved' });
    });

    test('bad filters and attributes are refused with invalid_argument', async () => {
      const t = await seed();
      const bad: unknown[] = [
        { status: 'sleeping' },
        { failureCategory: 'oops' },
        { createdAfter: 'yesterday' },
        { limit: 0 },
        { limit: 1001 },
        { offset: -1 },
        { include: ['input'] },
        { attributes: { 'bad name': 1 } },
        { attributes: { a: { nested: 1 } } },
      ];
      for (const filter of bad) {
        await expect(t.engine.list(filter as never)).rejects.toMatchObject({ code: 'invalid_argument' });
      }
      await expect(t.engine.aggregate('input' as never)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(t.engine.setAttributes('o-1', { a: Number.NaN })).rejects.toMatchObject({
        code: 'invalid_argument',
      });
      await expect(t.engine.setAttributes('o-1', { a: 'x'.repeat(1025) })).rejects.toMatchObject({
        code: 'invalid_argument',
      });
    });
  });
}
