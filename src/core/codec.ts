/**
 * Encodes workflow inputs, results, signal payloads and activity outcomes for storage.
 *
 * MessagePack with structured-clone extensions (msgpackr): Date, Map, Set, BigInt, RegExp,
 * Error, typed arrays and cycles survive a restart. msgpackr silently drops functions, so every
 * value is checked first: a value that would not come back as it went in is refused at the call
 * with `payload_not_serializable` instead of being stored half-lost.
 */
import { Packr } from 'msgpackr';
import { PayloadNotSerializableError, PayloadTooLargeError } from './errors.ts';

/** Default upper bound of one encoded payload (input, result, signal payload, activity result). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

export interface Codec {
  /** Encodes `value`; `what` names it in errors ("workflow input", "result of activity 'x'"). */
  encode(value: unknown, what: string): Uint8Array;
  /**
   * Encodes a value the engine built itself (event data: names, numbers, stored errors) without the
   * storability walk or the size check — those guard user values, and this is on every event.
   */
  encodeTrusted(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export function createCodec(maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): Codec {
  const packr = new Packr({ structuredClone: true });
  return {
    encode(value, what) {
      assertStorable(value, what);
      const bytes = packr.pack(value);
      if (bytes.length > maxPayloadBytes) throw new PayloadTooLargeError(what, bytes.length, maxPayloadBytes);
      return bytes;
    },
    encodeTrusted(value) {
      return packr.pack(value);
    },
    decode(bytes) {
      return decodeTinyScalar(bytes) ?? (packr.unpack(bytes) as unknown);
    },
  };
}

const NOT_TINY = undefined;

/**
 * Most step results are small numbers, booleans or null. Decoding those by hand skips the
 * per-call setup msgpackr does for every byte array (a DataView), which dominates replaying a
 * long journal. Returns `NOT_TINY` (undefined) for anything else, including an encoded `undefined`.
 */
function decodeTinyScalar(bytes: Uint8Array): unknown {
  const first = bytes[0];
  if (first === undefined) return NOT_TINY;
  if (bytes.length === 1) {
    if (first <= 0x7f) return first; // positive fixint
    if (first >= 0xe0) return first - 0x100; // negative fixint
    if (first === 0xc0) return null;
    if (first === 0xc2) return false;
    if (first === 0xc3) return true;
    return NOT_TINY;
  }
  if (first === 0xcc && bytes.length === 2) return bytes[1]; // uint8
  if (first === 0xcd && bytes.length === 3) return (bytes[1]! << 8) | bytes[2]!; // uint16
  return NOT_TINY;
}

const UNSUPPORTED_OBJECTS: [new (...args: never[]) => object, string][] = [
  [WeakMap, 'a WeakMap'],
  [WeakSet, 'a WeakSet'],
  [Promise, 'a Promise (await it first)'],
];

function assertStorable(root: unknown, what: string): void {
  const seen = new Set<object>();
  const visit = (value: unknown, path: string): void => {
    switch (typeof value) {
      case 'function':
        throw new PayloadNotSerializableError(what, `${path} is a function`);
      case 'symbol':
        throw new PayloadNotSerializableError(what, `${path} is a symbol`);
      case 'object':
        break;
      default:
        return;
    }
    if (value === null || seen.has(value)) return;
    seen.add(value);
    if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof RegExp) return;
    for (const [type, label] of UNSUPPORTED_OBJECTS) {
      if (value instanceof type) throw new PayloadNotSerializableError(what, `${path} is ${label}`);
    }
    if (value instanceof Map) {
      for (const [k, v] of value) {
        visit(k, `${path}<key>`);
        visit(v, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : '…'})`);
      }
      return;
    }
    if (value instanceof Set) {
      for (const v of value) visit(v, `${path}<item>`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, `${path}[${i}]`));
      return;
    }
    for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new PayloadNotSerializableError(what, `${path} has symbol-keyed properties`);
    }
  };
  visit(root, 'value');
}
