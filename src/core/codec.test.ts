import { describe, expect, test } from 'bun:test';
import { createCodec, DEFAULT_MAX_PAYLOAD_BYTES } from './codec.ts';
import { PayloadNotSerializableError, PayloadTooLargeError } from './errors.ts';

const codec = createCodec();
const roundTrip = (value: unknown): unknown => codec.decode(codec.encode(value, 'workflow input'));

function encodeError(value: unknown, what = 'workflow input', target = codec): unknown {
  try {
    target.encode(value, what);
  } catch (error) {
    return error;
  }
  throw new Error('encode was expected to throw');
}

describe('createCodec', () => {
  test('round-trips plain JSON-like values', () => {
    const value = { s: 'x', n: 1.5, b: true, nil: null, list: [1, 'two', { three: 3 }] };
    expect(roundTrip(value)).toEqual(value);
  });

  test('round-trips a Date', () => {
    const decoded = roundTrip(new Date('2024-03-01T12:34:56.789Z'));
    expect(decoded).toBeInstanceOf(Date);
    expect((decoded as Date).toISOString()).toBe('2024-03-01T12:34:56.789Z');
  });

  test('round-trips a Map with non-string keys', () => {
    const map = new Map<unknown, unknown>([
      [1, 'one'],
      ['k', { nested: true }],
    ]);
    const decoded = roundTrip(map);
    expect(decoded).toBeInstanceOf(Map);
    expect(decoded).toEqual(map);
  });

  test('round-trips a Set', () => {
    const decoded = roundTrip(new Set([1, 'a']));
    expect(decoded).toBeInstanceOf(Set);
    expect([...(decoded as Set<unknown>)]).toEqual([1, 'a']);
  });

  test.each([
    ['a small BigInt', 5n],
    ['a negative BigInt', -42n],
    ['a BigInt at the top of the 64-bit range', 2n ** 63n],
    ['a BigInt wider than 64 bits', 2n ** 64n + 1n],
    ['a negative BigInt wider than 64 bits', -(2n ** 100n) - 7n],
  ])('round-trips %s as a BigInt', (_label, value) => {
    const decoded = roundTrip(value);
    expect(typeof decoded).toBe('bigint');
    expect(decoded).toBe(value);
  });

  test.each([
    ['Uint8Array', new Uint8Array([0, 1, 255])],
    ['Int32Array', new Int32Array([-1, 2 ** 31 - 1])],
    ['Float64Array', new Float64Array([1.5, -0.25])],
    ['BigInt64Array', new BigInt64Array([1n, -1n])],
  ])('round-trips a %s with its type', (_label, value) => {
    const decoded = roundTrip(value);
    expect(decoded).toBeInstanceOf(value.constructor);
    expect(decoded).toEqual(value);
  });

  test('round-trips nested structures of mixed types', () => {
    const value = {
      at: new Date(0),
      tags: new Set(['a']),
      index: new Map([['k', [1n, new Uint8Array([7])]]]),
      deep: { list: [{ when: new Date(1) }] },
    };
    expect(roundTrip(value)).toEqual(value);
  });

  test('round-trips cycles and shared references', () => {
    const node: { name: string; self?: unknown; children: unknown[] } = { name: 'root', children: [] };
    const shared = { id: 1 };
    node.self = node;
    node.children.push(shared, shared);
    const decoded = roundTrip(node) as typeof node;
    expect(decoded.name).toBe('root');
    expect(decoded.self).toBe(decoded);
    expect(decoded.children[0]).toBe(decoded.children[1]);
  });

  test('round-trips undefined, at the top level and inside objects and arrays', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    const decoded = roundTrip({ a: undefined, list: [undefined, 1] }) as Record<string, unknown>;
    expect('a' in decoded).toBe(true);
    expect(decoded.a).toBeUndefined();
    expect(decoded.list).toEqual([undefined, 1]);
  });

  test.each([
    ['a function', { handler: () => 1 }, 'value.handler is a function'],
    ['a symbol', { tag: Symbol('t') }, 'value.tag is a symbol'],
    ['a symbol-keyed property', { nested: { [Symbol('k')]: 1 } }, 'value.nested has symbol-keyed properties'],
    ['a WeakMap', { cache: new WeakMap() }, 'value.cache is a WeakMap'],
    ['a WeakSet', [new WeakSet()], 'value[0] is a WeakSet'],
    ['a Promise', { pending: Promise.resolve(1) }, 'value.pending is a Promise'],
    ['a function inside a Map', new Map([['cb', () => 1]]), 'value.get("cb") is a function'],
    ['a symbol as a Map key', new Map([[Symbol('k'), 1]]), 'value<key> is a symbol'],
    ['a function inside a Set', new Set([() => 1]), 'value<item> is a function'],
    ['a function at the top level', () => 1, 'value is a function'],
  ])('refuses %s with payload_not_serializable and the path', (_label, value, path) => {
    const error = encodeError(value, 'result of activity "charge"');
    expect(error).toBeInstanceOf(PayloadNotSerializableError);
    expect(error).toMatchObject({ code: 'payload_not_serializable', details: { what: 'result of activity "charge"' } });
    expect((error as Error).message).toContain('result of activity "charge" cannot be stored');
    expect((error as Error).message).toContain(path);
  });

  test('refuses a function nested deep inside arrays and objects, naming the full path', () => {
    const error = encodeError({ orders: [{ items: [{ price: 1 }, { price: () => 2 }] }] });
    expect((error as Error).message).toContain('value.orders[0].items[1].price is a function');
  });

  test('refuses a payload over the default limit with payload_too_large and its sizes', () => {
    const error = encodeError({ blob: new Uint8Array(DEFAULT_MAX_PAYLOAD_BYTES) }, 'signal payload');
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({
      code: 'payload_too_large',
      details: { what: 'signal payload', limit: DEFAULT_MAX_PAYLOAD_BYTES },
    });
    const size = (error as PayloadTooLargeError).details?.size;
    expect(typeof size).toBe('number');
    expect(size as number).toBeGreaterThan(DEFAULT_MAX_PAYLOAD_BYTES);
    expect((error as Error).message).toContain(`over the limit of ${DEFAULT_MAX_PAYLOAD_BYTES} bytes`);
  });

  test('honours a custom payload limit, accepting a payload of exactly the limit', () => {
    const exact = codec.encode('x'.repeat(100), 'input').length;
    const small = createCodec(exact);
    expect(small.decode(small.encode('x'.repeat(100), 'input'))).toBe('x'.repeat(100));
    const error = encodeError('x'.repeat(101), 'input', small);
    expect(error).toMatchObject({ code: 'payload_too_large', details: { size: exact + 1, limit: exact } });
  });
});

describe('small scalars', () => {
  test('every small integer, boolean and null round-trips through the fast decode path', () => {
    const codec = createCodec();
    const values: unknown[] = [
      true,
      false,
      null,
      undefined,
      -33,
      -32,
      -1,
      0,
      1,
      127,
      128,
      255,
      256,
      65535,
      65536,
      -129,
      1.5,
    ];
    for (let n = -40; n < 70_000; n += 7) values.push(n);
    for (const value of values) expect(codec.decode(codec.encode(value, 'v'))).toBe(value as never);
  });
});
