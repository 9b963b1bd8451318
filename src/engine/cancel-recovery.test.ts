import { describe, expect, test } from 'bun:test';
import { Engine, signal, workflow, WorkflowCancelledError } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { ManualClock, useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();

const go = signal<string>('go');

describe('cancellation', () => {
  test("a cancelled run's running activity observes the abort, and result() rejects with a cancellation error", async () => {
    const started = Promise.withResolvers<void>();
    const abortedWith: unknown[] = [];
    const wf = workflow({ name: 'cancellable' })
      .activities({
        long: (_: null, actx) =>
          new Promise<never>(() => {
            actx.signal.addEventListener('abort', () => abortedWith.push((actx.signal.reason as Error).name));
            started.resolve();
          }),
      })
      .execute(async function* (ctx) {
        yield* ctx.run('long', null);
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'c-1' });
    await started.promise;
    await t.engine.cancel('c-1');
    expect(abortedWith).toEqual(['WorkflowCancelledError']);
    const result = handle.result();
    await expect(result).rejects.toBeInstanceOf(WorkflowCancelledError);
    await expect(result).rejects.toMatchObject({ code: 'workflow_cancelled' });
    expect((await t.engine.get('c-1'))?.status).toBe('cancelled');
  });

  test('cancelling drops the run timers and waits; nothing runs afterwards', async () => {
    const after: string[] = [];
    const wf = workflow({ name: 'sleepy' })
      .activities({ later: async () => void after.push('ran') })
      .execute(async function* (ctx) {
        yield* ctx.all([ctx.sleep('1h'), ctx.waitForSignal(go)]);
        yield* ctx.run('later', undefined);
      });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 'c-2', executionTimeout: '1d' });
    await t.clock.advance('1m');
    expect((await t.storage.listRunTimers('c-2')).length).toBe(2);
    await t.engine.cancel('c-2');
    expect(await t.storage.listRunTimers('c-2')).toEqual([]);
    await t.clock.advance('2d');
    expect(after).toEqual([]);
    expect((await t.engine.get('c-2'))?.status).toBe('cancelled');
    await expect(t.engine.signal('c-2', go, 'x')).rejects.toMatchObject({ code: 'workflow_not_running' });
  });

  test('cancel of an unknown run is workflow_not_found; of a finished run workflow_not_running', async () => {
    const wf = workflow({ name: 'quick' }).execute(async function* () {
      return 1;
    });
    const t = await harness(wf);
    await expect(t.engine.cancel('nope')).rejects.toMatchObject({ code: 'workflow_not_found' });
    await (await t.engine.start(wf, undefined, { id: 'q' })).result();
    await expect(t.engine.cancel('q')).rejects.toMatchObject({ code: 'workflow_not_running' });
  });

  test('ctx.signal aborts when the run is cancelled', async () => {
    let runSignal: AbortSignal | undefined;
    const wf = workflow({ name: 'watching' }).execute(async function* (ctx) {
      runSignal = ctx.signal;
      yield* ctx.waitForSignal(go);
    });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 'w' });
    await t.clock.advance(0);
    expect(runSignal?.aborted).toBe(false);
    await t.engine.cancel('w');
    expect(runSignal?.aborted).toBe(true);
  });

  test('engine.delete removes the run and everything stored about it', async () => {
    const wf = workflow({ name: 'deletable' }).execute(async function* (ctx) {
      yield* ctx.sleep('1h');
    });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 'd' });
    await t.clock.advance(0);
    await t.engine.delete('d');
    expect(await t.engine.get('d')).toBeUndefined();
    expect(await t.storage.listRunTimers('d')).toEqual([]);
    await expect(t.engine.delete('d')).rejects.toMatchObject({ code: 'workflow_not_found' });
  });
});

