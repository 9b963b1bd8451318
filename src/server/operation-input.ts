/**
 * Validation of an operation's merged input against its spec's zod schema, with failures as one
 * `InvalidParamsError` (400) listing every issue by field path — never a thrown `ZodError`, which
 * would leave as a 500.
 */
import { z } from 'zod';
import type { OperationSpec } from '../protocol/operation-spec.ts';
import { InvalidParamsError } from './server-errors.ts';

/**
 * The validated, typed input of `spec`, or `InvalidParamsError` naming each bad field.
 *
 * @example
 * const input = parseOperationInput(startWorkflow, { type: 'order', input: { sku: 'a' } });
 */
export function parseOperationInput(spec: OperationSpec, raw: unknown): unknown {
  const parsed = spec.input.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new InvalidParamsError(
    spec.name,
    parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

const fieldCache = new WeakMap<OperationSpec, ReadonlySet<string>>();

/** The top-level field names of a spec's input (empty when the input is not an object schema). */
export function inputFields(spec: OperationSpec): ReadonlySet<string> {
  let fields = fieldCache.get(spec);
  if (fields === undefined) {
    fields = new Set(spec.input instanceof z.ZodObject ? Object.keys(spec.input.shape) : []);
    fieldCache.set(spec, fields);
  }
  return fields;
}

/**
 * Whether a decoded request value is a plain object (`{...}` from JSON or a MessagePack map), the
 * only shape an operation's input (a REST body, JSON-RPC params or request) may have.
 *
 * @example
 * isPlainObject({ id: 'a' }); // true
 * isPlainObject([1]); // false
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
