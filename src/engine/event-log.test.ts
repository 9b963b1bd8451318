import { describe, expect, test } from 'bun:test';
import type { EngineEvent, EngineEventRecord } from '../index.ts';
import { signal, workflow } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { SQLiteStorage } from '../storage/sqlite/index.ts';
import { useTestEngines } from '../testing/index.ts';

const go = signal<string>('go');

const twoStep = workflow({ name: 'two-step' })
  .activities({ work: async (n: number) => n * 2 })
  .execute(async function* (ctx, n: number) {
    const doubled = yield* ctx.run('work', n);
    yield* ctx.waitForSignal(go);
    return doubled;
  });

/** Takes `count` items from an async iterable, then stops it. */
async function take<T>(iterable: AsyncIterable<T>, count: number): Promise<T[]> {
  const items: T[] = [];
  if (count === 0) return items;
  for await (const item of iterable) {
    items.push(item);
    if (items.length === count) break;
  }
  return items;
}

for (const [name, create] of [
  ['MemoryStorage', () => new MemoryStorage()],
  ['SQLiteStorage', () => new SQLiteStorage(':memory:')],
] as const) {
  describe(`the durable event log on ${name}`, () => {
    const harness = useTestEngines({ storage: create });

    test('every engine event is stored with a fleet sequence number that only grows', async () => {
      const t = await harness(twoStep);
      const handle = await t.engine.start(twoStep, 2, { id: 'e-1' });
      await t.clock.advance(0);
      await t.engine.signal('e-1', go, 'x');
      await handle.result();
      const events = await t.engine.readEvents();
      expect(events.map((e) => e.type)).toEqual([
        'workflow:started',
        'activity:started',
        'activity:completed',
        'workflow:suspended',
        'signal:received',
        'workflow:resumed',
        'workflow:completed',
      ]);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(events.every((e) => e.workflowId === 'e-1' && typeof e.timestamp === 'number')).toBe(true);
      expect(events[0]!.data).toEqual({ workflowType: 'two-step' });
      expect(events[2]!.data).toMatchObject({ activity: 'work', attempts: 1 });
      expect(await t.engine.readEvents({ after: 5 })).toEqual(events.slice(5));
      expect(await t.engine.readEvents({ after: 1, limit: 2 })).toEqual(events.slice(1, 3));
    });

    test('listeners get the same sequence numbers as the stored log, after the commit', async () => {
      const t = await harness(twoStep);
      const heard: number[] = [];
      t.engine.addEventListener('workflow:started', (e) => heard.push((e as EngineEvent).sequence));
      await t.engine.start(twoStep, 1, { id: 'e-2' });
      await t.engine.start(twoStep, 1, { id: 'e-3' });
      const stored = (await t.engine.readEvents()).filter((e) => e.type === 'workflow:started').map((e) => e.seq);
      expect(heard).toEqual(stored);
    });

    test('sequence numbers continue after a restart instead of starting over', async () => {
      const t = await harness(twoStep);
      await t.engine.start(twoStep, 1, { id: 'e-4' });
      await t.clock.advance(0);
      const before = await t.engine.readEvents();
      const engine = await t.restart();
      await engine.signal('e-4', go, 'x');
      await engine.handle('e-4').result();
      const after = await engine.readEvents({ after: before.at(-1)!.seq });
      expect(after.length).toBeGreaterThan(0);
      expect(after[0]!.seq).toBe(before.at(-1)!.seq + 1);
    });

    test('an engine used before recoverAll() stamps its first commits after the stored tail, in call order', async () => {
      const t = await harness(twoStep);
      await t.engine.start(twoStep, 1, { id: 'e-8' });
      await t.engine.close();
      const before = (await t.storage.readEvents(-1, 1000)).at(-1)!.seq;
      const { Engine } = await import('./engine.ts');
      const engine = new Engine({ storage: t.storage, clock: t.clock });
      engine.register(twoStep);
      await Promise.all([1, 2, 3].map((n) => engine.start(twoStep, n, { id: `late-${n}` })));
      const events = await t.storage.readEvents(before, 1000);
      const started = events.filter((e) => e.type === 'workflow:started');
      expect(started.map((e) => e.runId)).toEqual(['late-1', 'late-2', 'late-3']);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => before + 1 + i));
      await engine.close();
    });

    test('a subscription replays from its cursor, then continues live with no gap and no duplicate', async () => {
      const t = await harness(twoStep);
      await t.engine.start(twoStep, 1, { id: 'e-5' });
      await t.clock.advance(0);
      const stored = await t.engine.readEvents();
      const controller = new AbortController();
      const seen: EngineEventRecord[] = [];
      const reading = (async () => {
        for await (const event of t.engine.subscribeEvents({ after: 1, signal: controller.signal })) {
          seen.push(event);
          if (event.type === 'workflow:completed') controller.abort();
        }
      })();
      await t.engine.signal('e-5', go, 'x');
      await t.engine.handle('e-5').result();
      await reading;
      const all = await t.engine.readEvents();
      expect(seen.map((e) => e.seq)).toEqual(all.slice(1).map((e) => e.seq));
      expect(seen.slice(0, stored.length - 1)).toEqual(stored.slice(1));
    });

    test('a subscriber that reconnects with its last cursor sees exactly what it missed', async () => {
      const t = await harness(twoStep);
      await t.engine.start(twoStep, 1, { id: 'e-6' });
      const first = await take(t.engine.subscribeEvents(), 2);
      await t.engine.start(twoStep, 1, { id: 'e-7' });
      await t.clock.advance(0);
      const all = await t.engine.readEvents();
      const rest = await take(t.engine.subscribeEvents({ after: first.at(-1)!.seq }), all.length - 2);
      expect([...first, ...rest].map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    });
  });
}

describe('event retention', () => {
  const harness = useTestEngines({ eventRetention: 1000 });

  test('keeps at least the configured number of newest events and prunes older ones', async () => {
    const quick = workflow({ name: 'quick' }).execute(async function* () {
      return 1;
    });
    const t = await harness(quick);
    for (let i = 0; i < 800; i++) await t.engine.start(quick, undefined, { id: `q-${i}` });
    await t.clock.advance(0);
    const events = await t.engine.readEvents({ limit: 1000 });
    const last = (await t.engine.readEvents({ after: 1500 })).at(-1)!.seq;
    expect(last).toBe(1600); // started + completed per run
    expect(events[0]!.seq).toBeGreaterThan(1);
    expect(events[0]!.seq).toBeLessThanOrEqual(last - 1000 + 1);
    const retained = last - events[0]!.seq + 1;
    expect(retained).toBeGreaterThanOrEqual(1000);
  });

  test('a retention under 1,000 events is refused', async () => {
    const { Engine } = await import('./engine.ts');
    expect(() => new Engine({ storage: new MemoryStorage(), eventRetention: 999 })).toThrow(/eventRetention/);
  });
});
