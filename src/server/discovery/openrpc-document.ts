/**
 * The OpenRPC 1.3.2 document of the JSON-RPC transport, built from the operation catalog: one
 * method per catalog entry, its input fields as by-name params, its output as the result, and the
 * JSON-RPC error codes it can answer with.
 *
 * `rpc.discover` itself is not listed: the OpenRPC specification defines it (the `rpc.` prefix is
 * reserved for JSON-RPC system extensions), and every server offering OpenRPC answers it.
 *
 * Trap it avoids: draft mismatch. OpenRPC schemas are JSON Schema draft-07 (its meta-schema says
 * so), unlike OpenAPI 3.1's 2020-12, so the schemas are generated for draft-07 here.
 */
import type { OperationSpec } from '../../protocol/operation-spec.ts';
import { operations } from '../../protocol/operations.ts';
import { httpStatusOf, JsonRpcCode, jsonRpcCodeOf } from '../../protocol/wire-errors.ts';
import { jsonSchemaOf, objectFields } from './json-schema.ts';
import { tagOf } from './openapi-document.ts';
import { errorCodesOf } from './operation-errors.ts';

/** The OpenRPC version the document declares. */
export const OPENRPC_VERSION = '1.3.2';

/** What a JSON-RPC error code stands for, by the HTTP status of the Weft codes behind it. */
function errorLabel(code: number, status: number): string {
  if (code === JsonRpcCode.invalidParams) return 'Invalid params';
  if (code === JsonRpcCode.internalError) return 'Internal error';
  return `Server error (HTTP ${status})`;
}

/**
 * The method's errors, one per JSON-RPC code (OpenRPC wants them unique); `data` lists the Weft
 * codes a caller finds in `error.data.code` under it.
 */
function methodErrors(spec: OperationSpec): unknown[] {
  const byCode = new Map<number, { status: number; codes: string[] }>();
  for (const weftCode of errorCodesOf(spec, 'jsonrpc')) {
    const code = jsonRpcCodeOf(weftCode);
    const entry = byCode.get(code) ?? { status: httpStatusOf(weftCode), codes: [] };
    entry.codes.push(weftCode);
    byCode.set(code, entry);
  }
  return [...byCode]
    .sort(([a], [b]) => b - a)
    .map(([code, { status, codes }]) => ({ code, message: errorLabel(code, status), data: { status, codes } }));
}

function method(spec: OperationSpec): Record<string, unknown> {
  const input = jsonSchemaOf(spec.input, 'input', 'draft-07');
  const { properties, required } = objectFields(input);
  // OpenRPC: every optional param comes after every required one.
  const names = Object.keys(properties).sort((a, b) => Number(!required.includes(a)) - Number(!required.includes(b)));
  const params = names.map((name) => {
    const { description, ...schema } = properties[name] ?? {};
    return {
      name,
      ...(typeof description === 'string' ? { description } : {}),
      required: required.includes(name),
      schema,
    };
  });
  return {
    name: spec.name,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: [{ name: tagOf(spec) }],
    paramStructure: 'by-name',
    params,
    result: { name: 'result', schema: jsonSchemaOf(spec.output, 'output', 'draft-07') },
    errors: methodErrors(spec),
  };
}

/**
 * The `servers` of the document: `origin`'s JSON-RPC endpoint, or, not knowing the origin, a URL
 * template over the host (the meta-schema wants an absolute URL; the specification would allow a
 * relative one).
 */
export function openRpcServers(origin?: string): Record<string, unknown>[] {
  if (origin !== undefined) return [{ name: 'JSON-RPC', url: `${origin}/api/jsonrpc` }];
  return ['http', 'https'].map((scheme) => ({
    name: `JSON-RPC over ${scheme.toUpperCase()}`,
    url: `${scheme}://{host}/api/jsonrpc`,
    variables: { host: { default: 'localhost:3000', description: 'Host and port of the Weft server' } },
  }));
}

/** Builds the document (documents.ts caches it; with an origin, it replaces `servers`). */
export function buildOpenRpcDocument(version: string): Record<string, unknown> {
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'Weft',
      version,
      description:
        'The JSON-RPC 2.0 methods of a Weft server: the same operations as the REST API, with the ' +
        'same validation. Params are by name. Errors carry the Weft error code in ' +
        '`error.data = { code, status, details? }`. `rpc.discover` returns this document.',
    },
    servers: openRpcServers(),
    methods: (operations as readonly OperationSpec[]).map(method),
  };
}
