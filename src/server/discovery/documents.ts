/**
 * The discovery documents a server publishes: `GET /openapi.json` (OpenAPI 3.1, the REST API) and
 * `GET /openrpc.json` (OpenRPC 1.3.2, the JSON-RPC methods, also the answer to `rpc.discover`).
 * Both are generated from the operation catalog the first time they are asked for, then shared.
 *
 * Trap it avoids: a shared document changed by one caller for all. The cached documents are
 * deeply frozen; a caller that wants to edit one copies it (`structuredClone`).
 */
import packageJson from '../../../package.json' with { type: 'json' };
import { buildOpenApiDocument } from './openapi-document.ts';
import { buildOpenRpcDocument } from './openrpc-document.ts';

let openApi: Record<string, unknown> | undefined;
let openRpc: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document of the REST API, served at `GET /openapi.json`. Built once, frozen.
 *
 * @example
 * return Response.json(openApiDocument());
 */
export function openApiDocument(): Record<string, unknown> {
  openApi ??= deepFreeze(buildOpenApiDocument(packageJson.version));
  return openApi;
}

/**
 * The OpenRPC 1.3.2 document of the JSON-RPC methods, served at `GET /openrpc.json` and returned
 * by `rpc.discover`. Built once, frozen.
 *
 * @example
 * const methods = (openRpcDocument().methods as { name: string }[]).map((m) => m.name);
 */
export function openRpcDocument(): Record<string, unknown> {
  openRpc ??= deepFreeze(buildOpenRpcDocument(packageJson.version));
  return openRpc;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
