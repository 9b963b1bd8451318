/**
 * Cursor pages over the wire, from a client's side: `HttpClient.listWorkflows` with `cursor` over
 * REST, the same pages over JSON-RPC, and a cursor the server did not issue for the filter refused
 * as a 400 `invalid_cursor` (JSON-RPC -32602), never a 500 or a wrong page.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { WeftError } from '../core/errors.ts';
import { Engine, workflow } from '../index.ts';
import { MAX_CURSOR_LENGTH } from '../engine/list-cursor.ts';
import { listWorkflows } from '../protocol/operations.ts';
import { serve, type WeftServer } from '../server/index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { HttpClient } from './index.ts';

const task = workflow({ name: 'task' }).execute(async function* (_ctx, input: { n: number }) {
  return input.n;
});

let engine: Engine;
let server: WeftServer;
let client: HttpClient;
const ids: string[] = [];

beforeAll(async () => {
  engine = await Engine.create({ storage: new MemoryStorage(), workflows: [task], shutdownGracePeriod: 0 });
  for (let n = 0; n < 250; n++)
    ids.push((await engine.start(task, { n }, { id: `t-${String(n).padStart(3, '0')}` })).id);
  server = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
  client = new HttpClient({ baseUrl: server.url });
});

afterAll(async () => {
  await server.stop();
  await engine.close();
});

test('paging 250 runs over REST by cursor, 100 at a time, lists each run once and ends with nextCursor null', async () => {
  const seen: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await client.listWorkflows({ type: 'task', limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    expect(page).toMatchObject({ total: 250, totalIsExact: true, offset: 0, limit: 100 });
    seen.push(...page.items.map((item) => item.id));
    sizes.push(page.items.length);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  expect(sizes).toEqual([100, 100, 50]);
  expect(new Set(seen).size).toBe(250);
  expect([...seen].sort()).toEqual([...ids].sort());
});

test('the same pages over JSON-RPC, where a foreign cursor is -32602 with data.code invalid_cursor', async () => {
  const call = async (params: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/api/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'weft.workflows.list', params }),
    });
    return (await response.json()) as {
      result?: { items: { id: string }[]; nextCursor: string | null };
      error?: { code: number; data: { code: string } };
    };
  };
  const first = await call({ limit: 200 });
  const rest = await call({ limit: 200, cursor: first.result!.nextCursor });
  expect(rest.result!.nextCursor).toBeNull();
  expect(new Set([...first.result!.items, ...rest.result!.items].map((item) => item.id)).size).toBe(250);
  const foreign = await call({ limit: 200, status: 'failed', cursor: first.result!.nextCursor });
  expect(foreign.error).toMatchObject({ code: -32602, data: { code: 'invalid_cursor' } });
});

test('a garbled cursor, a foreign one, or one with an offset is a 400 invalid_cursor over REST', async () => {
  const { nextCursor } = await client.listWorkflows({ limit: 10 });
  for (const input of [
    { cursor: `${nextCursor!.slice(0, -3)}AAA` },
    { cursor: nextCursor!, type: 'task' },
    { cursor: nextCursor!, offset: 10 },
  ]) {
    const refusal = await client.listWorkflows(input).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(WeftError);
    expect(refusal).toMatchObject({ code: 'invalid_cursor', details: { status: 400, field: 'cursor' } });
  }
});

test("the documents' longest cursor is the engine's", () => {
  expect(listWorkflows.input.shape.cursor.unwrap().maxLength).toBe(MAX_CURSOR_LENGTH);
});
