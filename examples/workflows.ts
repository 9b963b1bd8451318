/**
 * Example workflows bundled with Weft: what `npm start` registers, and a reference for the
 * authoring API. Each export is a workflow definition.
 */
import { activity, signal, workflow } from '../src/index.ts';

/** Sent by a person (or another service) to approve or reject an order. */
export const approval = signal<{ approved: boolean; by: string }>('approval');

const charge = activity({
  name: 'charge',
  retry: { maxAttempts: 5, initialInterval: '200ms', nonRetryable: ['card_declined'] },
  timeout: '10s',
  execute: async (input: { amount: number }, actx) => ({
    receipt: `rcpt-${actx.idempotencyKey}`,
    amount: input.amount,
  }),
});

/** Reserve stock, charge, wait for approval (up to a week), then ship. */
export const order = workflow({ name: 'order', version: '1' })
  .activities({
    charge,
    reserve: async (input: { sku: string; quantity: number }) => ({
      reservation: `res-${input.sku}-${input.quantity}`,
    }),
    ship: async (input: { reservation: string }) => ({ tracking: `trk-${input.reservation}` }),
  })
  .execute(async function* (ctx, input: { sku: string; quantity: number; amount: number }) {
    const { reservation } = yield* ctx.run('reserve', { sku: input.sku, quantity: input.quantity });
    const payment = yield* ctx.run('charge', { amount: input.amount });
    const decision = yield* ctx.waitForSignal(approval, { timeout: '7d' });
    if (!decision?.approved) return { status: 'rejected' as const, payment };
    const { tracking } = yield* ctx.run('ship', { reservation });
    return { status: 'shipped' as const, payment, tracking, approvedBy: decision.by };
  });

/** A durable reminder: sleeps, then reports when it woke. */
export const reminder = workflow({ name: 'reminder', version: '1' }).execute(async function* (
  ctx,
  input: { message: string; after: number },
) {
  yield* ctx.sleep(input.after);
  return { message: input.message, firedAt: new Date(ctx.now()).toISOString() };
});

/** Fans out to several activities at once and gathers their results. */
export const fanOut = workflow({ name: 'fan-out', version: '1' })
  .activities({ square: async (n: number) => n * n })
  .execute(async function* (ctx, input: { numbers: number[] }) {
    const squares = yield* ctx.all(input.numbers.map((n) => ctx.run('square', n)));
    return squares.reduce((sum, n) => sum + n, 0);
  });

/** Sent when a support ticket is resolved. */
export const resolved = signal<{ note: string }>('resolved');

/**
 * A support ticket: a search attribute to find it by customer, an update to escalate it, a query
 * for its priority, a token stream of progress, and a child run (a reminder) once it closes.
 */
export const ticket = workflow({ name: 'ticket', version: '1' }).execute(async function* (
  ctx,
  input: { customer: string; subject: string },
) {
  let priority = 'normal' as 'normal' | 'high'; // widened: the update handler changes it
  ctx.setAttribute('customer', input.customer);
  ctx.onUpdate('escalate', (reason: string) => {
    priority = 'high';
    return { priority, reason };
  });
  ctx.onQuery('priority', () => priority);
  ctx.stream.write(`received: ${input.subject}`);
  const resolution = yield* ctx.waitForSignal(resolved, { timeout: '3d' });
  ctx.stream.write(resolution === undefined ? 'closed without resolution' : `resolved: ${resolution.note}`);
  const followUp = ctx.startChild<{ message: string }>('reminder', {
    message: `follow up on ${ctx.workflowId}`,
    after: 1_000,
  });
  const { message } = yield* followUp.result();
  return { priority, resolved: resolution !== undefined, followUp: message };
});
