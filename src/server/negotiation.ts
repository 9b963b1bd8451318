/**
 * Content negotiation and request body reading: bodies arrive as JSON or MessagePack, responses
 * leave as MessagePack when `Accept` asks for it and as JSON otherwise.
 *
 * Traps it avoids:
 * - A 500 for a bad body. Every way a body can be wrong — over the limit, an unsupported type,
 *   bytes that are not UTF-8, JSON or MessagePack, nesting deep enough to exhaust a stack further
 *   in — becomes a `WeftError` with a 4xx code here, before any handler runs.
 * - Trusting `Content-Length`. A declared length over the limit is refused without reading, and a
 *   body without one (a stream) is counted while it is read and abandoned the moment it passes
 *   the limit, so a client cannot make the server buffer more than `maxBodyBytes`.
 * - Wire formats only msgpackr can read. Responses use standard MessagePack (no record or
 *   structured-clone extensions), so any MessagePack library decodes them.
 */
import { Packr, Unpackr, type Options } from 'msgpackr';
import { BadRequestError, RequestTooLargeError, UnsupportedMediaTypeError } from './server-errors.ts';

/** The media types Weft reads and writes. */
export const MediaType = {
  json: 'application/json',
  msgpack: 'application/msgpack',
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/** Content-Type of JSON responses. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Deepest nesting of arrays and objects accepted in a request body. */
export const MAX_BODY_DEPTH = 128;

const MSGPACK_TYPES: ReadonlySet<string> = new Set(['application/msgpack', 'application/x-msgpack']);

/**
 * Standard MessagePack out: maps for objects, absent fields for `undefined`, big integers as
 * strings. (`skipValues` and `int64AsType: 'auto'` are msgpackr options its typings do not list yet.)
 */
const packOptions: Options & { skipValues: unknown[] } = {
  useRecords: false,
  skipValues: [undefined],
  encodeUndefinedAsNil: true,
  largeBigIntToString: true,
};
const packr = new Packr(packOptions);
/**
 * Standard MessagePack in: maps as `Map`s (turned into plain objects by `objectsOf`), 64-bit
 * integers as numbers when they fit. Not msgpackr's own `mapsAsObjects`: it renames a `__proto__`
 * key to `__proto_`, silently changing what the caller sent.
 */
const unpackOptions = { useRecords: false, mapsAsObjects: false, int64AsType: 'auto' };
const unpackr = new Unpackr(unpackOptions as Options);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and decodes a request body: `undefined` when there is none, otherwise the decoded value.
 * Throws `RequestTooLargeError` (413), `UnsupportedMediaTypeError` (415) or `BadRequestError` (400).
 *
 * A body must say what it is: JSON (`application/json` or any `+json` type) or MessagePack. One
 * without `Content-Type` is a 415 like one in another type — a browser page on another site can
 * send a form or `text/plain` body without asking first, never a JSON one. A declared length is
 * checked, and the type too, before a byte is read.
 */
export async function readRequestBody(request: Request, maxBytes: number): Promise<unknown> {
  const declared = request.headers.get('content-length');
  const contentType = request.headers.get('content-type');
  const format = bodyFormatOf(contentType);
  let bytes: Uint8Array;
  if (declared !== null && declared.trim() !== '') {
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0) throw new BadRequestError('Content-Length is not a valid length');
    if (length === 0) return undefined;
    if (length > maxBytes) throw new RequestTooLargeError(maxBytes);
    if (format === undefined) throw new UnsupportedMediaTypeError(contentType ?? '');
    // HTTP framing holds the body to its declared length: read it in one go, not chunk by chunk.
    bytes = await readWhole(request, maxBytes);
  } else {
    bytes = await readLimited(request, maxBytes);
  }
  if (bytes.length === 0) return undefined;
  if (format === MediaType.json) return checkDepth(parseJson(bytes));
  if (format === MediaType.msgpack) return objectsOf(parseMsgpack(bytes), 1);
  throw new UnsupportedMediaTypeError(contentType ?? '');
}

/**
 * The response format a request asks for: MessagePack when `Accept` lists `application/msgpack`
 * (or `application/x-msgpack`) with a weight above zero and not below JSON's, JSON otherwise.
 */
export function responseFormat(request: Request): MediaType {
  const accept = request.headers.get('accept');
  if (accept === null) return MediaType.json;
  let msgpack = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = weightOf(parameters);
    if (MSGPACK_TYPES.has(type)) msgpack = Math.max(msgpack, q);
    else if (type === MediaType.json) json = Math.max(json, q);
  }
  return msgpack > 0 && msgpack >= json ? MediaType.msgpack : MediaType.json;
}

/**
 * A response with `value` as its body in `format`. `undefined` becomes `null` at the top and an
 * absent field inside objects (as in JSON), in both formats.
 */
