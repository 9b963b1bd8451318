import { describe, expect, test } from 'bun:test';
import { signal, workflow } from '../index.ts';
import { useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();

const go = signal<string>('go');

describe('ctx.all', () => {
  test('runs activities concurrently and returns their results in order', async () => {
    const order: string[] = [];
    const gates = { a: Promise.withResolvers<void>(), b: Promise.withResolvers<void>() };
    const wf = workflow({ name: 'fan-out' })
      .activities({
        step: async (name: 'a' | 'b') => {
          order.push(`start ${name}`);
          await gates[name].promise;
          return name.toUpperCase();
        },
      })
      .execute(async function* (ctx) {
        return yield* ctx.all([ctx.run('step', 'a'), ctx.run('step', 'b'), ctx.sleep('1m')]);
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined);
    await t.clock.advance(0);
    expect(order).toEqual(['start a', 'start b']);
    gates.b.resolve();
    gates.a.resolve();
    await t.clock.advance('1m');
    expect(await handle.result()).toEqual(['A', 'B', undefined]);
  });

  test('fails with the first failure, which the workflow can catch', async () => {
    const wf = workflow({ name: 'fan-out-fail' })
      .activities({
        ok: () => 'ok',
        bad: () => {
          throw new Error('nope');
        },
      })
      .execute(async function* (ctx) {
        try {
          yield* ctx.all([ctx.run('ok', undefined), ctx.run('bad', undefined, { retry: { maxAttempts: 1 } })]);
          return 'no';
        } catch (error) {
          return (error as { code: string }).code;
        }
      });
    const t = await harness(wf);
    expect(await (await t.engine.start(wf, undefined)).result()).toBe('activity_failed');
  });

  test('completed branches are not run again after a restart', async () => {
    let runs = 0;
    const wf = workflow({ name: 'fan-out-restart' })
      .activities({ count: () => ++runs })
      .execute(async function* (ctx) {
        const [n, payload] = yield* ctx.all([ctx.run('count', undefined), ctx.waitForSignal(go)]);
        return { n, payload };
      });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 'fr' });
    await t.clock.advance(0);
    await t.restart();
    await t.engine.signal('fr', go, 'yes');
    expect(await t.engine.handle('fr').result()).toEqual({ n: 1, payload: 'yes' });
    expect(runs).toBe(1);
  });
});

describe('ctx.race', () => {
  test('a signal that beats a timer wins, and the timer is dropped', async () => {
    const wf = workflow({ name: 'race-signal' }).execute(async function* (ctx) {
      return yield* ctx.race([ctx.waitForSignal(go), ctx.sleep('1h')]);
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'rs' });
    await t.clock.advance('1m');
    await t.engine.signal('rs', go, 'first');
    expect(await handle.result()).toBe('first');
    expect(await t.storage.listRunTimers('rs')).toEqual([]);
  });

  test('a timer that beats a signal wins; a later signal stays in the inbox', async () => {
    const wf = workflow({ name: 'race-timer' }).execute(async function* (ctx) {
      const first = yield* ctx.race([ctx.waitForSignal(go), ctx.sleep('1h')]);
      const next = yield* ctx.waitForSignal(go);
      return { first: first ?? 'timer', next };
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'rt' });
    await t.clock.advance('1h');
    await t.engine.signal('rt', go, 'after');
    expect(await handle.result()).toEqual({ first: 'timer', next: 'after' });
  });

  test('the losing activity is aborted and the winner replays the same way after a restart', async () => {
    const aborted: string[] = [];
    const wf = workflow({ name: 'race-activity' })
      .activities({
        slow: (_: null, actx) =>
          new Promise<string>((resolve) => {
            actx.signal.addEventListener('abort', () => (aborted.push('slow'), resolve('late')));
          }),
        fast: () => 'fast',
      })
      .execute(async function* (ctx) {
        const winner = yield* ctx.race([ctx.run('slow', null), ctx.run('fast', undefined)]);
        yield* ctx.waitForSignal(go);
        return winner;
      });
    const t = await harness(wf);
    await t.engine.start(wf, undefined, { id: 'ra' });
    await t.clock.advance(0);
    expect(aborted).toEqual(['slow']);
    await t.restart();
    await t.engine.signal('ra', go, 'x');
    expect(await t.engine.handle('ra').result()).toBe('fast');
  });
});
