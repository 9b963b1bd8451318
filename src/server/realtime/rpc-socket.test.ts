/**
 * JSON-RPC on a WebSocket: the catalog exactly as over HTTP (answers, errors, batches,
 * notifications), the subscription methods and their notifications, and the bounds of a session.
 */
import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { signal, workflow } from '../../index.ts';
import { CloseCode, MAX_EVENT_REPLAY, Subprotocol } from '../../protocol/realtime.ts';
import { testServers } from '../../testing/test-servers.ts';
import { openTestSocket, type TestSocket } from '../../testing/test-socket.ts';
import type { Principal } from '../security/auth-config.ts';

const go = signal<string>('go');
const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(go);
});
const quick = workflow({ name: 'quick' }).execute(async function* () {
  return 'done';
});
const { start } = testServers([waiter, quick]);

interface Message {
  jsonrpc?: string;
  id?: unknown;
  method?: string;
  params?: { subscription?: string; frame?: { seq: number; status?: string; type?: string }; reason?: string };
  result?: unknown;
  error?: { code: number; data: { code: string } };
}

const byId = (socket: TestSocket, id: unknown) =>
  socket
    .until((messages) => messages.some((m) => (m as Message).id === id))
    .then((messages) => messages.find((m) => (m as Message).id === id) as Message);
const notificationsOf = (socket: TestSocket, subscription: string) =>
  socket.messages.filter((m) => (m as Message).params?.subscription === subscription) as Message[];

async function rpcOverHttp(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${url}/api/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.json();
}

describe('the catalog on a socket', () => {
  test('calls, errors and batches answer exactly as over HTTP; notifications get no answer', async () => {
    const server = await start();
    await server.engine.start(waiter, undefined, { id: 'a' });
    await using rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    await rpc.opened;
    const calls = [
      { jsonrpc: '2.0', id: 1, method: 'weft.workflows.get', params: { id: 'a' } },
      { jsonrpc: '2.0', id: 2, method: 'weft.workflows.get', params: { id: 'missing' } },
      { jsonrpc: '2.0', id: 3, method: 'weft.nope' },
      { jsonrpc: '2.0', id: 4, method: 'weft.workflows.list', params: { limit: 'x' } },
      [
        { jsonrpc: '2.0', id: 5, method: 'weft.system.health' },
        { jsonrpc: '2.0', method: 'weft.system.health' },
        { jsonrpc: '1.0', id: 6, method: 'weft.system.health' },
      ],
    ];
    for (const call of calls) {
      rpc.send(call);
      const overHttp = await rpcOverHttp(server.url, call);
      const onSocket = Array.isArray(call)
        ? await rpc.until((messages) => Array.isArray(messages.at(-1))).then((messages) => messages.at(-1))
        : await byId(rpc, (call as { id: number }).id);
      expect(onSocket).toEqual(overHttp);
    }
    // A notification runs and is not answered; the next call's answer is the next message.
    const before = rpc.messages.length;
    rpc.send({ jsonrpc: '2.0', method: 'weft.workflows.signal', params: { id: 'a', name: 'go', payload: 'x' } });
    rpc.send({ jsonrpc: '2.0', id: 7, method: 'weft.workflows.result', params: { id: 'a' } });
    expect((await byId(rpc, 7)).result).toEqual({ result: 'x' });
    expect(rpc.messages.length).toBe(before + 1);
  });

  test('a message that does not parse is the parse error; MessagePack frames work both ways with weft.msgpack.v1', async () => {
    const server = await start();
    await using rpc = openTestSocket(`${server.url}/api/jsonrpc`, [Subprotocol.msgpack]);
    await rpc.opened;
    rpc.socket.send('{not json');
    await rpc.until((messages) => messages.length === 1);
    expect(rpc.messages[0]).toMatchObject({ id: null, error: { code: -32700 } });
    rpc.socket.send(
      pack({ jsonrpc: '2.0', id: 'm', method: 'weft.workflows.start', params: { type: 'quick', id: 'q' } }),
    );
    expect((await byId(rpc, 'm')).result).toMatchObject({ id: 'q' });
  });

  test('a principal without a scope gets forbidden per call; an unauthenticated upgrade is 401', async () => {
    const reader: Principal = { subject: 'reader', scopes: ['workflows:read'] };
    const server = await start({
      auth: { authenticate: (request) => (request.headers.has('x-reader') ? reader : null) },
    });
    const anonymous = await fetch(`${server.url}/api/jsonrpc`, {
      headers: {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
      },
    });
    expect(anonymous.status).toBe(401);
    // Bun's client sends the headers given here with its handshake.
    const socket = new WebSocket(server.url.replace('http', 'ws') + '/api/jsonrpc', {
      headers: { 'x-reader': '1' },
    } as unknown as string[]);
    const messages: Message[] = [];
    socket.onmessage = (event) => messages.push(JSON.parse(String(event.data)) as Message);
    await new Promise((resolve) => (socket.onopen = resolve));
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'weft.workflows.start', params: { type: 'quick' } }));
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'weft.workflows.list', params: {} }));
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'weft.events.subscribe', params: {} }));
    while (messages.length < 3) await Bun.sleep(5);
    socket.close();
    const answers = Object.fromEntries(messages.map((m) => [String(m.id), m]));
    expect(answers['1']?.error?.data.code).toBe('forbidden');
    expect(answers['2']?.result).toMatchObject({ items: [] });
    expect(answers['3']?.error?.data.code).toBe('forbidden');
  });
});

