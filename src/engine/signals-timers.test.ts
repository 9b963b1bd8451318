import { describe, expect, test } from 'bun:test';
import { signal, workflow } from '../index.ts';
import { useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();

const item = signal<string>('item');

const collector = workflow({ name: 'collector' }).execute(async function* (ctx, count: number) {
  const items: string[] = [];
  for (let i = 0; i < count; i++) items.push(yield* ctx.waitForSignal(item));
  return items;
});

describe('signals', () => {
  test('a signal sent before the wait is kept in the inbox and consumed later', async () => {
    const wf = workflow({ name: 'late-waiter' }).execute(async function* (ctx) {
      yield* ctx.sleep('1h');
      return yield* ctx.waitForSignal(item);
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'lw' });
    await t.engine.signal('lw', item, 'early bird');
    await t.clock.advance('1h');
    expect(await handle.result()).toBe('early bird');
  });

  test('several signals are consumed in the order they were sent', async () => {
    const t = await harness(collector);
    const handle = await t.engine.start(collector, 4, { id: 'c' });
    await t.engine.signal('c', item, 'a');
    await t.engine.signal('c', 'item', 'b');
    await Promise.all([t.engine.signal('c', item, 'c')]);
    await t.engine.signal('c', item, 'd');
    expect(await handle.result()).toEqual(['a', 'b', 'c', 'd']);
  });

  test('signals of other names stay in the inbox for their own waits', async () => {
    const other = signal<number>('other');
    const wf = workflow({ name: 'two-names' }).execute(async function* (ctx) {
      const first = yield* ctx.waitForSignal(item);
      const second = yield* ctx.waitForSignal(other);
      return { first, second };
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'tn' });
    await t.engine.signal('tn', other, 7);
    await t.engine.signal('tn', item, 'x');
    expect(await handle.result()).toEqual({ first: 'x', second: 7 });
  });

  test('a wait with a timeout returns undefined when no signal arrives in time', async () => {
    const wf = workflow({ name: 'impatient' }).execute(async function* (ctx) {
      const got = yield* ctx.waitForSignal(item, { timeout: '7d' });
      return got ?? 'timed out';
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined);
    await t.clock.advance('6d');
    expect(t.clock.pendingTimers).toBeGreaterThan(0);
    await t.clock.advance('1d');
    expect(await handle.result()).toBe('timed out');
  });

  test('a wait with a timeout returns the signal when it arrives first, and its timer is dropped', async () => {
    const wf = workflow({ name: 'patient' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(item, { timeout: '1h' });
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'p' });
    await t.clock.advance('1m');
    await t.engine.signal('p', item, 'in time');
    expect(await handle.result()).toBe('in time');
    expect(await t.storage.listRunTimers('p')).toEqual([]);
  });

  test('a signal to an unknown run fails with workflow_not_found; to a finished run with workflow_not_running', async () => {
    const t = await harness(collector);
    await expect(t.engine.signal('ghost', item, 'x')).rejects.toMatchObject({ code: 'workflow_not_found' });
    await (await t.engine.start(collector, 0, { id: 'fin' })).result();
    await expect(t.engine.signal('fin', item, 'x')).rejects.toMatchObject({ code: 'workflow_not_running' });
  });

  test('signals acknowledged before a restart are delivered after it', async () => {
    const t = await harness(collector);
    await t.engine.start(collector, 3, { id: 'r' });
    await t.engine.signal('r', item, 'one');
    await t.engine.signal('r', item, 'two');
    await t.restart();
    await t.engine.signal('r', item, 'three');
    expect(await t.engine.handle('r').result()).toEqual(['one', 'two', 'three']);
  });
});

describe('durable timers', () => {
  test('a sleep fires at its original time after a restart', async () => {
    const wf = workflow({ name: 'sleeper' }).execute(async function* (ctx) {
      const before = ctx.now();
      yield* ctx.sleep('2h');
      return ctx.now() - before;
    });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 's' });
    await t.clock.advance('1h');
    await t.restart();
    await t.clock.advance('59m');
    expect((await t.engine.get('s'))?.status).toBe('suspended');
    await t.clock.advance('1m');
    expect(await t.engine.handle('s').result()).toBe(2 * 3_600_000);
  });

  test('a timer that came due while no engine ran fires at recovery', async () => {
    const wf = workflow({ name: 'overdue' }).execute(async function* (ctx) {
      yield* ctx.sleep('30s');
      return 'woke';
    });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 'o' });
    await t.clock.advance('1s');
    expect(await t.storage.listRunTimers('o')).toHaveLength(1);
    await t.engine.close();
    await t.clock.advance('1h');
    await t.restart();
    await t.clock.advance(0);
    expect(await t.engine.handle('o').result()).toBe('woke');
  });

  test('sleep accepts milliseconds and duration strings; an invalid duration fails at the call', async () => {
    const wf = workflow({ name: 'durations' }).execute(async function* (ctx, d: unknown) {
      try {
        yield* ctx.sleep(d as number);
        return 'slept';
      } catch (error) {
        return (error as { code: string }).code;
      }
    });
    const t = await harness(wf);
    const ok = await t.engine.start(wf, 250);
    const str = await t.engine.start(wf, '250ms');
    const bad = await t.engine.start(wf, '5 parsecs');
    await t.clock.advance('1s');
    expect(await ok.result()).toBe('slept');
    expect(await str.result()).toBe('slept');
    expect(await bad.result()).toBe('invalid_duration');
  });

  test('executionTimeout ends a waiting run as timed_out', async () => {
    const t = await harness(collector);
    const handle = await t.engine.start(collector, 1, { id: 'to', executionTimeout: '1h' });
    await t.clock.advance('1h');
    await expect(handle.result()).rejects.toMatchObject({ code: 'workflow_timed_out' });
    expect(await t.engine.get('to')).toMatchObject({ status: 'timed_out', failureCategory: 'timeout' });
    await expect(t.engine.signal('to', item, 'late')).rejects.toMatchObject({ code: 'workflow_not_running' });
  });

  test('executionTimeout survives a restart', async () => {
    const t = await harness(collector);
    await t.engine.start(collector, 1, { id: 'to2', executionTimeout: '2h' });
    await t.clock.advance('1h');
    await t.restart();
    await t.clock.advance('1h');
    await expect(t.engine.handle('to2').result()).rejects.toMatchObject({ code: 'workflow_timed_out' });
  });

  test('an invalid executionTimeout rejects the start and creates no run', async () => {
    const t = await harness(collector);
    await expect(t.engine.start(collector, 1, { id: 'x', executionTimeout: 'soon' as never })).rejects.toMatchObject({
      code: 'invalid_duration',
    });
    expect(await t.engine.get('x')).toBeUndefined();
  });
});
