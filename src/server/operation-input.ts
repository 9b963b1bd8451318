/**
 * Validation of an operation's merged input against its spec's zod schema, with failures as one
 * `InvalidParamsError` (400) listing every issue by field path — never a thrown `ZodError`, which
 * would leave as a 500.
 *
 * Traps it avoids:
 * - A `__proto__` key silently dropped. zod skips it in records (assigning it would set the
 *   output's prototype), so `{ "attributes": { "__proto__": "p" } }` validated as `{}` and a write
 *   answered 200 having stored nothing. A `__proto__` key of a record field is refused here, before
 *   zod sees it.
 * - An issue that echoes the input. A path holds the caller's keys (a 900 KB attribute name):
 *   `InvalidParamsError` clips every path and message.
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
  refuseProtoKeys(spec, raw);
  return parseWith(spec.name, spec.input, raw);
}

/**
 * `raw` validated by `schema` (the params of a method outside the catalog, such as a subscription),
 * or `InvalidParamsError` naming `method` and listing the issues.
 *
 * @example
 * const params = parseWith('weft.events.subscribe', subscribeEvents.params, call.params ?? {});
 */
export function parseWith<T extends z.ZodType>(method: string, schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new InvalidParamsError(method, parsed.error.issues.map(toIssue));
}

/** A zod issue as `InvalidParamsError` lists it: a record key's own complaint rather than "Invalid key in record". */
function toIssue(issue: z.core.$ZodIssue): { path: string; message: string } {
  const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
  return { path: issue.path.map(String).join('.'), message: inner ?? issue.message };
}

/** Refuses an own `__proto__` key in any record field of the input, which zod would silently drop. */
function refuseProtoKeys(spec: OperationSpec, raw: unknown): void {
  if (!isPlainObject(raw)) return;
  for (const field of recordFields(spec)) {
    const value = raw[field];
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
      throw new InvalidParamsError(spec.name, [
        {
          path: `${field}.__proto__`,
          message: "'__proto__' is not accepted as a key: it names the object's prototype",
        },
      ]);
    }
  }
}

const fieldCache = new WeakMap<OperationSpec, ReadonlySet<string>>();
const recordFieldCache = new WeakMap<OperationSpec, readonly string[]>();

/** The top-level fields of a spec's input that are records (optional or not). */
function recordFields(spec: OperationSpec): readonly string[] {
  let fields = recordFieldCache.get(spec);
  if (fields === undefined) {
    const shape: Record<string, z.ZodType> = spec.input instanceof z.ZodObject ? spec.input.shape : {};
    fields = Object.keys(shape).filter((field) => unwrapOptional(shape[field]!) instanceof z.ZodRecord);
    recordFieldCache.set(spec, fields);
  }
  return fields;
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional || schema instanceof z.ZodNullable
    ? unwrapOptional(schema.unwrap() as z.ZodType)
    : schema;
}

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
