/**
 * One catalog operation called over REST: its input gathered from the path parameters and the body
 * or query string its binding names, validated with the spec's schema, handed to the catalog
 * handler, and the outcome's status chosen (the binding's, or 202 for `Accepted`).
 *
 * Trap it avoids: a path and a body that disagree. A body field that repeats a path parameter
 * (`{ "id": "b" }` posted to `/workflows/a/signal/x`) must carry the same value, or the request is
 * refused — the URL names the resource, and a second, silently ignored name invites mistakes.
 */
import type { Engine } from '../engine/engine.ts';
import { Accepted, type CatalogEntry, type OperationContext } from './catalog.ts';
import { readRequestBody } from './negotiation.ts';
import { inputFields, isPlainObject, parseOperationInput } from './operation-input.ts';
import { queryToInput } from './query-input.ts';
import { BadRequestError, InvalidParamsError } from './server-errors.ts';

/** What a REST call produced: the status and, unless it is 204, the body value. */
export interface RestOutcome {
  status: number;
  body?: unknown;
}

/** Everything a REST call needs besides the operation. */
export interface RestCall {
  request: Request;
  url: URL;
  params: Record<string, string>;
  engine: Engine;
  context: OperationContext;
  maxBodyBytes: number;
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/** Runs `entry` for a REST request; throws `WeftError`s for every bad input. */
export async function runRestOperation(entry: CatalogEntry, call: RestCall): Promise<RestOutcome> {
  const { spec } = entry;
  const fields = inputFields(spec);
  let raw: Record<string, unknown>;
  if (spec.rest.from === 'query') {
    const queryFields = new Set([...fields].filter((field) => !Object.hasOwn(call.params, field)));
    raw = queryToInput(spec.name, call.url.searchParams, queryFields);
  } else {
    // No query parameters here: refuse any, so a misplaced filter is not silently ignored.
    queryToInput(spec.name, call.url.searchParams, NO_FIELDS);
    raw = spec.rest.from === 'body' ? await bodyObject(call) : {};
  }
  for (const [name, value] of Object.entries(call.params)) {
    if (Object.hasOwn(raw, name) && raw[name] !== value) {
      throw new InvalidParamsError(spec.name, [
        { path: name, message: `the body's '${name}' differs from the path parameter` },
      ]);
    }
    raw[name] = value;
  }
  const input = parseOperationInput(spec, raw);
  const result = await entry.handle(call.engine, input, call.context);
  if (result instanceof Accepted) return { status: 202, body: result.value };
  const status = spec.rest.status ?? 200;
  return status === 204 ? { status } : { status, body: result };
}

/** The request body as a plain object: an empty body is `{}`; an array, scalar or null is refused. */
async function bodyObject(call: RestCall): Promise<Record<string, unknown>> {
  const body = await readRequestBody(call.request, call.maxBodyBytes);
  if (body === undefined) return {};
  if (!isPlainObject(body)) throw new BadRequestError('The request body must be an object');
  return { ...body };
}
