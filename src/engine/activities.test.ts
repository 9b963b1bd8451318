import { describe, expect, test } from 'bun:test';
import { activity, ActivityFailedError, ApplicationError, workflow } from '../index.ts';
import { createTestEngine, ManualClock, useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();

describe('activity retries', () => {
  test('retries follow the policy: attempt count and backoff delays', async () => {
    const attemptsAt: number[] = [];
    const clock = new ManualClock();
    const flaky = activity({
      name: 'flaky',
      retry: { maxAttempts: 4, initialInterval: '1s', backoffCoefficient: 2, maxInterval: '3s' },
      execute: async (_: null, actx) => {
        attemptsAt.push(clock.now());
        if (actx.attempt < 4) throw new Error(`boom ${actx.attempt}`);
        return actx.attempt;
      },
    });
    const wf = workflow({ name: 'retrying' })
      .activities({ flaky })
      .execute(async function* (ctx) {
        return yield* ctx.run('flaky', null);
      });
    await using t = await createTestEngine({ workflows: [wf], clock });
    const start = t.clock.now();
    const handle = await t.engine.start(wf, undefined);
    await t.clock.advance('10s');
    expect(await handle.result()).toBe(4);
    // waits: 1s, 2s, then 4s capped at 3s
    expect(attemptsAt.map((at) => at - start)).toEqual([0, 1000, 3000, 6000]);
  });

  test('an activity that exhausts its retries surfaces as a catchable ActivityFailedError', async () => {
    let attempts = 0;
    const wf = workflow({ name: 'catching' })
      .activities({
        fail: activity({
          name: 'fail',
          retry: { maxAttempts: 3, initialInterval: 10 },
          execute: async () => {
            attempts++;
            throw new ApplicationError('card declined', { code: 'card_declined' });
          },
        }),
      })
      .execute(async function* (ctx) {
        try {
          yield* ctx.run('fail', undefined);
          return 'unreachable';
        } catch (error) {
          const failure = error as ActivityFailedError;
          return {
            code: failure.code,
            cause: failure.causeCode,
            attempts: failure.attempts,
            isClass: error instanceof ActivityFailedError,
          };
        }
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined);
    await t.clock.advance('1s');
    expect(await handle.result()).toEqual({
      code: 'activity_failed',
      cause: 'card_declined',
      attempts: 3,
      isClass: true,
    });
    expect(attempts).toBe(3);
  });

  test('a non-retryable error code fails the activity after one attempt', async () => {
    let attempts = 0;
    const wf = workflow({ name: 'non-retryable' })
      .activities({
        pay: activity({
          name: 'pay',
          retry: { maxAttempts: 5, initialInterval: 1, nonRetryable: ['card_declined'] },
          execute: async () => {
            attempts++;
            throw Object.assign(new Error('declined'), { code: 'card_declined' });
          },
        }),
      })
      .execute(async function* (ctx) {
        yield* ctx.run('pay', undefined);
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'nr' });
    await expect(handle.result()).rejects.toMatchObject({ code: 'workflow_failed', failureCategory: 'activity' });
    expect(attempts).toBe(1);
    const state = await t.engine.get('nr');
    expect(state).toMatchObject({ status: 'failed', failureCategory: 'activity', error: { code: 'activity_failed' } });
  });

  test('ApplicationError with nonRetryable fails at once without a policy entry', async () => {
    let attempts = 0;
    const wf = workflow({ name: 'app-non-retryable' })
      .activities({
        check: async () => {
          attempts++;
          throw new ApplicationError('invalid order', { code: 'invalid_order', nonRetryable: true });
        },
      })
      .execute(async function* (ctx) {
        yield* ctx.run('check', undefined);
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined);
    await expect(handle.result()).rejects.toMatchObject({ failureCategory: 'activity' });
    expect(attempts).toBe(1);
  });

  test('call options override the activity retry policy', async () => {
    let attempts = 0;
    const wf = workflow({ name: 'override' })
      .activities({
        shaky: async () => {
          attempts++;
          throw new Error('no');
        },
      })
      .execute(async function* (ctx) {
        yield* ctx.run('shaky', undefined, { retry: { maxAttempts: 2, initialInterval: 5 } });
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined);
    await t.clock.advance('1s');
    await expect(handle.result()).rejects.toMatchObject({ failureCategory: 'activity' });
    expect(attempts).toBe(2);
  });
});

describe('activity timeouts and context', () => {
  test('an attempt past its timeout is aborted and retried; the attempt sees its signal abort', async () => {
    const aborted: unknown[] = [];
    const slow = activity({
      name: 'slow',
      timeout: '5s',
      retry: { maxAttempts: 2, initialInterval: '1s' },
      execute: (_: null, actx) =>
        new Promise<string>((resolve) => {
          if (actx.attempt === 2) return resolve('second try');
          actx.signal.addEventListener('abort', () => aborted.push((actx.signal.reason as { code?: string }).code));
        }),
    });
    const wf = workflow({ name: 'timeouts' })
      .activities({ slow })
      .execute(async function* (ctx) {
        return yield* ctx.run('slow', null);
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined);
    await t.clock.advance('6s');
    expect(await handle.result()).toBe('second try');
    expect(aborted).toEqual(['activity_timeout']);
  });

  test('actx carries attempt, a stable idempotencyKey per step, workflowId and an AbortSignal', async () => {
    const seen: { attempt: number; key: string; workflowId: string; hasSignal: boolean }[] = [];
    const wf = workflow({ name: 'ctx-info' })
      .activities({
        record: async (fail: boolean, actx) => {
          seen.push({
            attempt: actx.attempt,
            key: actx.idempotencyKey,
            workflowId: actx.workflowId,
            hasSignal: actx.signal instanceof AbortSignal,
          });
          if (fail && actx.attempt === 1) throw new Error('retry me');
          return actx.idempotencyKey;
        },
      })
      .execute(async function* (ctx) {
        const a = yield* ctx.run('record', true, { retry: { initialInterval: 1 } });
        const b = yield* ctx.run('record', false);
        return [a, b];
      });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'ctx-1' });
    await t.clock.advance('1s');
    const [a, b] = (await handle.result()) as [string, string];
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 1]);
    expect(seen[0]!.key).toBe(seen[1]!.key);
    expect(a).not.toBe(b);
    expect(seen.every((s) => s.workflowId === 'ctx-1' && s.hasSignal)).toBe(true);
  });

  test('an activity() definition passed to ctx.run directly runs with its own options', async () => {
    const double = activity({ name: 'double', execute: (n: number) => n * 2 });
    const wf = workflow({ name: 'direct' }).execute(async function* (ctx, n: number) {
      return yield* ctx.run(double, n);
    });
    const t = await harness(wf);
    expect(await (await t.engine.start(wf, 21)).result()).toBe(42);
  });
});

describe('failure categories', () => {
  test('a workflow that throws fails with category workflow and keeps the message', async () => {
    const wf = workflow({ name: 'thrower' }).execute(async function* () {
      throw new Error('bad state');
    });
    const t = await harness(wf);
    const handle = await t.engine.start(wf, undefined, { id: 'w-1' });
    await expect(handle.result()).rejects.toMatchObject({
      code: 'workflow_failed',
      failureCategory: 'workflow',
      message: expect.stringContaining('bad state'),
    });
    expect(await t.engine.get('w-1')).toMatchObject({
      status: 'failed',
      failureCategory: 'workflow',
      error: { message: 'bad state' },
    });
  });

  test('an activity result the codec cannot store fails the activity without retrying', async () => {
    let attempts = 0;
    const wf = workflow({ name: 'bad-result' })
      .activities({
        fn: async () => {
          attempts++;
          return { callback: () => 1 };
        },
      })
      .execute(async function* (ctx) {
        try {
          yield* ctx.run('fn', undefined);
        } catch (error) {
          return (error as ActivityFailedError).causeCode;
        }
      });
    const t = await harness(wf);
    expect(await (await t.engine.start(wf, undefined)).result()).toBe('payload_not_serializable');
    expect(attempts).toBe(1);
  });
});

describe('activities bound to a task queue', () => {
  const remote = activity({ name: 'embed', queue: 'gpu', execute: (text: string) => text.length });

  test('a workflow declaring one is refused at registration with task_queue_unavailable', async () => {
    const wf = workflow({ name: 'remote-declared' })
      .activities({ embed: remote })
      .execute(async function* (ctx) {
        return yield* ctx.run('embed', 'x');
      });
    await expect(harness(wf)).rejects.toMatchObject({ code: 'task_queue_unavailable', details: { queue: 'gpu' } });
  });

  test('passing one to ctx.run fails at the call instead of running it in-process', async () => {
    let ran = false;
    const direct = activity({ name: 'direct', queue: 'gpu', execute: () => (ran = true) });
    const wf = workflow({ name: 'remote-direct' }).execute(async function* (ctx) {
      try {
        yield* ctx.run(direct, undefined);
      } catch (error) {
        return (error as { code: string }).code;
      }
    });
    const t = await harness(wf);
    expect(await (await t.engine.start(wf, undefined)).result()).toBe('task_queue_unavailable');
    expect(ran).toBe(false);
  });
});
