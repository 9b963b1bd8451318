import { describe, expect, test } from 'bun:test';
import { signal, workflow, type WeftError } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { SQLiteStorage } from '../storage/sqlite/index.ts';
import { useTestEngines } from '../testing/index.ts';

const go = signal<string>('go');
const childRuns: string[] = [];

const child = workflow({ name: 'child' }).execute(async function* (ctx, input: { n: number; fail?: boolean }) {
  childRuns.push(ctx.workflowId);
  yield* ctx.waitForSignal(go);
  if (input.fail === true) throw new Error(`child ${input.n} failed`);
  return input.n * 10;
});

const parent = workflow({ name: 'parent' }).execute(async function* (ctx, input: { fail?: boolean }) {
  const a = ctx.startChild<number>('child', { n: 1 }, { id: `${ctx.workflowId}-a` });
  const b = ctx.startChild<number>('child', { n: 2, fail: input.fail ?? false });
  const first = yield* a.result();
  try {
    return { first, second: yield* b.result(), ids: [a.id, b.id] };
  } catch (error) {
    return { first, caught: (error as WeftError).code, ids: [a.id, b.id] };
  }
});

for (const [name, create] of [
  ['MemoryStorage', () => new MemoryStorage()],
  ['SQLiteStorage', () => new SQLiteStorage(':memory:')],
] as const) {
  describe(`child workflows on ${name}`, () => {
    const harness = useTestEngines({ storage: create });

    test('a parent starts children, waits for their results and they are listed under it', async () => {
      const t = await harness(parent, child);
      const handle = await t.engine.start(parent, {}, { id: 'p-1' });
      await t.clock.advance(0);
      const children = await t.engine.list({ parentId: 'p-1' });
      expect(children.items.map((c) => c.id).sort()).toEqual(['p-1-1', 'p-1-a']);
      expect(children.items.every((c) => c.parentId === 'p-1')).toBe(true);
      await t.engine.signal('p-1-a', go, 'x');
      await t.engine.signal('p-1-1', go, 'x');
      expect(await handle.result()).toEqual({ first: 10, second: 20, ids: ['p-1-a', 'p-1-1'] });
    });

    test("a child's failure reaches the parent as a catchable child_workflow_failed error", async () => {
      const t = await harness(parent, child);
      const handle = await t.engine.start(parent, { fail: true }, { id: 'p-2' });
      await t.clock.advance(0);
      await t.engine.signal('p-2-1', go, 'x');
      await t.engine.signal('p-2-a', go, 'x');
      expect(await handle.result()).toEqual({ first: 10, caught: 'child_workflow_failed', ids: ['p-2-a', 'p-2-1'] });
    });

    test('cancelling a parent cancels its running children', async () => {
      const t = await harness(parent, child);
      await t.engine.start(parent, {}, { id: 'p-3' });
      await t.clock.advance(0);
      await t.engine.signal('p-3-a', go, 'x');
      await t.clock.advance(0);
      await t.engine.cancel('p-3');
      expect((await t.engine.get('p-3-a'))?.status).toBe('completed');
      expect((await t.engine.get('p-3-1'))?.status).toBe('cancelled');
    });

    test('children are started once across a restart, and a child finishing after it wakes the parent', async () => {
      const t = await harness(parent, child);
      await t.engine.start(parent, {}, { id: 'p-4' });
      await t.clock.advance(0);
      childRuns.length = 0;
      const engine = await t.restart();
      await engine.signal('p-4-a', go, 'x');
      await engine.signal('p-4-1', go, 'x');
      expect(await engine.handle('p-4').result()).toMatchObject({ first: 10, second: 20 });
      // Each child replayed once on recovery; none was created again.
      expect(childRuns.sort()).toEqual(['p-4-1', 'p-4-a']);
      expect((await engine.list({ parentId: 'p-4' })).total).toBe(2);
    });

    test('a child whose id is taken fails at child.result() and the parent goes on', async () => {
      const t = await harness(parent, child);
      await t.engine.start(child, { n: 9 }, { id: 'p-5-a' });
      const handle = await t.engine.start(parent, {}, { id: 'p-5' });
      await t.clock.advance(0);
      await expect(handle.result()).rejects.toMatchObject({
        code: 'workflow_failed',
        details: { cause: { code: 'child_workflow_failed' } },
      });
    });

    test('starting a child of an unregistered type throws at the call', async () => {
      const orphan = workflow({ name: 'orphan' }).execute(async function* (ctx) {
        try {
          ctx.startChild('missing');
        } catch (error) {
          return (error as WeftError).code;
        }
        return 'started';
      });
      const t = await harness(orphan);
      expect(await (await t.engine.start(orphan, undefined)).result()).toBe('workflow_type_not_registered');
    });
  });
}

describe('child workflows of evicted parents', () => {
  const harness = useTestEngines({ maxSuspendedInMemory: 0 });

  test('a child that finishes wakes its evicted parent', async () => {
    const t = await harness(parent, child);
    const handle = await t.engine.start(parent, {}, { id: 'p-6' });
    await t.clock.advance(0);
    await t.engine.signal('p-6-a', go, 'x');
    await t.engine.signal('p-6-1', go, 'x');
    expect(await handle.result()).toMatchObject({ first: 10, second: 20 });
  });
});
