/**
 * Replay against changed code: each case runs v1 of a workflow until it waits, restarts the engine
 * with v2 (same name, different steps) and reads the failure the run ends with. The message names
 * the step's position, what the journal has and what the code asked for, as the code writes them.
 */
import { describe, expect, test } from 'bun:test';
import type { Duration } from '../core/duration.ts';
import type { WorkflowContext } from '../define/workflow-context.ts';
import { signal, workflow } from '../index.ts';
import { useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();
const go = signal<string>('go');

type Body = (ctx: WorkflowContext) => AsyncGenerator<unknown, unknown, unknown>;

/** Runs `v1` until it waits for `go`, restarts with `v2` and returns the run's failure. */
async function diverge(
  name: string,
  v1: Body,
  v2: Body,
  options: { beforeRestart?: Duration; send?: boolean; update?: string; category?: string } = {},
) {
  const define = (body: Body) =>
    workflow({ name })
      .activities({ a: () => 'a', b: () => 'b', c: () => 'c', charge: () => 'r-1' })
      .execute(async function* (ctx) {
        return yield* body(ctx);
      });
  const first = define(v1);
  const t = await harness(first);
  await t.engine.start(first, undefined, { id: name });
  await t.clock.advance(options.beforeRestart ?? 0);
  if (options.send === true) await t.engine.signal(name, go, 'now');
  if (options.update !== undefined) await t.engine.update(name, options.update, 10);
  await t.restart([define(v2)]);
  const failureCategory = options.category ?? 'nondeterminism';
  await expect(t.engine.handle(name).result()).rejects.toMatchObject({ failureCategory });
  const state = await t.engine.get(name);
  expect(state).toMatchObject({ status: 'failed', failureCategory });
  expect(state!.error!.code).toBe('nondeterminism');
  return { error: state!.error! };
}

describe('a replay that finds another step than the journal fails the run naming both', () => {
  test('run in the journal, sleep in the code: the step position counts from 1, the sleep shows its duration', async () => {
    const { error } = await diverge(
      'charge-then-sleep',
      async function* (ctx) {
        ctx.now();
        yield* ctx.run('a', undefined);
        yield* ctx.run('charge', undefined);
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        ctx.now();
        yield* ctx.run('a', undefined);
        yield* ctx.sleep('1h');
        yield* ctx.waitForSignal(go);
      },
    );
    expect(error.message).toBe(
      "Nondeterminism in workflow 'charge-then-sleep' at step 3: journal has run('charge'), code asked for sleep('1h')",
    );
    expect(error.code).toBe('nondeterminism');
    expect(error.details).toEqual({
      workflowType: 'charge-then-sleep',
      step: 3,
      seq: 2,
      recorded: { kind: 'activity', name: 'charge', call: "run('charge')" },
      issued: { kind: 'sleep', name: '', call: "sleep('1h')" },
    });
  });

  test("run('a') in the journal, run('b') in the code", async () => {
    const { error } = await diverge(
      'renamed',
      async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.run('b', undefined);
        yield* ctx.waitForSignal(go);
      },
    );
    expect(error.message).toEndWith("at step 1: journal has run('a'), code asked for run('b')");
  });

  test('a sleep in the journal (its duration is not journaled), an activity in the code', async () => {
    const { error } = await diverge(
      'slept',
      async function* (ctx) {
        yield* ctx.sleep('90s');
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.waitForSignal(go);
      },
      { beforeRestart: '2m' },
    );
    expect(error.message).toEndWith("at step 1: journal has sleep(…), code asked for run('a')");
    expect(error.details).toMatchObject({ recorded: { kind: 'sleep', name: '', call: 'sleep(…)' } });
  });

  test('a step the code no longer makes: the journal has it where the code asks for the next one', async () => {
    const { error } = await diverge(
      'removed',
      async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.run('b', undefined);
        yield* ctx.run('c', undefined);
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.run('c', undefined);
        yield* ctx.waitForSignal(go);
      },
    );
    expect(error.message).toEndWith("at step 2: journal has run('b'), code asked for run('c')");
  });

  test('a step the code makes now that the journal does not have, before a journaled one', async () => {
    const { error } = await diverge(
      'inserted',
      async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.sleep('1m');
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.run('b', undefined);
        yield* ctx.sleep('1m');
        yield* ctx.waitForSignal(go);
      },
      { beforeRestart: '2m' },
    );
    expect(error.message).toEndWith("at step 2: journal has sleep(…), code asked for run('b')");
  });

  test('a signal wait against an activity, named as the code calls them', async () => {
    const { error } = await diverge(
      'waited',
      async function* (ctx) {
        yield* ctx.waitForSignal(go);
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.run('charge', undefined);
        yield* ctx.waitForSignal(go);
      },
      { send: true },
    );
    expect(error.message).toEndWith("at step 1: journal has waitForSignal('go'), code asked for run('charge')");
  });

  test('a composite against a leaf, both ways, with the children the code asked for', async () => {
    const raced = await diverge(
      'raced',
      async function* (ctx) {
        yield* ctx.race([ctx.sleep('1m'), ctx.waitForSignal(go)]);
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.sleep('1m');
        yield* ctx.waitForSignal(go);
      },
      { beforeRestart: '2m' },
    );
    expect(raced.error.message).toEndWith("at step 1: journal has race(…), code asked for sleep('1m')");

    const leaf = await diverge(
      'leaf',
      async function* (ctx) {
        yield* ctx.run('a', undefined);
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.all([ctx.run('a', undefined), ctx.sleep(250)]);
        yield* ctx.waitForSignal(go);
      },
    );
    expect(leaf.error.message).toEndWith(
      "at step 1: journal has run('a'), code asked for all(run('a'), sleep('250ms'))",
    );
  });

  // The update came while the run waited at step 1, so it took step 2.
  test('an update in the journal that the code no longer handles', async () => {
    const { error } = await diverge(
      'updated',
      async function* (ctx) {
        ctx.onUpdate('discount', (pct: number) => pct);
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        yield* ctx.waitForSignal(go);
      },
      { update: 'discount' },
    );
    expect(error.message).toEndWith(
      "at step 2: journal has update('discount'), code asked for nothing there: it registers no onUpdate('discount') handler",
    );
  });

  // A divergence at a step that does not yield (ctx.now(), setAttribute, startChild) is thrown at
  // the call, out of the generator; uncaught, it fails the run as nondeterminism too. (Workflow code
  // can still catch it: see docs/engine.md.)
  test('recorded values and attributes are named by their ctx methods', async () => {
    const values = await diverge(
      'valued',
      async function* (ctx) {
        ctx.now();
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        ctx.uuid();
        yield* ctx.waitForSignal(go);
      },
      { category: 'nondeterminism' },
    );
    expect(values.error.message).toEndWith('at step 1: journal has now(), code asked for uuid()');

    const attributes = await diverge(
      'attributed',
      async function* (ctx) {
        ctx.setAttribute('tier', 'gold');
        yield* ctx.waitForSignal(go);
      },
      async function* (ctx) {
        ctx.setAttribute('plan', 'gold');
        yield* ctx.waitForSignal(go);
      },
      { category: 'nondeterminism' },
    );
    expect(attributes.error.message).toEndWith(
      "at step 1: journal has setAttribute('tier'), code asked for setAttribute('plan')",
    );
  });
});
