/**
 * `bun bench/rest-breakdown.ts`: where one REST start (`POST /api/v1/workflows`) and one REST get
 * (`GET /api/v1/workflows/:id`) spend their time, piece by piece, one request at a time (no
 * queueing), in microseconds per request. Not part of `npm run bench`: it explains the W1/W2/W3 REST
 * rows (docs/performance.md, "Where a REST request spends its time").
 *
 * Each piece is timed alone with the server's own functions: reading and parsing the body
 * (`readRequestBody`), validating the input against the operation's schema (`parseOperationInput`),
 * finding the route in a table built like the handler's (`RouteTable` over the catalog),
 * negotiating and encoding the answer (`responseFormat` + `encodeResponse`), the engine call on
 * `MemoryStorage` and on SQLite; then the whole `handleRequest` without a socket, a `Bun.serve`
 * hello-world round trip through `fetch`, and the whole thing through `serve()` and `fetch`.
 *
 * Trap it avoids: charging the engine for the event loop. A SQLite commit waits for the group-commit
 * boundary (`setImmediate`); timed one at a time, that wait is part of the engine figure.
 */
import { Engine, workflow } from '../src/index.ts';
import { getWorkflow, startWorkflow } from '../src/protocol/operations.ts';
import { catalog } from '../src/server/catalog.ts';
import { handleRequest } from '../src/server/handler.ts';
import { serve } from '../src/server/index.ts';
import { encodeResponse, readRequestBody, responseFormat } from '../src/server/negotiation.ts';
import { parseOperationInput } from '../src/server/operation-input.ts';
import { RouteTable } from '../src/server/route-table.ts';
import { MemoryStorage } from '../src/storage/memory/index.ts';
import { SQLiteStorage } from '../src/storage/sqlite/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.argv[2] ?? 5_000);
const BASE = 'http://127.0.0.1:1';
const START_BODY = JSON.stringify({ type: 'waiter', input: 1 });

const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal<number>('ping');
});

/** Mean microseconds per call of `fn`, after a warm-up of a fifth as many calls. */
async function micros(fn: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < N / 5; i++) await fn(i);
  const start = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  return ((performance.now() - start) * 1000) / N;
}

const startRequest = (): Request =>
  new Request(`${BASE}/api/v1/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: START_BODY,
  });

const routes = new RouteTable(
  [...catalog.values()].map((entry) => ({
    method: entry.spec.rest.method,
    pattern: `/api/v1${entry.spec.rest.path}`,
    target: entry,
  })),
);

const dir = mkdtempSync(join(tmpdir(), 'weft-rest-breakdown-'));
const memory = await Engine.create({ storage: new MemoryStorage(), workflows: [waiter] });
const sqliteStorage = new SQLiteStorage(join(dir, 'breakdown.db'));
const sqlite = await Engine.create({ storage: sqliteStorage, workflows: [waiter] });
const known = (await memory.start(waiter, undefined)).id;
const knownOnDisk = (await sqlite.start(waiter, undefined)).id;
const getRequest = (): Request => new Request(`${BASE}/api/v1/workflows/${known}`, { headers: { accept: '*/*' } });

const hello = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch: async (request) => {
    if (request.method === 'POST') await request.text();
    return Response.json({ id: 'hello' }, { status: 201 });
  },
});
const server = serve({ engine: sqlite, port: 0, unauthenticatedAccess: 'allow' });
const serverUrl = String(server.url).replace(/\/$/, '');

const rows: [string, number][] = [];
const row = async (name: string, fn: (i: number) => unknown): Promise<void> => {
  rows.push([name, await micros(fn)]);
};

try {
  // ---- start --------------------------------------------------------------------------------
  await row('start: new Request (what Bun.serve builds natively)', () => startRequest());
  await row('start: new Request + readRequestBody (body read and JSON parse)', () =>
    readRequestBody(startRequest(), 1 << 20),
  );
  const raw = JSON.parse(START_BODY) as unknown;
  await row('start: parseOperationInput (zod validation)', () => parseOperationInput(startWorkflow, raw));
  await row('start: route match over the catalog', () => routes.match('POST', '/api/v1/workflows'));
  const request = startRequest();
  await row('start: responseFormat + encodeResponse (negotiation, JSON answer)', () =>
    encodeResponse({ id: 'x' }, 201, responseFormat(request)),
  );
  await row('start: engine.start on MemoryStorage', () => memory.start(waiter, undefined));
  await row('start: engine.start on SQLite (one at a time: includes the group-commit turn)', () =>
    sqlite.start(waiter, undefined),
  );
  await row('start: handleRequest on MemoryStorage (no socket)', () => handleRequest(startRequest(), memory));
  await row('start: Bun.serve hello-world POST through fetch (the socket)', async () => {
    const response = await fetch(hello.url, { method: 'POST', body: START_BODY });
    await response.text();
  });
  await row('start: serve() on SQLite through fetch (the whole request)', async () => {
    const response = await fetch(`${serverUrl}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: START_BODY,
    });
    await response.text();
  });
  // ---- get ----------------------------------------------------------------------------------
  await row('get: parseOperationInput (zod validation)', () => parseOperationInput(getWorkflow, { id: known }));
  await row('get: route match over the catalog', () => routes.match('GET', `/api/v1/workflows/${known}`));
  const state = await memory.get(known);
  await row('get: responseFormat + encodeResponse (negotiation, JSON answer)', () =>
    encodeResponse(state, 200, responseFormat(getRequest())),
  );
  await row('get: engine.get on MemoryStorage', () => memory.get(known));
  await row('get: engine.get on SQLite', () => sqlite.get(knownOnDisk));
  await row('get: handleRequest on MemoryStorage (no socket)', () => handleRequest(getRequest(), memory));
  await row('get: Bun.serve hello-world GET through fetch (the socket)', async () => {
    await (await fetch(hello.url)).text();
  });
  await row('get: serve() on SQLite through fetch (the whole request)', async () => {
    await (await fetch(`${serverUrl}/api/v1/workflows/${knownOnDisk}`)).text();
  });
} finally {
  await server.stop();
  await hello.stop(true);
  await memory.close();
  await sqlite.close();
  await sqliteStorage.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`REST breakdown, mean µs per request over ${N} sequential calls, Bun ${Bun.version}\n`);
const width = Math.max(...rows.map(([name]) => name.length));
for (const [name, us] of rows) console.log(`${name.padEnd(width)}  ${us.toFixed(1).padStart(8)} µs`);
