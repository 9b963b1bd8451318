import { afterEach, describe, expect, test } from 'bun:test';
import { Engine, signal, workflow, type ActivityContext } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { ManualClock } from '../testing/index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function open(options: Omit<Parameters<typeof Engine.create>[0], 'storage'> & { storage?: MemoryStorage }) {
  const storage = options.storage ?? new MemoryStorage();
  const engine = await Engine.create({ ...options, storage });
  cleanups.push(() => engine.close());
  return { engine, storage };
}

const approval = signal<{ approved: boolean }>('approval');

describe('a workflow run', () => {
  test('a run with three activities, a sleep and a signal completes with the right result', async () => {
    const calls: string[] = [];
    const clock = new ManualClock();
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
    const { engine } = await open({ clock, workflows: { order } });
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
    expect((await engine.get('o-1'))?.status).toBe('completed');
  });
});