describe('recovery from the journal', () => {
  test('closing engine A mid-run and opening engine B on the same storage finishes it with each activity run once', async () => {
    const runs: Record<string, number> = {};
    const count = (name: string) => async (x: number) => ((runs[name] = (runs[name] ?? 0) + 1), x + 1);
    const pipeline = workflow({ name: 'pipeline' })
      .activities({ one: count('one'), two: count('two'), three: count('three') })
      .execute(async function* (ctx, n: number) {
        const a = yield* ctx.run('one', n);
        const b = yield* ctx.run('two', a);
        const approvedBy = yield* ctx.waitForSignal(go);
        yield* ctx.sleep('1h');
        const c = yield* ctx.run('three', b);
        return { c, approvedBy };
      });
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const engineA = await Engine.create({ storage, clock, workflows: [pipeline] });
    await engineA.start(pipeline, 0, { id: 'p-1' });
    await clock.advance(0);
    expect(runs).toEqual({ one: 1, two: 1 });
    await engineA.close();
    await expect(engineA.signal('p-1', go, 'x')).rejects.toMatchObject({ code: 'engine_closed' });

    const engineB = await Engine.create({ storage, clock, workflows: [pipeline] });
    await engineB.signal('p-1', go, 'ops');
    await clock.advance('1h');
    expect(await engineB.handle('p-1').result()).toEqual({ c: 3, approvedBy: 'ops' });
    expect(runs).toEqual({ one: 1, two: 1, three: 1 });
    await engineB.close();
    await storage.close();
  });

  test('close() lets an in-flight activity finish and journals it, so the next engine does not run it again', async () => {
    let runs = 0;
    const release = Promise.withResolvers<void>();
    const wf = workflow({ name: 'draining' })
      .activities({
        work: async () => {
          runs++;
          await release.promise;
          return 'done';
        },
      })
      .execute(async function* (ctx) {
        const r = yield* ctx.run('work', undefined);
        yield* ctx.sleep('1m');
        return r;
      });
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const a = await Engine.create({ storage, clock, workflows: [wf], shutdownGracePeriod: '30s' });
    await a.start(wf, undefined, { id: 'dr' });
    await clock.advance(0);
    const closing = a.close();
    release.resolve();
    await closing;
    const b = await Engine.create({ storage, clock, workflows: [wf] });
    await clock.advance('1m');
    expect(await b.handle('dr').result()).toBe('done');
    expect(runs).toBe(1);
    await b.close();
    await storage.close();
  });

  test('ctx.now, ctx.random and ctx.uuid return the recorded values after a restart', async () => {
    const seen: unknown[][] = [];
    const wf = workflow({ name: 'recorded' }).execute(async function* (ctx) {
      const values = [ctx.now(), ctx.random(), ctx.uuid()];
      seen.push(values);
      yield* ctx.sleep('1h');
      return values;
    });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 'rv' });
    await t.clock.advance('10m');
    await t.restart();
    await t.clock.advance('1h');
    const result = await t.engine.handle('rv').result();
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(result).toEqual(seen[0]!);
  });

  test('a code change that issues a different step fails the run with category nondeterminism naming the step', async () => {
    const v1 = workflow({ name: 'evolving' })
      .activities({ a: () => 'a', b: () => 'b' })
      .execute(async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.waitForSignal(go);
        return 'v1';
      });
    const v2 = workflow({ name: 'evolving' })
      .activities({ a: () => 'a', b: () => 'b' })
      .execute(async function* (ctx) {
        yield* ctx.run('b', undefined);
        yield* ctx.waitForSignal(go);
        return 'v2';
      });
    const t = await harness(v1);
    await t.engine.start(v1, undefined, { id: 'nd' });
    await t.clock.advance(0);
    await t.restart([v2]);
    const result = t.engine.handle('nd').result();
    await expect(result).rejects.toMatchObject({ failureCategory: 'nondeterminism' });
    const state = await t.engine.get('nd');
    expect(state).toMatchObject({ status: 'failed', failureCategory: 'nondeterminism' });
    expect(state?.error?.message).toContain("at step 1: journal has run('a'), code asked for run('b')");
  });

  test('workflow code cannot swallow a nondeterminism failure', async () => {
    const v1 = workflow({ name: 'swallow' }).execute(async function* (ctx) {
      yield* ctx.sleep('1m');
      yield* ctx.waitForSignal(go);
    });
    const v2 = workflow({ name: 'swallow' }).execute(async function* (ctx) {
      try {
        yield* ctx.waitForSignal(go);
      } catch {
        return 'swallowed';
      }
    });
    const t = await harness(v1);
    await t.engine.start(v1, undefined, { id: 'sw' });
    await t.clock.advance('2m');
    await t.restart([v2]);
    await expect(t.engine.handle('sw').result()).rejects.toMatchObject({ failureCategory: 'nondeterminism' });
  });

  test('values keep their types across a restart (Date, Map, Set, BigInt, typed arrays)', async () => {
    const value = {
      when: new Date('2026-05-01T00:00:00Z'),
      map: new Map<string, number>([['a', 1]]),
      set: new Set(['x', 'y']),
      big: 2n ** 80n,
      bytes: new Uint8Array([1, 2, 3]),
      floats: new Float64Array([0.5]),
    };
    const wf = workflow({ name: 'typed' })
      .activities({ same: (v: typeof value) => v })
      .execute(async function* (ctx, input: typeof value) {
        const fromActivity = yield* ctx.run('same', input);
        const fromSignal = yield* ctx.waitForSignal<typeof value>('typed');
        return { input, fromActivity, fromSignal };
      });
    const t = await harness(wf);
    await t.engine.start(wf, value, { id: 'ty' });
    await t.clock.advance(0);
    await t.restart();
    await t.engine.signal('ty', 'typed', value);
    const result = (await t.engine.handle('ty').result()) as Record<string, typeof value>;
    for (const v of Object.values(result)) {
      expect(v.when).toBeInstanceOf(Date);
      expect(v.when.getTime()).toBe(value.when.getTime());
      expect(v.map).toBeInstanceOf(Map);
      expect(v.map.get('a')).toBe(1);
      expect(v.set).toBeInstanceOf(Set);
      expect([...v.set]).toEqual(['x', 'y']);
      expect(v.big).toBe(2n ** 80n);
      expect(v.bytes).toBeInstanceOf(Uint8Array);
      expect([...v.bytes]).toEqual([1, 2, 3]);
      expect(v.floats).toBeInstanceOf(Float64Array);
    }
  });
});
