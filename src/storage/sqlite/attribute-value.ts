/**
 * How a search attribute value is stored: a `kind` column next to the value, so that `1`, `'1'`
 * and `true` stay three different values in equality filters and in groups.
 *
 * Traps it avoids:
 * - Type affinity. The `value` column has none (BLOB affinity), so SQLite keeps a bound string a
 *   string; `kind` is still compared too, because a boolean is stored as the integer 0 or 1.
 * - Values SQLite cannot hold faithfully. `NaN` would bind as NULL and infinities are not JSON-safe
 *   data; the contract allows finite numbers only, so they are refused before anything is written.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AttributeValue } from '../storage.ts';

/** Stored kinds. Their binary order (b < n < s) is the contract's group order: booleans, numbers, strings. */
export const AttributeKind = { boolean: 'b', number: 'n', string: 's' } as const;
export type AttributeKind = (typeof AttributeKind)[keyof typeof AttributeKind];

export interface StoredAttribute {
  kind: AttributeKind;
  value: string | number;
}

/** The stored form of `value`, or undefined when it is not an `AttributeValue` SQLite can hold. */
export function encodeAttribute(value: unknown): StoredAttribute | undefined {
  switch (typeof value) {
    case 'string':
      return { kind: AttributeKind.string, value };
    case 'number':
      return Number.isFinite(value) ? { kind: AttributeKind.number, value } : undefined;
    case 'boolean':
      return { kind: AttributeKind.boolean, value: value ? 1 : 0 };
    default:
      return undefined;
  }
}

/** Like `encodeAttribute`, for writes: a value that cannot be stored is the caller's error. */
export function encodeAttributeForWrite(runId: string, key: string, value: unknown): StoredAttribute {
  const stored = encodeAttribute(value);
  if (stored === undefined) {
    throw new InvalidArgumentError(
      `Attribute '${key}' of run '${runId}' must be a string, a finite number or a boolean, not ${describe(value)}`,
    );
  }
  return stored;
}

export function decodeAttribute(kind: string, value: unknown): AttributeValue {
  if (kind === AttributeKind.boolean) return value === 1;
  if (kind === AttributeKind.number) return Number(value);
  return String(value);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}
