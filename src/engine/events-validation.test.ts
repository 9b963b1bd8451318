import { describe, expect, test } from 'bun:test';
import type { EngineEvent } from '../index.ts';
import { signal, workflow } from '../index.ts';
import { useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();
const smallPayloads = useTestEngines({ maxPayloadBytes: 1024 });

const go = signal<string>('go');
const echo = workflow({ name: 'echo' })
  .activities({ same: (x: unknown) => x })
  .execute(async function* (ctx, input: unknown) {
    return yield* ctx.run('same', input);
  });

describe('engine events', () => {
  test('the engine dispatches lifecycle events with increasing fleet sequence numbers', async () => {
    const wf = workflow({ name: 'eventful' })
      .activities({ act: () => 1 })
      .execute(async function* (ctx) {
        yield* ctx.run('act', undefined);
        yield* ctx.waitForSignal(go);
      });
    const t = await harness(wf);
    const seen: EngineEvent[] = [];
    const types = [
      'workflow:started',
      'activity:started',
      'activity:completed',
      'workflow:suspended',
      'signal:received',
      'workflow:resumed',
      'workflow:completed',
    ];
    for (const type of types) t.engine.addEventListener(type, (e) => seen.push(e as EngineEvent));
    await t.engine.start(wf, undefined, { id: 'ev' });
    await t.clock.advance(0);
    await t.engine.signal('ev', go, 'x');
    await t.engine.handle('ev').result();
    expect(new Set(seen.map((e) => e.type))).toEqual(new Set(types));
    expect(seen.every((e) => e.workflowId === 'ev' && typeof e.timestamp === 'number')).toBe(true);
    const sequences = seen.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(seen.at(-1)?.type).toBe('workflow:completed');
  });

  test('failed, cancelled and timed-out runs each dispatch their event', async () => {
    const failing = workflow({ name: 'failing' }).execute(async function* () {
      throw new Error('x');
    });
    const waiting = workflow({ name: 'waiting' }).execute(async function* (ctx) {
      yield* ctx.waitForSignal(go);
    });
    const t = await harness(failing, waiting);
    const seen: string[] = [];
    for (const type of ['workflow:failed', 'workflow:cancelled', 'workflow:timed-out']) {
      t.engine.addEventListener(type, (e) => seen.push(`${e.type} ${(e as EngineEvent).workflowId}`));
    }
    await t.engine.start(failing, undefined, { id: 'f' }).then((h) => h.result().catch(() => undefined));
    await t.engine.start(waiting, undefined, { id: 'c' });
    await t.engine.cancel('c');
    await t.engine.start(waiting, undefined, { id: 't', executionTimeout: '1s' });
    await t.clock.advance('1s');
    expect(seen).toEqual(['workflow:failed f', 'workflow:cancelled c', 'workflow:timed-out t']);
  });
});

describe('bad input fails at the call and leaves no half-made run', () => {
  const cases: [string, unknown, string][] = [
    ['a function', { f: () => 1 }, 'payload_not_serializable'],
    ['a symbol', Symbol('s'), 'payload_not_serializable'],
    ['a WeakMap', new WeakMap(), 'payload_not_serializable'],
    ['a Promise', Promise.resolve(1), 'payload_not_serializable'],
  ];
  for (const [label, input, code] of cases) {
    test(`a start whose input holds ${label} is refused with ${code}`, async () => {
      const t = await harness(echo);
      await expect(t.engine.start(echo, input, { id: 'bad' })).rejects.toMatchObject({ code });
      expect(await t.engine.get('bad')).toBeUndefined();
    });
  }

  test('an input over the payload limit is refused with payload_too_large and its size', async () => {
    const t = await smallPayloads(echo);
    await expect(t.engine.start(echo, 'x'.repeat(2000), { id: 'big' })).rejects.toMatchObject({
      code: 'payload_too_large',
      details: { limit: 1024 },
    });
    expect(await t.engine.get('big')).toBeUndefined();
  });

  test('a cyclic input is stored and comes back with its cycle', async () => {
    const t = await harness(echo);
    const cyclic: { self?: unknown; n: number } = { n: 1 };
    cyclic.self = cyclic;
    const out = (await (await t.engine.start(echo, cyclic)).result()) as typeof cyclic;
    expect(out.self).toBe(out);
  });

  test('a signal payload the codec cannot store is refused and nothing is delivered', async () => {
    const wf = workflow({ name: 'sig' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(go);
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 's' });
    await expect(t.engine.signal('s', go, (() => 1) as never)).rejects.toMatchObject({
      code: 'payload_not_serializable',
    });
    await t.engine.signal('s', go, 'fine');
    expect(await handle.result()).toBe('fine');
  });

  test('an unknown activity name fails at the ctx.run call', async () => {
    const wf = workflow({ name: 'typo' })
      .activities({ real: () => 1 })
      .execute(async function* (ctx) {
        try {
          yield* ctx.run('reel' as 'real', undefined);
        } catch (error) {
          return (error as { code: string; message: string }).code;
        }
      });
    const t = await harness(wf);
    expect(await (await t.engine.start(wf, undefined)).result()).toBe('activity_not_registered');
  });

  test('an activity input the codec cannot store fails at the ctx.run call', async () => {
    const wf = workflow({ name: 'bad-activity-input' })
      .activities({ same: (x: unknown) => x })
      .execute(async function* (ctx) {
        try {
          yield* ctx.run('same', { fn: () => 1 });
        } catch (error) {
          return (error as { code: string }).code;
        }
      });
    const t = await harness(wf);
    expect(await (await t.engine.start(wf, undefined)).result()).toBe('payload_not_serializable');
  });

  test('invalid start options are refused with invalid_argument', async () => {
    const t = await harness(echo);
    await expect(t.engine.start(echo, 1, { id: '' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(t.engine.start(echo, 1, { id: 'x'.repeat(300) })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(t.engine.start(echo, 1, { idempotencyKey: 5 as never })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
  });

  test('a workflow result the codec cannot store fails the run with category workflow', async () => {
    const wf = workflow({ name: 'bad-result' }).execute(async function* () {
      return { fn: () => 1 };
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'br' });
    await expect(handle.result()).rejects.toMatchObject({ failureCategory: 'workflow' });
    expect((await t.engine.get('br'))?.error?.code).toBe('payload_not_serializable');
  });

  test('yielding a plain value instead of an operation fails the run with a clear message', async () => {
    const wf = workflow({ name: 'plain-yield' }).execute(async function* () {
      yield 5;
    });
    const t = await harness(wf);
    await expect((await t.engine.start(wf, undefined)).result()).rejects.toMatchObject({
      message: expect.stringContaining('yield* ctx.run'),
    });
  });

  test('a closed engine refuses new work with engine_closed', async () => {
    const t = await harness(echo);
    await t.engine.close();
    await expect(t.engine.start(echo, 1)).rejects.toMatchObject({ code: 'engine_closed' });
  });
});