describe('subscriptions', () => {
  test('weft.workflows.subscribe: the answer names the subscription before any notification; frames follow in order, then ended', async () => {
    const server = await start();
    await server.engine.start(waiter, undefined, { id: 'w' });
    await using rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    await rpc.opened;
    rpc.send({ jsonrpc: '2.0', id: 1, method: 'weft.workflows.subscribe', params: { id: 'w' } });
    await rpc.until((messages) => messages.length >= 3);
    const subscription = (rpc.messages[0] as { result: { subscription: string } }).result.subscription;
    expect(rpc.messages[0]).toEqual({ jsonrpc: '2.0', id: 1, result: { subscription } });
    await server.engine.signal('w', go, 'x');
    await rpc.until((messages) => messages.some((m) => (m as Message).method === 'weft.subscription.ended'));
    const notes = notificationsOf(rpc, subscription);
    expect(notes.slice(0, -1).map((m) => [m.method, m.params?.frame?.seq])).toEqual([
      ['weft.workflows.changed', 1],
      ['weft.workflows.changed', 2],
      ['weft.workflows.changed', 3],
      ['weft.workflows.changed', 4],
    ]);
    expect(notes.at(-1)).toEqual({
      jsonrpc: '2.0',
      method: 'weft.subscription.ended',
      params: { subscription, reason: 'finished' },
    });
  });

  test('after resumes exactly; unsubscribe stops the notifications; an unknown run is workflow_not_found', async () => {
    const server = await start();
    await server.engine.start(waiter, undefined, { id: 'u' });
    await using rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    await rpc.opened;
    rpc.send({ jsonrpc: '2.0', id: 1, method: 'weft.workflows.subscribe', params: { id: 'u', after: 1 } });
    rpc.send({ jsonrpc: '2.0', id: 2, method: 'weft.workflows.subscribe', params: { id: 'nobody' } });
    const subscription = ((await byId(rpc, 1)).result as { subscription: string }).subscription;
    expect((await byId(rpc, 2)).error?.data.code).toBe('workflow_not_found');
    await rpc.until(() => notificationsOf(rpc, subscription).length === 1);
    expect(notificationsOf(rpc, subscription)[0]?.params?.frame?.seq).toBe(2);
    rpc.send({ jsonrpc: '2.0', id: 3, method: 'weft.workflows.unsubscribe', params: { subscription } });
    expect((await byId(rpc, 3)).result).toEqual({ unsubscribed: true });
    rpc.send({ jsonrpc: '2.0', id: 4, method: 'weft.workflows.unsubscribe', params: { subscription } });
    expect((await byId(rpc, 4)).result).toEqual({ unsubscribed: false });
    await server.engine.signal('u', go, 'x');
    rpc.send({ jsonrpc: '2.0', id: 5, method: 'weft.workflows.result', params: { id: 'u' } });
    await byId(rpc, 5);
    expect(notificationsOf(rpc, subscription).length).toBe(1);
  });

  test('weft.events.subscribe: live by default, replays from a cursor, refuses a replay of more than 1,000 retained events', async () => {
    const server = await start();
    for (let i = 0; i < 3; i++) await server.engine.start(quick, undefined, { id: `q${i}` });
    const retained = await server.engine.readEvents({ limit: 1000 });
    await using rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    await rpc.opened;
    rpc.send({ jsonrpc: '2.0', id: 1, method: 'weft.events.subscribe' });
    rpc.send({ jsonrpc: '2.0', id: 2, method: 'weft.events.subscribe', params: { after: retained.at(-2)!.seq } });
    const live = ((await byId(rpc, 1)).result as { subscription: string }).subscription;
    const replay = ((await byId(rpc, 2)).result as { subscription: string }).subscription;
    await rpc.until(() => notificationsOf(rpc, replay).length === 1);
    expect(notificationsOf(rpc, replay)[0]?.params?.frame?.seq).toBe(retained.at(-1)!.seq);
    await server.engine.start(quick, undefined, { id: 'later' });
    await rpc.until(() => notificationsOf(rpc, live).some((m) => m.params?.frame?.type === 'workflow:completed'));
    const liveSeqs = notificationsOf(rpc, live).map((m) => m.params?.frame?.seq ?? 0);
    expect(Math.min(...liveSeqs)).toBeGreaterThan(retained.at(-1)!.seq);
    expect(notificationsOf(rpc, live).every((m) => m.method === 'weft.events.published')).toBe(true);

    while ((await server.engine.readEvents({ limit: 1000 })).length < MAX_EVENT_REPLAY) {
      await Promise.all(Array.from({ length: 100 }, () => server.engine.start(quick, undefined)));
    }
    rpc.send({ jsonrpc: '2.0', id: 3, method: 'weft.events.subscribe', params: { after: -1 } });
    const refused = await byId(rpc, 3);
    expect(refused.error).toMatchObject({ code: -32602, data: { code: 'replay_window_too_large' } });
    const sse = await fetch(`${server.url}/api/v1/events?resumeFrom=-1`, { headers: { accept: 'text/event-stream' } });
    expect(sse.status).toBe(400);
  });

  test('over HTTP the subscription methods fail with websocket_required', async () => {
    const server = await start();
    const answer = await rpcOverHttp(server.url, { jsonrpc: '2.0', id: 1, method: 'weft.events.subscribe' });
    expect(answer).toMatchObject({ id: 1, error: { code: -32602, data: { code: 'websocket_required', status: 400 } } });
  });

  test('subscriptions per socket and calls in flight are bounded', async () => {
    const server = await start({ realtime: { maxSubscriptionsPerSocket: 2, maxCallsInFlight: 2 } });
    for (const id of ['a', 'b', 'c']) await server.engine.start(waiter, undefined, { id });
    await using rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    await rpc.opened;
    for (const [index, id] of ['a', 'b', 'c'].entries()) {
      rpc.send({ jsonrpc: '2.0', id: index, method: 'weft.workflows.subscribe', params: { id } });
      await byId(rpc, index);
    }
    expect((await byId(rpc, 2)).error?.data.code).toBe('too_many_subscriptions');
    // A batch of subscribes cannot pass the bound together either.
    await using batch = openTestSocket(`${server.url}/api/jsonrpc`);
    await batch.opened;
    batch.send(
      ['a', 'b', 'c'].map((id) => ({ jsonrpc: '2.0', id, method: 'weft.workflows.subscribe', params: { id } })),
    );
    const answers = (await batch.until((messages) => messages.some(Array.isArray))).find(Array.isArray) as Message[];
    expect(answers.filter((answer) => answer.error?.data.code === 'too_many_subscriptions').length).toBe(1);
    // Two result waits hold both call slots; the third call is refused at once.
    rpc.send({ jsonrpc: '2.0', id: 'r1', method: 'weft.workflows.result', params: { id: 'a' } });
    rpc.send({ jsonrpc: '2.0', id: 'r2', method: 'weft.workflows.result', params: { id: 'b' } });
    rpc.send({ jsonrpc: '2.0', id: 'r3', method: 'weft.system.health' });
    expect((await byId(rpc, 'r3')).error?.data).toMatchObject({
      code: 'too_many_subscriptions',
      details: { what: 'calls in flight', limit: 2 },
    });
    await server.engine.signal('a', go, 'x');
    expect((await byId(rpc, 'r1')).result).toEqual({ result: 'x' });
    rpc.send({ jsonrpc: '2.0', id: 'r4', method: 'weft.system.health' });
    expect((await byId(rpc, 'r4')).result).toEqual({ status: 'ok' });
  });

  test('a message over maxMessageBytes closes the socket with 1009', async () => {
    const server = await start({ realtime: { maxMessageBytes: 1024 } });
    await using rpc = openTestSocket(`${server.url}/api/jsonrpc`);
    await rpc.opened;
    rpc.send({ jsonrpc: '2.0', id: 1, method: 'weft.system.health', params: {} });
    await byId(rpc, 1);
    rpc.send({ jsonrpc: '2.0', id: 2, method: 'weft.system.health', params: { pad: 'x'.repeat(2048) } });
    expect((await rpc.closed).code).toBe(CloseCode.messageTooBig);
  });
});
