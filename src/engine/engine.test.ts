import { describe, expect, test } from 'bun:test';
import { Engine, signal, workflow, WorkflowAlreadyExistsError, type ActivityContext } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { ManualClock, useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();

const approval = signal<{ approved: boolean }>('approval');

const echo = workflow({ name: 'echo' })
  .activities({ upper: (s: string) => s.toUpperCase() })
  .execute(async function* (ctx, input: string) {
    return yield* ctx.run('upper', input);
  });

describe('a workflow run', () => {
  test('a run with three activities, a sleep and a signal completes with the right result', async () => {
    const calls: string[] = [];
    const order = workflow({ name: 'order', version: '1' })
      .activities({
        reserve: async (input: { sku: string }) => (calls.push('reserve'), `res-${input.sku}`),
        charge: async (amount: number, actx: ActivityContext) => (
          calls.push('charge'),
          `rcpt-${amount}-${actx.attempt}`
        ),
        ship: async (address: string) => (calls.push('ship'), `shipped to ${address}`),
      })
      .execute(async function* (ctx, input: { sku: string; amount: number }) {
        const reservation = yield* ctx.run('reserve', { sku: input.sku });
        const receipt = yield* ctx.run('charge', input.amount);
        yield* ctx.sleep('1h');
        const decision = yield* ctx.waitForSignal(approval);
        const shipment = decision.approved ? yield* ctx.run('ship', 'Main St 1') : 'not shipped';
        return { reservation, receipt, shipment };
      });
    const { engine, clock } = await harness(order);
    const handle = await engine.start(order, { sku: 'A', amount: 10 }, { id: 'o-1' });
    await clock.advance('59m');
    expect((await engine.get('o-1'))?.status).toBe('suspended');
    await engine.signal('o-1', approval, { approved: true });
    await clock.advance('1m');
    expect(await handle.result()).toEqual({
      reservation: 'res-A',
      receipt: 'rcpt-10-1',
      shipment: 'shipped to Main St 1',
    });
    expect(calls).toEqual(['reserve', 'charge', 'ship']);
    const state = await engine.get('o-1');
    expect(state).toMatchObject({
      id: 'o-1',
      type: 'order',
      version: '1',
      status: 'completed',
      input: { sku: 'A', amount: 10 },
    });
    expect(state?.result).toEqual({ reservation: 'res-A', receipt: 'rcpt-10-1', shipment: 'shipped to Main St 1' });
  });

  test('engine.get returns undefined for an unknown id', async () => {
    const { engine } = await harness(echo);
    expect(await engine.get('nope')).toBeUndefined();
  });

  test('a generated id is returned when none is given', async () => {
    const { engine } = await harness(echo);
    const handle = await engine.start('echo', 'x');
    expect(handle.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await handle.result()).toBe('X');
  });

  test('engine.handle(id).result() waits for a run started elsewhere', async () => {
    const { engine } = await harness(echo);
    await engine.start(echo, 'later', { id: 'h-1' });
    expect(await engine.handle('h-1').result()).toBe('LATER');
  });
});

describe('starting runs', () => {
  test('a duplicate id rejects with workflow_already_exists and leaves the first run alone', async () => {
    const { engine } = await harness(echo);
    await engine.start(echo, 'a', { id: 'dup' });
    const second = engine.start(echo, 'b', { id: 'dup' });
    await expect(second).rejects.toBeInstanceOf(WorkflowAlreadyExistsError);
    await expect(second).rejects.toMatchObject({ code: 'workflow_already_exists' });
    expect(await engine.handle('dup').result()).toBe('A');
  });

  test('a duplicate id is refused even after the first run finished', async () => {
    const { engine } = await harness(echo);
    await (await engine.start(echo, 'a', { id: 'done' })).result();
    await expect(engine.start(echo, 'b', { id: 'done' })).rejects.toMatchObject({ code: 'workflow_already_exists' });
  });

  test('the same idempotencyKey returns the existing run instead of starting another', async () => {
    const { engine, storage } = await harness(echo);
    const first = await engine.start(echo, 'a', { idempotencyKey: 'k-1' });
    const again = await engine.start(echo, 'b', { idempotencyKey: 'k-1' });
    expect(again.id).toBe(first.id);
    expect(await again.result()).toBe('A');
    expect(await storage.listRunsByStatus(['completed'])).toHaveLength(1);
  });

  test('concurrent starts with one idempotencyKey create exactly one run', async () => {
    const { engine, storage } = await harness(echo);
    const handles = await Promise.all(
      Array.from({ length: 20 }, (_, i) => engine.start(echo, `v${i}`, { idempotencyKey: 'same' })),
    );
    expect(new Set(handles.map((h) => h.id)).size).toBe(1);
    await handles[0]!.result();
    expect(await storage.listRunsByStatus(['completed', 'running', 'suspended'])).toHaveLength(1);
  });

  test('a start resolves once the run is created, without waiting for workflow code that awaits before its first step', async () => {
    const gate = Promise.withResolvers<void>();
    const slowStart = workflow({ name: 'slow-start' })
      .activities({ upper: (s: string) => s.toUpperCase() })
      .execute(async function* (ctx, input: string) {
        await gate.promise;
        return yield* ctx.run('upper', input);
      });
    const { engine } = await harness(slowStart);
    const handle = await engine.start(slowStart, 'x', { id: 'slow' });
    expect((await engine.get('slow'))?.status).toBe('running');
    gate.resolve();
    expect(await handle.result()).toBe('X');
  });

  test('a run whose creation is refused does nothing, even when its code reaches a step after the refusal', async () => {
    const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    let calls = 0;
    const gated = workflow({ name: 'gated' })
      .activities({ count: () => ++calls })
      .execute(async function* (ctx, input: number) {
        await gates[input]!.promise;
        return yield* ctx.run('count', input);
      });
    const { engine } = await harness(gated);
    gates[0]!.resolve();
    await (await engine.start(gated, 0, { id: 'taken' })).result();
    await expect(engine.start(gated, 1, { id: 'taken' })).rejects.toMatchObject({ code: 'workflow_already_exists' });
    gates[1]!.resolve();
    for (let i = 0; i < 10; i++) await Bun.sleep(0);
    expect(calls).toBe(1);
  });

  test('generated ids are time-ordered UUIDs (v7), so runs started later sort later', async () => {
    const { engine, clock } = await harness(echo);
    const first = await engine.start(echo, 'a');
    await clock.advance('1s');
    const second = await engine.start(echo, 'b');
    for (const { id } of [first, second])
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.id < second.id).toBe(true);
  });

  test('an unknown workflow type rejects with workflow_type_not_registered', async () => {
    const { engine, storage } = await harness(echo);
    await expect(engine.start('missing', {})).rejects.toMatchObject({
      code: 'workflow_type_not_registered',
      message: expect.stringContaining("'missing'"),
    });
    expect(await storage.listRunsByStatus(['running', 'pending', 'suspended', 'failed'])).toHaveLength(0);
  });
});

