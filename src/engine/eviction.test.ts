import { describe, expect, test } from 'bun:test';
import { signal, workflow } from '../index.ts';
import { createTestEngine, useTestEngines } from '../testing/index.ts';

/** Engines that evict every suspended run at once, so each wake-up is a rebuild from the journal. */
const evicting = useTestEngines({ maxSuspendedInMemory: 0 });

const go = signal<string>('go');

describe('suspended runs evicted from memory', () => {
  test('a signal wakes an evicted run, which continues where it stopped and runs each activity once', async () => {
    const calls: string[] = [];
    const replays: number[] = [];
    const wf = workflow({ name: 'evicted-signal' })
      .activities({ note: (s: string) => (calls.push(s), s) })
      .execute(async function* (ctx) {
        replays.push(1);
        yield* ctx.run('note', 'before');
        const first = yield* ctx.waitForSignal(go);
        yield* ctx.run('note', first);
        const second = yield* ctx.waitForSignal(go);
        return [first, second];
      });
    const t = await evicting(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'es' });
    await t.clock.advance(0);
    await t.engine.signal('es', go, 'a');
    await t.clock.advance(0);
    await t.engine.signal('es', go, 'b');
    expect(await handle.result()).toEqual(['a', 'b']);
    expect(calls).toEqual(['before', 'a']);
    expect(replays.length).toBeGreaterThanOrEqual(3);
  });

  test('a timer wakes an evicted run at its time', async () => {
    const wf = workflow({ name: 'evicted-sleep' }).execute(async function* (ctx) {
      yield* ctx.sleep('1h');
      yield* ctx.sleep('1h');
      return 'rested';
    });
    const t = await evicting(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'et' });
    await t.clock.advance('1h');
    expect((await t.engine.get('et'))?.status).toBe('suspended');
    await t.clock.advance('1h');
    expect(await handle.result()).toBe('rested');
  });

  test('signals sent in a burst to an evicted run are all consumed in order', async () => {
    const wf = workflow({ name: 'evicted-burst' }).execute(async function* (ctx) {
      const got: string[] = [];
      for (let i = 0; i < 5; i++) got.push(yield* ctx.waitForSignal(go));
      return got;
    });
    const t = await evicting(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'eb' });
    await t.clock.advance(0);
    await Promise.all(['1', '2', '3', '4', '5'].map((v) => t.engine.signal('eb', go, v)));
    expect(await handle.result()).toEqual(['1', '2', '3', '4', '5']);
  });

  test('a race of a signal and a timer decides once for an evicted run', async () => {
    const wf = workflow({ name: 'evicted-race' }).execute(async function* (ctx) {
      const first = yield* ctx.race([ctx.waitForSignal(go), ctx.sleep('10m')]);
      const next = yield* ctx.waitForSignal(go);
      return { first: first ?? 'timer', next };
    });
    const t = await evicting(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'er' });
    await t.clock.advance('10m');
    await t.engine.signal('er', go, 'later');
    expect(await handle.result()).toEqual({ first: 'timer', next: 'later' });
  });

  test('cancel and execution timeout reach evicted runs', async () => {
    const wf = workflow({ name: 'evicted-end' }).execute(async function* (ctx) {
      yield* ctx.waitForSignal(go);
    });
    const t = await evicting(wf);
    const cancelled = await t.engine.start(wf, undefined, { id: 'ec' });
    const timedOut = await t.engine.start(wf, undefined, { id: 'eto', executionTimeout: '1h' });
    await t.clock.advance(0);
    await t.engine.cancel('ec');
    await expect(cancelled.result()).rejects.toMatchObject({ code: 'workflow_cancelled' });
    await t.clock.advance('1h');
    await expect(timedOut.result()).rejects.toMatchObject({ code: 'workflow_timed_out' });
    expect((await t.engine.get('eto'))?.status).toBe('timed_out');
    await expect(t.engine.signal('ec', go, 'x')).rejects.toMatchObject({ code: 'workflow_not_running' });
  });

  test('deleting an evicted run ends the result() calls waiting on it, as for a resident run', async () => {
    const wf = workflow({ name: 'evicted-delete' }).execute(async function* (ctx) {
      yield* ctx.sleep('7d');
    });
    const t = await evicting(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'ed' });
    await t.clock.advance(0);
    const outcome = handle.result().then(
      () => 'completed',
      (error: { code?: string }) => error.code,
    );
    await t.engine.delete('ed');
    expect(await outcome).toBe('workflow_cancelled');
    expect(await t.engine.get('ed')).toBeUndefined();
    // Its timer was forgotten with it: nothing wakes at the old fire time.
    await t.clock.advance('7d');
    expect(await t.engine.get('ed')).toBeUndefined();
  });

  test('maxSuspendedInMemory must be a non-negative integer', async () => {
    const wf = workflow({ name: 'x' }).execute(async function* () {});
    await expect(createTestEngine({ workflows: [wf], maxSuspendedInMemory: -1 })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
  });
});

describe('recovery past maxSuspendedInMemory', () => {
  test('a suspended run is not replayed at recovery but wakes on its timer and completes', async () => {
    let replays = 0;
    const wf = workflow({ name: 'lazy-sleeper' }).execute(async function* (ctx) {
      replays++;
      yield* ctx.sleep('1h');
      return 'woke';
    });
    const t = await evicting(wf);
    await t.engine.start(wf, undefined, { id: 'ls' });
    await t.clock.advance('1m');
    await t.restart();
    const afterRecovery = replays;
    await t.clock.advance('1m');
    expect(replays).toBe(afterRecovery);
    await t.clock.advance('1h');
    expect(await t.engine.handle('ls').result()).toBe('woke');
    expect(replays).toBe(afterRecovery + 1);
  });

  test('a suspended run whose inbox holds a signal is resumed at recovery (its wake-up may have been lost)', async () => {
    const wf = workflow({ name: 'lost-wakeup' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(go);
    });
    const t = await evicting(wf);
    await t.engine.start(wf, undefined, { id: 'lw' });
    await t.clock.advance(0);
    await t.engine.close();
    // The previous process committed the signal and died before waking the run.
    const payload = new Uint8Array([0xa4, 0x6c, 0x61, 0x74, 0x65]); // msgpack 'late'
    await t.storage.commit([
      { op: 'enqueueSignal', message: { runId: 'lw', name: 'go', payload, createdAt: t.clock.now() } },
    ]);
    await t.restart();
    expect(await t.engine.handle('lw').result()).toBe('late');
  });

  test('a code change that breaks the journal of a run left in storage fails it when it wakes', async () => {
    const v1 = workflow({ name: 'lazy-evolving' }).execute(async function* (ctx) {
      yield* ctx.sleep('1m');
      return yield* ctx.waitForSignal(go);
    });
    const v2 = workflow({ name: 'lazy-evolving' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(go);
    });
    const t = await evicting(v1);
    await t.engine.start(v1, undefined, { id: 'le' });
    await t.clock.advance('2m');
    await t.restart([v2]);
    expect((await t.engine.get('le'))?.status).toBe('suspended');
    await t.engine.signal('le', go, 'x');
    await expect(t.engine.handle('le').result()).rejects.toMatchObject({ failureCategory: 'nondeterminism' });
  });
});