export function encodeResponse(
  value: unknown,
  status: number,
  format: MediaType,
  headers?: Record<string, string>,
): Response {
  const head = new Headers(headers);
  if (format === MediaType.msgpack) {
    head.set('content-type', MediaType.msgpack);
    return new Response(packr.pack(value === undefined ? null : value), { status, headers: head });
  }
  head.set('content-type', JSON_CONTENT_TYPE);
  return new Response(JSON.stringify(value === undefined ? null : value, jsonReplacer), { status, headers: head });
}

/**
 * One WebSocket message: JSON text, or MessagePack bytes for `format` msgpack — the same encoding
 * as `encodeResponse`, for frames and JSON-RPC answers on a socket.
 *
 * @example
 * socket.send(encodeMessage({ jsonrpc: '2.0', id: 1, result: null }, MediaType.json));
 */
export function encodeMessage(value: unknown, format: MediaType): string | Uint8Array {
  if (format === MediaType.msgpack) return packr.pack(value === undefined ? null : value);
  return JSON.stringify(value === undefined ? null : value, jsonReplacer);
}

/**
 * A WebSocket message a client sent, decoded with the guards of a request body: a text frame as
 * JSON, a binary frame as MessagePack, nesting bounded. Throws `BadRequestError` when it does not parse.
 *
 * @example
 * const body = decodeMessage(message); // then handleJsonRpc(body, …)
 */
export function decodeMessage(message: string | Uint8Array): unknown {
  if (typeof message !== 'string') return objectsOf(parseMsgpack(message), 1);
  let value: unknown;
  try {
    value = JSON.parse(message) as unknown;
  } catch {
    throw new BadRequestError('The message is not valid JSON');
  }
  return checkDepth(value);
}

/**
 * Values the engine's codec stores but JSON cannot spell, in the shape MessagePack gives them:
 * a Map as an object, a Set or typed array as an array, a bigint as a number when it is a safe
 * integer and as a decimal string otherwise, an Error as `{ name, message }`.
 */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), v as unknown]));
  if (value instanceof Set) return [...value];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>);
  }
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof RegExp) return value.toString();
  return value;
}

async function readWhole(request: Request, maxBytes: number): Promise<Uint8Array> {
  let buffer: ArrayBuffer;
  try {
    buffer = await request.arrayBuffer();
  } catch {
    throw new BadRequestError('The request body could not be read');
  }
  if (buffer.byteLength > maxBytes) throw new RequestTooLargeError(maxBytes);
  return new Uint8Array(buffer);
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new RequestTooLargeError(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof RequestTooLargeError) throw error;
    throw new BadRequestError('The request body could not be read');
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new BadRequestError('The request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError('The request body is not valid JSON');
  }
}

function parseMsgpack(bytes: Uint8Array): unknown {
  try {
    return unpackr.unpack(bytes) as unknown;
  } catch {
    throw new BadRequestError('The request body is not valid MessagePack');
  }
}

/**
 * A decoded MessagePack value with its maps as plain objects, exactly as `JSON.parse` builds them:
 * keys as strings, and a `__proto__` key as an own property (which the layers above refuse where
 * it is a name), never a prototype. Refuses nesting past `MAX_BODY_DEPTH`, so its recursion is bounded.
 */
function objectsOf(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_BODY_DEPTH) {
    throw new BadRequestError(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
  if (Array.isArray(value)) return value.map((item: unknown) => objectsOf(item, depth + 1));
  if (!(value instanceof Map)) return value;
  const object: Record<string, unknown> = {};
  for (const [key, item] of value as Map<unknown, unknown>) {
    const name = String(key);
    const converted = objectsOf(item, depth + 1);
    if (name === '__proto__') {
      Object.defineProperty(object, name, { value: converted, enumerable: true, writable: true, configurable: true });
    } else {
      object[name] = converted;
    }
  }
  return object;
}

/** Refuses bodies nested deeper than `MAX_BODY_DEPTH`, without recursing itself. */
function checkDepth(value: unknown): unknown {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) {
      throw new BadRequestError(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    const children: unknown[] = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return value;
}

/** The format a `Content-Type` declares, `undefined` for none or one Weft does not read. */
function bodyFormatOf(header: string | null): MediaType | undefined {
  if (header === null) return undefined;
  const type = header.split(';')[0]!.trim().toLowerCase();
  if (type === MediaType.json || type.endsWith('+json')) return MediaType.json;
  return MSGPACK_TYPES.has(type) ? MediaType.msgpack : undefined;
}

function weightOf(parameters: string[]): number {
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=').map((part) => part.trim());
    if (name !== 'q' || value === undefined) continue;
    const q = Number(value);
    return Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 1;
  }
  return 1;
}
