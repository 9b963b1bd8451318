import { afterEach, expect, test } from 'bun:test';
import { createTestEngine, type TestEngine } from '../src/testing/index.ts';
import { approval, fanOut, order, reminder, resolved, ticket } from './workflows.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('the example order ships once approved', async () => {
  t = await createTestEngine({ workflows: [order] });
  const handle = await t.engine.start(order, { sku: 'book', quantity: 2, amount: 30 }, { id: 'order-1' });
  await t.clock.advance(0);
  await t.engine.signal('order-1', approval, { approved: true, by: 'ada' });
  expect(await handle.result()).toEqual({
    status: 'shipped',
    payment: { receipt: 'rcpt-order-1:1', amount: 30 },
    tracking: 'trk-res-book-2',
    approvedBy: 'ada',
  });
});

test('the example order is rejected when no approval arrives within a week', async () => {
  t = await createTestEngine({ workflows: [order] });
  const handle = await t.engine.start(order, { sku: 'pen', quantity: 1, amount: 2 });
  await t.clock.advance('7d');
  expect(await handle.result()).toMatchObject({ status: 'rejected' });
});

test('the example reminder and fan-out complete', async () => {
  t = await createTestEngine({ workflows: [reminder, fanOut] });
  const r = await t.engine.start(reminder, { message: 'stand up', after: 60_000 });
  const f = await t.engine.start(fanOut, { numbers: [1, 2, 3] });
  await t.clock.advance('1m');
  expect(await r.result()).toMatchObject({ message: 'stand up' });
  expect(await f.result()).toBe(14);
});

test('the example ticket is found by customer, escalated by update, streams progress and starts a follow-up', async () => {
  t = await createTestEngine({ workflows: [ticket, reminder] });
  const handle = await t.engine.start(ticket, { customer: 'c-7', subject: 'login fails' }, { id: 'ticket-1' });
  expect((await t.engine.list({ attributes: { customer: 'c-7' } })).items.map((r) => r.id)).toEqual(['ticket-1']);
  expect(await t.engine.update('ticket-1', 'escalate', 'vip')).toMatchObject({ result: { priority: 'high' } });
  expect(await t.engine.query('ticket-1', 'priority')).toBe('high');
  await t.engine.signal('ticket-1', resolved, { note: 'password reset' });
  await t.clock.advance('1s');
  expect(await handle.result()).toEqual({ priority: 'high', resolved: true, followUp: 'follow up on ticket-1' });
  const { chunks, closed } = await t.engine.readStream('ticket-1');
  expect(chunks.map((c) => c.data)).toEqual(['received: login fails', 'resolved: password reset']);
  expect(closed).toBe(true);
});
