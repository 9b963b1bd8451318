import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { useTestEngines } from '../../testing/index.ts';
import { client, type Send } from '../test-client.ts';

const harness = useTestEngines();

async function server(): Promise<Send> {
  return client((await harness()).engine);
}

/** Posts a raw JSON-RPC body and returns the answer's text, so the echoed id is seen as written. */
async function rawCall(send: Send, body: string): Promise<string> {
  const reply = await send('POST', '/api/jsonrpc', body, { 'content-type': 'application/json' });
  expect(reply.status).toBe(200);
  return JSON.stringify(reply.body);
}

const health = (id: string) => `{"jsonrpc":"2.0","id":${id},"method":"weft.system.health"}`;

describe('JSON-RPC ids', () => {
  test('an integer id above 2^53 is refused with -32600 and id null, not echoed rounded', async () => {
    const send = await server();
    for (const id of ['18446744073709551616', '9007199254740993', '-9007199254740993', '1e300']) {
      const answer = await rawCall(send, health(id));
      expect(answer).not.toContain('18446744073709552000');
      expect(JSON.parse(answer)).toMatchObject({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, data: { code: 'bad_request', status: 400 } },
      });
    }
  });

  test('a fractional id is refused with -32600, since parsing may have rounded it', async () => {
    const send = await server();
    for (const id of ['0.1', '1.5', '0.30000000000000000001']) {
      expect(JSON.parse(await rawCall(send, health(id)))).toMatchObject({ id: null, error: { code: -32600 } });
    }
  });

  test('every integer id up to 2^53 - 1 in magnitude, and string and null ids, come back exactly', async () => {
    const send = await server();
    for (const id of ['9007199254740991', '-9007199254740991', '0', '7', '"18446744073709551616"', 'null']) {
      expect(await rawCall(send, health(id))).toBe(`{"jsonrpc":"2.0","id":${id},"result":{"status":"ok"}}`);
    }
  });

  test('in a batch, only the call with an unrepresentable id is refused', async () => {
    const send = await server();
    const answer = JSON.parse(await rawCall(send, `[${health('18446744073709551616')},${health('2')}]`)) as unknown;
    expect(answer).toEqual([
      expect.objectContaining({ id: null, error: expect.objectContaining({ code: -32600 }) }),
      { jsonrpc: '2.0', id: 2, result: { status: 'ok' } },
    ]);
  });

  test('a MessagePack 64-bit id beyond 2^53 is refused the same way', async () => {
    const send = await server();
    const body = pack({ jsonrpc: '2.0', id: 2n ** 63n - 1n, method: 'weft.system.health' });
    const reply = await send('POST', '/api/jsonrpc', body, { 'content-type': 'application/msgpack' });
    expect(reply.body).toMatchObject({ id: null, error: { code: -32600 } });
  });
});