describe('registration and recovery', () => {
  test('registering two definitions under one name is an error', async () => {
    const other = workflow({ name: 'echo' }).execute(async function* () {
      return 1;
    });
    const engine = new Engine({ storage: new MemoryStorage() });
    engine.register(echo);
    expect(() => engine.register(echo)).not.toThrow();
    expect(() => engine.register(other)).toThrow(expect.objectContaining({ code: 'workflow_already_registered' }));
    await expect(Engine.create({ storage: new MemoryStorage(), workflows: [echo, other] })).rejects.toMatchObject({
      code: 'workflow_already_registered',
    });
    await engine.close();
  });

  test('new Engine + register + recoverAll resumes unfinished runs', async () => {
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const nap = workflow({ name: 'nap' }).execute(async function* (ctx) {
      yield* ctx.sleep('1d');
      return 'rested';
    });
    const first = await Engine.create({ storage, clock, workflows: [nap] });
    await first.start(nap, undefined, { id: 'n-1' });
    await clock.advance('1h');
    await first.close();

    const second = new Engine({ storage, clock });
    second.register(nap);
    expect(await second.recoverAll()).toEqual({ recovered: 1 });
    await clock.advance('23h');
    expect(await second.handle('n-1').result()).toBe('rested');
    await second.close();
    await storage.close();
  });

  test('recovery that finds runs of unregistered types fails loudly, naming them', async () => {
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const wait = workflow({ name: 'waiter' }).execute(async function* (ctx) {
      yield* ctx.waitForSignal('go');
    });
    const first = await Engine.create({ storage, clock, workflows: [wait] });
    await first.start(wait, undefined);
    await first.start(wait, undefined);
    await first.close();
    await expect(Engine.create({ storage, clock, workflows: [echo] })).rejects.toMatchObject({
      code: 'recovery_unregistered_types',
      message: expect.stringContaining("'waiter'"),
      details: { types: ['waiter'], runCount: 2 },
    });
    const lazy = await Engine.create({ storage, clock, workflows: [echo], recover: false });
    await lazy.close();
    await storage.close();
  });
});

describe('closing', () => {
  test('await using closes the engine at the end of the scope, and a closed engine keeps the storage open', async () => {
    const storage = new MemoryStorage();
    let escaped: Engine | undefined;
    {
      await using engine = await Engine.create({ storage, workflows: [echo] });
      escaped = engine;
      expect(await (await engine.start(echo, 'x', { id: 'u' })).result()).toBe('X');
    }
    await expect(escaped.start(echo, 'y')).rejects.toMatchObject({ code: 'engine_closed' });
    expect((await storage.getRun('u'))?.status).toBe('completed');
    await storage.close();
  });
});

describe('the workflow context', () => {
  test('ctx.workflowId and ctx.workflowType name the run and its type; activities see the same', async () => {
    const seen: Record<string, string>[] = [];
    const wf = workflow({ name: 'introspective' })
      .activities({
        who: (_: null, actx: ActivityContext) => ({
          workflowId: actx.workflowId,
          workflowType: actx.workflowType,
          activityName: actx.activityName,
        }),
      })
      .execute(async function* (ctx) {
        seen.push({ workflowId: ctx.workflowId, workflowType: ctx.workflowType });
        seen.push(yield* ctx.run('who', null));
      });
    const { engine } = await harness(wf);
    await (await engine.start(wf, undefined, { id: 'who-1' })).result();
    expect(seen).toEqual([
      { workflowId: 'who-1', workflowType: 'introspective' },
      { workflowId: 'who-1', workflowType: 'introspective', activityName: 'who' },
    ]);
  });
});

describe('waiting for a result', () => {
  test('result({ signal }) stops waiting when the signal aborts; the run goes on and a later wait gets the result', async () => {
    const go = signal<number>('go');
    const wf = workflow({ name: 'waits' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(go);
    });
    const { engine } = await harness(wf);
    const handle = await engine.start(wf, undefined, { id: 'wait-1' });
    const controller = new AbortController();
    const waiting = handle.result({ signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await expect(handle.result({ signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
    await engine.signal('wait-1', go, 7);
    expect(await handle.result()).toBe(7);
  });
});
