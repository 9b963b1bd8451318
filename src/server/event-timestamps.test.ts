/**
 * Fleet events on the wire carry ISO 8601 `timestamp`s, like every date of a run (`createdAt`,
 * `updatedAt`, `deadline`): one date format for a client to parse, over REST and JSON-RPC, in
 * JSON and MessagePack alike, and the output schema of `weft.events.list` says so.
 */
import { expect, test } from 'bun:test';
import { workflow } from '../index.ts';
import { listEvents } from '../protocol/operations.ts';
import { useTestEngines } from '../testing/index.ts';
import { client } from './test-client.ts';

const greet = workflow({ name: 'greet' }).execute(async function* (_ctx, name: string) {
  return `hello, ${name}`;
});

const harness = useTestEngines();

interface WireEvent {
  type: string;
  workflowId: string | null;
  timestamp: unknown;
}

/** A run that started and completed, and a client of the handler over its engine. */
async function completedRun() {
  const t = await harness(greet);
  const send = client(t.engine);
  expect((await send('POST', '/api/v1/workflows', { type: 'greet', id: 'g-1', input: 'ada' })).status).toBe(201);
  await t.engine.handle('g-1').result();
  return send;
}

test('GET /api/v1/events answers ISO 8601 timestamps, the instant the run itself reports', async () => {
  const send = await completedRun();
  const reply = await send('GET', '/api/v1/events?after=-1');
  expect(reply.status).toBe(200);
  expect(listEvents.output.safeParse(reply.body).success).toBe(true);
  const items = (reply.body as { items: WireEvent[] }).items;
  expect(items.length).toBeGreaterThan(0);
  for (const { timestamp } of items) {
    expect(typeof timestamp).toBe('string');
    expect(new Date(timestamp as string).toISOString()).toBe(timestamp as string);
  }
  const run = (await send('GET', '/api/v1/workflows/g-1')).body as { createdAt: string };
  const started = items.find((event) => event.type === 'workflow:started' && event.workflowId === 'g-1');
  expect(started?.timestamp).toBe(run.createdAt);
});

test('weft.events.list over JSON-RPC, and REST in MessagePack, answer the same ISO timestamps', async () => {
  const send = await completedRun();
  const rest = ((await send('GET', '/api/v1/events?after=-1')).body as { items: WireEvent[] }).items;
  expect(rest.every((event) => typeof event.timestamp === 'string')).toBe(true);
  const rpc = await send('POST', '/api/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'weft.events.list', params: {} });
  expect((rpc.body as { result: { items: WireEvent[] } }).result.items).toEqual(rest);
  const packed = await send('GET', '/api/v1/events?after=-1', undefined, { accept: 'application/msgpack' });
  expect(packed.headers.get('content-type')).toStartWith('application/msgpack');
  expect((packed.body as { items: WireEvent[] }).items).toEqual(rest);
});

test('the output schema of weft.events.list refuses an epoch-millisecond timestamp', () => {
  const event = { seq: 1, type: 'workflow:started', workflowId: 'g-1', data: {} };
  expect(listEvents.output.safeParse({ items: [{ ...event, timestamp: 1_700_000_000_000 }] }).success).toBe(false);
  expect(listEvents.output.safeParse({ items: [{ ...event, timestamp: '2026-01-01T00:00:00.000Z' }] }).success).toBe(
    true,
  );
});
