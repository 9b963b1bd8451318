/**
 * Workflows for the client command tests (cli-runs.test.ts): the bundled examples, a run that
 * fails for good (exit 4 and a failure category), and one that hangs in an activity (a run left
 * `running` in a database, to show a `--db` read does not execute it).
 */
import { ApplicationError, workflow } from '../../src/index.ts';

export { approval, fanOut, order, ticket } from '../../examples/workflows.ts';

/** Fails at its first activity with a non-retryable error: category `activity`. */
export const declined = workflow({ name: 'declined', version: '1' })
  .activities({
    charge: async (_input: { amount: number }) => {
      throw new ApplicationError('card declined', { code: 'card_declined', nonRetryable: true });
    },
  })
  .execute(async function* (ctx, input: { amount: number }) {
    yield* ctx.run('charge', input);
    return 'charged';
  });

/** Resolved when a `hanging` run's activity has started (in this process). */
export const hangingStarted = Promise.withResolvers<void>();

/** Its activity never settles until aborted: the run stays `running` until its host stops. */
export const hanging = workflow({ name: 'hanging', version: '1' })
  .activities({
    wait: (_input: null, actx) =>
      new Promise<never>((_resolve, reject) => {
        hangingStarted.resolve();
        actx.signal.addEventListener('abort', () => reject(new Error('halted')), { once: true });
      }),
  })
  .execute(async function* (ctx) {
    yield* ctx.run('wait', null);
    return 'never';
  });
