/**
 * One catalog call as a REST request: the spec's binding filled from the input — path parameters
 * into the path, the rest into the JSON body or the query string — mirroring how the server reads
 * them back (docs/rest-api.md, "Query parameters").
 *
 * Traps it avoids:
 * - Attribute values changing type on the way. The server reads `attribute.<name>=true` as a
 *   boolean and `=5` as a number, so a string that looks like one (`'5'`, `'true'`) is sent
 *   JSON-quoted, and a number is sent only in a form the server reads back as that same number.
 * - Ids that break the path. Path parameters are percent-encoded, so `a/b` stays one segment.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import type { HttpMethod, OperationSpec } from '../protocol/operation-spec.ts';

/** Where REST routes live under the base URL (the server also answers under `/v1`). */
export const REST_PREFIX = '/api/v1';

/** What to send: method, path with query string (under the base URL) and, for body bindings, the body. */
export interface RestRequest {
  method: HttpMethod;
  path: string;
  body?: Record<string, unknown>;
}

/** A canonical decimal number, as the server's query reader accepts it. */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
const PARAM = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Builds the REST request of `spec` for `input`. Throws `InvalidArgumentError` for an input the
 * binding cannot carry (a missing path parameter, a nested value in a query string).
 */
export function restRequest(spec: OperationSpec, input: unknown): RestRequest {
  if (input !== undefined && (input === null || typeof input !== 'object' || Array.isArray(input))) {
    throw new InvalidArgumentError(`${spec.name} takes an object of parameters`);
  }
  const rest: Record<string, unknown> = { ...(input as Record<string, unknown> | undefined) };
  const path = spec.rest.path.replace(PARAM, (_match, name: string) => {
    const value = rest[name];
    if (typeof value !== 'string' || value === '') {
      throw new InvalidArgumentError(`${spec.name} needs '${name}' (a non-empty string)`);
    }
    delete rest[name];
    return encodeURIComponent(value);
  });
  const request: RestRequest = { method: spec.rest.method, path: `${REST_PREFIX}${path}` };
  if (spec.rest.from === 'body') request.body = rest;
  else if (spec.rest.from === 'query') request.path += queryString(spec.name, rest);
  return request;
}

/** `{ idPrefix: 'o-', status: ['a', 'b'], attributes: { tier: 2 } }` → `?id_prefix=o-&status=a&status=b&attribute.tier=2`. */
function queryString(operation: string, fields: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (field === 'attributes') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new InvalidArgumentError(`${operation}: 'attributes' must be an object of attribute values`);
      }
      for (const [name, attribute] of Object.entries(value as Record<string, unknown>)) {
        if (attribute !== undefined) query.append(`attribute.${name}`, attributeText(operation, name, attribute));
      }
      continue;
    }
    const name = snakeCase(field);
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      query.append(name, scalarText(operation, field, item));
    }
  }
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

function scalarText(operation: string, field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new InvalidArgumentError(`${operation}: '${field}' cannot be sent in a query string`);
}

/** An attribute value as the server's reader will type it back: booleans, numbers, and strings quoted when ambiguous. */
function attributeText(operation: string, name: string, value: unknown): string {
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    const text = Number.isFinite(value) ? decimal(value) : undefined;
    if (text === undefined) {
      throw new InvalidArgumentError(`${operation}: attribute '${name}' = ${value} cannot be written as a decimal`);
    }
    return text;
  }
  if (typeof value === 'string') {
    const ambiguous =
      value === 'true' ||
      value === 'false' ||
      DECIMAL.test(value) ||
      (value.length >= 2 && value.startsWith('"') && value.endsWith('"'));
    return ambiguous ? JSON.stringify(value) : value;
  }
  throw new InvalidArgumentError(`${operation}: attribute '${name}' must be a string, number or boolean`);
}

/** A number as a canonical decimal that reads back as the same number, or undefined (1e-7 has none short enough). */
function decimal(value: number): string | undefined {
  const plain = Object.is(value, -0) ? '0' : String(value);
  if (DECIMAL.test(plain)) return plain;
  const fixed = value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
  return DECIMAL.test(fixed) && Number(fixed) === value ? fixed : undefined;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
