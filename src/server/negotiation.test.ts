import { describe, expect, test } from 'bun:test';
import { pack, unpack } from 'msgpackr';
import {
  encodeResponse,
  JSON_CONTENT_TYPE,
  MAX_BODY_DEPTH,
  MediaType,
  readRequestBody,
  responseFormat,
} from './negotiation.ts';

const JSON_BODY = { 'content-type': 'application/json' };
const post = (
  body: string | Uint8Array | ReadableStream<Uint8Array> | null,
  headers: Record<string, string> = JSON_BODY,
) => new Request('http://weft.test/x', { method: 'POST', body, headers });
const failure = async (request: Request, limit = 1024) => {
  try {
    await readRequestBody(request, limit);
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'accepted';
};
const stream = (...chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });

describe('reading request bodies', () => {
  test('JSON (with or without a charset, or a +json type) and MessagePack are decoded', async () => {
    expect(await readRequestBody(post('{"a":1}', { 'content-type': 'application/json; charset=utf-8' }), 1024)).toEqual(
      { a: 1 },
    );
    expect(await readRequestBody(post('{"a":1}'), 1024)).toEqual({ a: 1 });
    expect(await readRequestBody(post('[1]', { 'content-type': 'application/problem+json' }), 1024)).toEqual([1]);
    for (const type of ['application/msgpack', 'application/x-msgpack']) {
      expect(await readRequestBody(post(pack({ a: [1, 'b'] }), { 'content-type': type }), 1024)).toEqual({
        a: [1, 'b'],
      });
    }
  });

  test('MessagePack maps become plain objects as JSON.parse builds them, a __proto__ key an own property', async () => {
    const body = pack(
      new Map<unknown, unknown>([
        ['__proto__', { polluted: true }],
        [1, [new Map([['x', 1]])]],
      ]),
    );
    const decoded = (await readRequestBody(post(body, { 'content-type': 'application/msgpack' }), 1024)) as object;
    expect(decoded).toEqual(JSON.parse('{"__proto__":{"polluted":true},"1":[{"x":1}]}') as object);
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('an empty body is undefined, whatever its Content-Type', async () => {
    expect(await readRequestBody(post(null), 1024)).toBeUndefined();
    expect(await readRequestBody(post('', { 'content-type': 'text/plain' }), 1024)).toBeUndefined();
  });

  test('bad bytes are a bad request, never a thrown SyntaxError', async () => {
    expect(await failure(post('{"a":'))).toBe('bad_request');
    expect(await failure(post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])))).toBe('bad_request');
    expect(await failure(post(new Uint8Array([0x81]), { 'content-type': 'application/msgpack' }))).toBe('bad_request');
    expect(await failure(post(new Uint8Array([1, 2]), { 'content-type': 'application/msgpack' }))).toBe('bad_request');
  });

  test('bodies nested deeper than the limit are refused', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(await readRequestBody(post(deep(MAX_BODY_DEPTH)), 1_000_000)).toBeArray();
    expect(await failure(post(deep(MAX_BODY_DEPTH + 1)), 1_000_000)).toBe('bad_request');
    expect(await failure(post(deep(200_000)), 1_000_000)).toBe('bad_request');
  });

  test('a body without Content-Type is unsupported, refused before a byte is read when its length is declared', async () => {
    expect(await failure(post('{"a":1}', {}))).toBe('unsupported_media_type');
    expect(await failure(post(stream(new TextEncoder().encode('{}')), {}))).toBe('unsupported_media_type');
    let pulled = false;
    const untouched = new ReadableStream<Uint8Array>(
      {
        pull() {
          pulled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const declared = new Request('http://weft.test/x', {
      method: 'POST',
      body: untouched,
      headers: { 'content-length': '100', 'content-type': 'text/plain' },
    });
    expect(await failure(declared)).toBe('unsupported_media_type');
    expect(pulled).toBe(false);
    // No body at all needs no type.
    expect(await readRequestBody(post(null, {}), 1024)).toBeUndefined();
    expect(await readRequestBody(post('', { 'content-length': '0' }), 1024)).toBeUndefined();
  });

  test('other media types are unsupported', async () => {
    expect(await failure(post('a=1', { 'content-type': 'application/x-www-form-urlencoded' }))).toBe(
      'unsupported_media_type',
    );
    expect(await failure(post('{}', { 'content-type': 'text/plain' }))).toBe('unsupported_media_type');
  });

  test('a declared Content-Length over the limit is refused before reading; a bad one is a bad request', async () => {
    expect(await failure(post('{}', { 'content-length': '5000' }))).toBe('request_too_large');
    expect(await failure(post('{}', { 'content-length': 'lots' }))).toBe('bad_request');
  });

  test('a stream without a length is counted while read and refused once over the limit', async () => {
    const kib = new Uint8Array(512).fill(0x20);
    expect(await failure(post(stream(kib, kib, kib)))).toBe('request_too_large');
    expect(
      await readRequestBody(post(stream(new TextEncoder().encode('{"a"'), new TextEncoder().encode(':2}'))), 1024),
    ).toEqual({ a: 2 });
  });
});

describe('response formats', () => {
  const accept = (value?: string) =>
    responseFormat(new Request('http://weft.test/', value === undefined ? {} : { headers: { accept: value } }));

  test('MessagePack when Accept lists it, JSON otherwise', () => {
    expect(accept()).toBe(MediaType.json);
    expect(accept('*/*')).toBe(MediaType.json);
    expect(accept('application/msgpack')).toBe(MediaType.msgpack);
    expect(accept('application/json, application/x-msgpack')).toBe(MediaType.msgpack);
    expect(accept('application/msgpack;q=0')).toBe(MediaType.json);
    expect(accept('application/json, application/msgpack;q=0.5')).toBe(MediaType.json);
  });

  test('undefined is null at the top and an absent field inside, in both formats', async () => {
    const json = encodeResponse({ a: undefined, b: [undefined] }, 200, MediaType.json);
    expect(json.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    expect(await json.text()).toBe('{"b":[null]}');
    expect(await encodeResponse(undefined, 200, MediaType.json).text()).toBe('null');
    const packed = encodeResponse({ a: undefined, b: 1 }, 201, MediaType.msgpack);
    expect(packed.status).toBe(201);
    expect(packed.headers.get('content-type')).toBe('application/msgpack');
    expect(unpack(new Uint8Array(await packed.arrayBuffer()))).toEqual({ b: 1 });
    expect(unpack(new Uint8Array(await encodeResponse(undefined, 200, MediaType.msgpack).arrayBuffer()))).toBeNull();
  });

  test('values JSON cannot spell leave in the shape MessagePack gives them', async () => {
    const value = {
      m: new Map([['k', 1]]),
      s: new Set([1, 2]),
      small: 5n,
      big: 2n ** 70n,
      bytes: new Uint8Array([1, 2]),
      e: new Error('x'),
    };
    expect(await encodeResponse(value, 200, MediaType.json).json()).toEqual({
      m: { k: 1 },
      s: [1, 2],
      small: 5,
      big: '1180591620717411303424',
      bytes: [1, 2],
      e: { name: 'Error', message: 'x' },
    });
  });
});
