import { expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { signal, workflow } from '../index.ts';
import { useTestEngines } from '../testing/index.ts';
import { handleRequest } from './handler-index.ts';

const go = signal<string>('go');
const order = workflow({ name: 'order' }).execute(async function* (ctx) {
  ctx.onUpdate('discount', (pct: number) => pct);
  ctx.onQuery('status', () => 'waiting');
  return yield* ctx.waitForSignal(go);
});
const double = workflow({ name: 'double' }).execute(async function* (_ctx, n: number) {
  return n * 2;
});

const harness = useTestEngines();

/** A seeded generator, so a failing case is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  method: string;
  path: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

function malformedRequests(): Case[] {
  const next = random(5);
  const bytes = (max: number, first?: number) => {
    const length = 1 + Math.floor(next() * max);
    const out = Uint8Array.from({ length }, () => Math.floor(next() * 256));
    if (first !== undefined) out[0] = first;
    return length === 1 && first !== undefined ? Uint8Array.of(first, 0x01) : out;
  };
  const json = { 'content-type': 'application/json' };
  const msgpack = { 'content-type': 'application/msgpack' };
  const cases: Case[] = [];

  // Random bytes, as JSON, as MessagePack and with no Content-Type, to routes whose empty input is
  // invalid (start needs a type, PATCH needs attributes) or whose run does not exist.
  const bodyRoutes = [
    ['POST', '/api/v1/workflows'],
    ['PATCH', '/api/v1/workflows/o-1/attributes'],
    ['POST', '/api/v1/workflows/missing/signal/go'],
    ['POST', '/api/v1/workflows/missing/update/discount'],
    ['POST', '/v1/workflows/missing/query/status'],
  ] as const;
  for (let i = 0; i < 90; i++) {
    const [method, path] = bodyRoutes[i % bodyRoutes.length]!;
    const headers = [json, msgpack, {}][i % 3]!;
    cases.push({ method, path, body: bytes(200), headers });
  }
  // Random bytes to JSON-RPC: 0xff is neither UTF-8 nor a whole MessagePack value with bytes after it.
  for (let i = 0; i < 20; i++) {
    cases.push({ method: 'POST', path: '/api/jsonrpc', body: bytes(100, 0xff), headers: i % 2 ? json : msgpack });
  }

  // Truncated JSON of valid bodies.
  const valid = [
    ['POST', '/api/v1/workflows', { type: 'double', id: 'new-1', input: 21, executionTimeout: '1h' }],
    ['PATCH', '/api/v1/workflows/o-1/attributes', { attributes: { region: 'eu', tier: 2 } }],
    ['POST', '/api/v1/workflows/o-1/signal/go', { payload: { note: 'now' } }],
    ['POST', '/api/v1/workflows/o-1/update/discount', { payload: 10, timeout: '5s', idempotencyKey: 'k' }],
    ['POST', '/api/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'weft.system.health' }],
  ] as const;
  for (let i = 0; i < 60; i++) {
    const [method, path, body] = valid[i % valid.length]!;
    const text = JSON.stringify(body);
    cases.push({ method, path, body: text.slice(0, 1 + Math.floor(next() * (text.length - 1))), headers: json });
  }

  // Wrong types, missing fields, huge numbers.
  const start = (body: unknown) => ({
    method: 'POST',
    path: '/api/v1/workflows',
    body: JSON.stringify(body),
    headers: json,
  });
  const wrong: unknown[] = [
    {},
    { input: 1 },
    { type: 5 },
    { type: '' },
    { type: null },
    { type: ['double'] },
    { type: { name: 'double' } },
    { type: 'double', id: 7 },
    { type: 'double', id: '' },
    { type: 'double', id: 'x'.repeat(300) },
    { type: 'double', idempotencyKey: 1 },
    { type: 'double', executionTimeout: -1 },
    { type: 'double', executionTimeout: 1.5 },
    { type: 'double', executionTimeout: '5 minutes' },
    { type: 'double', executionTimeout: {} },
    { type: 'double', executionTimeout: 1e300 },
    { type: 'not-registered' },
    { type: 'double', id: 'o-1' },
  ];
  for (const body of wrong) cases.push(start(body));
  cases.push({ ...start({}), body: '{"type":"double","executionTimeout":1e400}' });
  cases.push({ ...start({}), body: '{"type":1e400}' });
  cases.push({ ...start({}), body: `{"type":"double","input":${'['.repeat(5000)}${']'.repeat(5000)}}` });
  cases.push({ ...start({}), body: '[{"type":"double"}]' });
  cases.push({ ...start({}), body: '"double"' });
  cases.push({ ...start({}), body: 'null' });
  cases.push({ ...start({}), body: '{"type":"double"}{"type":"double"}' });
  cases.push({ ...start({}), body: '\uFEFF\uFEFF{}' });
  cases.push({ method: 'POST', path: '/api/v1/workflows', body: pack(['double']), headers: msgpack });
  cases.push({ method: 'POST', path: '/api/v1/workflows', body: pack({ type: 1n << 60n }), headers: msgpack });
  cases.push({
    method: 'POST',
    path: '/api/v1/workflows',
    body: Uint8Array.of(0xc7, 3, 0x70, 1, 2, 3),
    headers: msgpack,
  });
  const patches: unknown[] = [
    {},
    { attributes: null },
    { attributes: [1] },
    { attributes: 'x' },
    { attributes: { '': 1 } },
    { attributes: { 'bad name': 1 } },
    { attributes: { a: { nested: true } } },
    { attributes: { a: 'x'.repeat(2000) } },
    { attributes: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`a${i}`, i])) },
  ];
  for (const body of patches) {
    cases.push({
      method: 'PATCH',
      path: '/api/v1/workflows/o-1/attributes',
      body: JSON.stringify(body),
      headers: json,
    });
  }
  const updates: unknown[] = [
    { timeout: -5 },
    { timeout: 'soon' },
    { timeout: 1e308 },
    { idempotencyKey: '' },
    { id: 'other' },
  ];
  for (const body of updates) {
    cases.push({
      method: 'POST',
      path: '/api/v1/workflows/o-1/update/discount',
      body: JSON.stringify(body),
      headers: json,
    });
  }
  cases.push({ method: 'POST', path: '/api/v1/workflows/o-1/update/nothing', body: '{}', headers: json });
  cases.push({ method: 'POST', path: '/api/v1/workflows/o-1/query/nothing', body: '{}', headers: json });
  cases.push({ method: 'POST', path: '/api/v1/workflows/done-1/signal/go', body: '{}', headers: json });
  cases.push({ method: 'POST', path: '/api/v1/workflows/done-1/cancel' });
  cases.push({ method: 'POST', path: '/api/v1/workflows/o-1/signal/weft:child', body: '{}', headers: json });

  // Limits and media types.
  cases.push({ ...start({}), body: `{"type":"double","input":"${'x'.repeat(1024 * 1024)}"}` });
  cases.push({ ...start({}), headers: { 'content-type': 'text/plain' }, body: '{"type":"double"}' });
  cases.push({ ...start({}), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'type=double' });
  cases.push({ ...start({}), headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' });
  cases.push({ ...start({}), headers: { 'content-type': 'application/json', 'content-length': 'NaN' }, body: '{}' });
  cases.push({
    ...start({}),
    headers: { 'content-type': 'application/json', 'content-length': '99999999999' },
    body: '{}',
  });

  // Bad percent-encoding in paths, for each route shape.
  for (const bad of ['%', '%zz', '%E0%A4%A', '%C0', '%FF', '%ED%A0%80', 'a%', '%%41']) {
    cases.push({ method: 'GET', path: `/api/v1/workflows/${bad}` });
    cases.push({ method: 'GET', path: `/v1/workflows/${bad}/result` });
    cases.push({ method: 'DELETE', path: `/api/v1/workflows/${bad}` });
    cases.push({ method: 'POST', path: `/api/v1/workflows/o-1/signal/${bad}`, body: '{}', headers: json });
    cases.push({ method: 'GET', path: `/api/v1/updates/${bad}` });
  }

  // Unknown routes.
  const segments = ['api', 'v1', 'v2', 'workflows', 'x', '', 'updates', 'signal', 'aggregate', '..', '%2F'];
  for (let i = 0; i < 40; i++) {
    const count = 1 + Math.floor(next() * 5);
    const path = Array.from({ length: count }, () => segments[Math.floor(next() * segments.length)]!).join('/');
    const candidate = `/${path}`;
    if (/^\/(api\/)?v1\/(workflows(\/(aggregate|x))?|health|metrics|updates\/x)$/.test(candidate)) continue;
    cases.push({ method: ['GET', 'POST', 'DELETE'][i % 3]!, path: candidate });
  }
  for (const path of [
    '/api/v1/workflows/',
    '/api/v1//workflows',
    '/API/V1/WORKFLOWS',
    '/api/v1/workflows/o-1/result/extra',
    '/jsonrpc',
  ]) {
    cases.push({ method: 'GET', path });
  }

  // Bad query values.
  const queries = [
    'status=running&status=nope',
    'stauts=failed',
    'type=',
    'limit=-1',
    'limit=1e400',
    'limit=1.5',
    'limit=ten',
    'offset=-3',
    'offset=1&offset=2',
    'created_after=2026-13-45',
    'created_before=now',
    'updated_after=1700000000',
    'deadline_before=',
    'failure_category=oops',
    'include=failureCategory&include=input',
    'include=everything',
    'attribute.=x',
    'attribute.a=1&attribute.a=2',
    'attribute.a=%22unterminated%5C%22',
    'attribute.bad%20name=1',
    'attributes=x',
    'id_prefix=',
    'group_by=status',
    'parent_id=',
    '%zz=1',
  ];
  for (const query of queries) cases.push({ method: 'GET', path: `/api/v1/workflows?${query}` });
  for (const query of [
    '',
    'group_by=',
    'group_by=color',
    'group_by=attribute:',
    'group_by=status&limit=2',
    'group_by=status&status=x',
  ]) {
    cases.push({ method: 'GET', path: `/api/v1/workflows/aggregate?${query}` });
  }
  for (const query of ['after=-2', 'after=x', 'limit=0', 'limit=5000', 'cursor=1']) {
    cases.push({ method: 'GET', path: `/api/v1/events?${query}` });
  }
  cases.push({ method: 'GET', path: '/api/v1/workflows/o-1?include=input' });
  cases.push({ method: 'GET', path: '/v1/health?verbose=true' });

  // Wrong methods.
  const routes = [
    '/api/v1/workflows',
    '/api/v1/workflows/aggregate',
    '/api/v1/workflows/o-1',
    '/api/v1/workflows/o-1/result',
    '/api/v1/workflows/o-1/cancel',
    '/api/v1/workflows/o-1/signal/go',
    '/api/v1/workflows/o-1/attributes',
    '/api/v1/updates/u',
    '/v1/health',
    '/v1/metrics',
    '/api/jsonrpc',
    '/openapi.json',
    '/openrpc.json',
  ];
  for (const path of routes) {
    for (const method of ['PUT', 'OPTIONS', 'HEAD', 'TRACE', 'PATCH', 'DELETE']) {
      if (method === 'PATCH' && path.endsWith('/attributes')) continue;
      if (method === 'DELETE' && path === '/api/v1/workflows/o-1') continue;
      cases.push({ method, path });
    }
  }
  return cases;
}

test('hundreds of malformed requests are each a 4xx with an error body, and the handler keeps serving', async () => {
  const t = await harness(order, double);
  await t.engine.start(order, undefined, { id: 'o-1' });
  await (await t.engine.start(double, 1, { id: 'done-1' })).result();
  const cases = malformedRequests();
  expect(cases.length).toBeGreaterThan(400);

  const wrong: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void wrong.push(`console.error: ${args.map(String).join(' ')}`);
  try {
    for (const [index, c] of cases.entries()) {
      const init: RequestInit = { method: c.method, headers: c.headers ?? {} };
      if (c.body !== undefined) init.body = c.body;
      const response = await handleRequest(new Request(`http://weft.test${c.path}`, init), t.engine);
      const text = c.method === 'HEAD' ? '' : await response.text();
      const label = `#${index} ${c.method} ${c.path.slice(0, 80)} → ${response.status} ${text.slice(0, 160)}`;
      if (response.status < 400 || response.status >= 500) {
        wrong.push(label);
        continue;
      }
      if (c.method === 'HEAD') continue;
      let body: { error?: { code?: unknown; message?: unknown } };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        wrong.push(`${label} (not JSON)`);
        continue;
      }
      if (typeof body.error?.code !== 'string' && typeof body.error?.code !== 'number')
        wrong.push(`${label} (no code)`);
      if (typeof body.error?.message !== 'string') wrong.push(`${label} (no message)`);
    }
  } finally {
    console.error = original;
  }
  expect(wrong).toEqual([]);

  // Still serving.
  const started = await handleRequest(
    new Request('http://weft.test/api/v1/workflows', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'double', id: 'after', input: 21 }),
    }),
    t.engine,
  );
  expect(started.status).toBe(201);
  const result = await handleRequest(new Request('http://weft.test/api/v1/workflows/after/result'), t.engine);
  expect(await result.json()).toEqual({ result: 42 });
  const signalled = await handleRequest(
    new Request('http://weft.test/v1/workflows/o-1/signal/go', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"payload":"ok"}',
    }),
    t.engine,
  );
  expect(signalled.status).toBe(200);
  expect(await t.engine.handle('o-1').result()).toBe('ok');
});
