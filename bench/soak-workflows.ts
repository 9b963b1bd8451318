/**
 * The workflows `npm run soak` serves (`weft serve --workflows bench/soak-workflows.ts`): a fan-out
 * of activities and a ticket that waits for a person's signal — the two shapes of issue 20's mix.
 * Their results are computable from their input (and the signal), so the soak checks every one.
 */
import { signal, workflow } from '../src/index.ts';

/** How many activities one fan-out run starts at once. */
export const FANOUT_WIDTH = 4;

/** Sent to a ticket by whoever resolves it. */
export const resolveTicket = signal<{ by: string }>('resolve');

/** Squares `width` numbers from `base` in parallel activities and returns their sum. */
export const fanout = workflow({ name: 'fanout', version: '1' })
  .activities({ square: async (n: number) => n * n })
  .execute(async function* (ctx, input: { base: number; width: number }) {
    const squares = yield* ctx.all(Array.from({ length: input.width }, (_, i) => ctx.run('square', input.base + i)));
    return squares.reduce((sum, square) => sum + square, 0);
  });

/** Waits (up to a day) for `resolve`, then says who resolved which ticket. */
export const ticket = workflow({ name: 'ticket', version: '1' }).execute(async function* (
  ctx,
  input: { ticket: number },
) {
  const resolution = yield* ctx.waitForSignal(resolveTicket, { timeout: '1d' });
  return { ticket: input.ticket, by: resolution?.by ?? null };
});

/** What `fanout` returns for `input`: the soak's expected result. */
export function fanoutResult(input: { base: number; width: number }): number {
  let sum = 0;
  for (let i = 0; i < input.width; i++) sum += (input.base + i) ** 2;
  return sum;
}
