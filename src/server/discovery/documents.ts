/**
 * The discovery documents a server publishes: `GET /openapi.json` (OpenAPI 3.1, the REST API),
 * `GET /openrpc.json` (OpenRPC 1.3.2, the JSON-RPC methods, also the answer to `rpc.discover`) and
 * `GET /asyncapi.json` (AsyncAPI 3.0, the WebSocket channels). All are generated from the operation catalog the first time they are asked for, then shared.
 *
 * Traps it avoids:
 * - A shared document changed by one caller for all. The cached documents are deeply frozen; a
 *   caller that wants to edit one copies it (`structuredClone`).
 * - A `servers` entry naming another server. Given the origin a request reached (`url.origin`),
 *   each document names that origin, whatever the port; the per-request copy is shallow, so the
 *   catalog part is still built once. No origin is cached, so a client's `Host` cannot grow memory.
 * - A document that misses a workflow registered later. Given the engine (`workflows`), the OpenAPI
 *   and OpenRPC documents type the start of each workflow that declares an input schema: built per
 *   engine (weakly held) and rebuilt when its list of such workflows changes — a cheap check, since
 *   the engine hands out the same frozen description per definition. An engine whose workflows
 *   declare no input schema shares the catalog-only documents.
 */
import packageJson from '../../../package.json' with { type: 'json' };
import type { WorkflowDefinitionInfo } from '../../engine/workflow-definitions.ts';
import { asyncApiServers, buildAsyncApiDocument } from './asyncapi-document.ts';
import { buildOpenApiDocument, openApiServers } from './openapi-document.ts';
import { buildOpenRpcDocument, openRpcServers } from './openrpc-document.ts';
import { typedWorkflows } from './workflow-schemas.ts';

/**
 * Where the documents find the registered workflows: an `Engine`.
 *
 * @example
 * openApiDocument(new URL(request.url).origin, engine);
 */
export interface WorkflowSource {
  listWorkflowDefinitions(): readonly WorkflowDefinitionInfo[];
}

interface TypedDocument {
  workflows: readonly WorkflowDefinitionInfo[];
  document: Record<string, unknown>;
}

const typedOpenApi = new WeakMap<WorkflowSource, TypedDocument>();
const typedOpenRpc = new WeakMap<WorkflowSource, TypedDocument>();

let openApi: Record<string, unknown> | undefined;
let openRpc: Record<string, unknown> | undefined;
let asyncApi: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document of the REST API, served at `GET /openapi.json`. Built once, frozen.
 * With `origin` (e.g. `http://127.0.0.1:8080`, the request URL's), its `servers` names that
 * origin; without, the relative `/` (the server that served the document). With `workflows` (the
 * engine), the start body is typed per workflow that declares an input schema.
 *
 * @example
 * return Response.json(openApiDocument(new URL(request.url).origin, engine));
 */
export function openApiDocument(origin?: string, workflows?: WorkflowSource): Record<string, unknown> {
  openApi ??= deepFreeze(buildOpenApiDocument(packageJson.version));
  const document = typedDocument(typedOpenApi, workflows, buildOpenApiDocument) ?? openApi;
  return origin === undefined ? document : Object.freeze({ ...document, servers: deepFreeze(openApiServers(origin)) });
}

/**
 * The OpenRPC 1.3.2 document of the JSON-RPC methods, served at `GET /openrpc.json` and returned
 * by `rpc.discover`. Built once, frozen. With `origin`, its `servers` names that origin's
 * `/api/jsonrpc`; without, a URL template whose host a reader fills in. With `workflows` (the
 * engine), the workflows that declare an input schema are listed in `x-weft-workflows`.
 *
 * @example
 * const methods = (openRpcDocument().methods as { name: string }[]).map((m) => m.name);
 */
export function openRpcDocument(origin?: string, workflows?: WorkflowSource): Record<string, unknown> {
  openRpc ??= deepFreeze(buildOpenRpcDocument(packageJson.version));
  const document = typedDocument(typedOpenRpc, workflows, buildOpenRpcDocument) ?? openRpc;
  return origin === undefined ? document : Object.freeze({ ...document, servers: deepFreeze(openRpcServers(origin)) });
}

/**
 * The document typed for `source`'s workflows that declare an input schema, built (and cached per
 * source) when that list changed; `undefined` when there are none.
 */
function typedDocument(
  cache: WeakMap<WorkflowSource, TypedDocument>,
  source: WorkflowSource | undefined,
  build: (version: string, workflows: readonly WorkflowDefinitionInfo[]) => Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (source === undefined) return undefined;
  const workflows = typedWorkflows(source.listWorkflowDefinitions());
  if (workflows.length === 0) return undefined;
  const cached = cache.get(source);
  const unchanged =
    cached !== undefined &&
    cached.workflows.length === workflows.length &&
    cached.workflows.every((workflow, i) => workflow === workflows[i]);
  if (unchanged) return cached.document;
  const document = deepFreeze(build(packageJson.version, workflows));
  cache.set(source, { workflows, document });
  return document;
}

/**
 * The AsyncAPI 3.0 document of the real-time API (the feed sockets and the JSON-RPC session),
 * served at `GET /asyncapi.json`. Built once, frozen. With `origin`, its server is that origin as
 * `ws://` (`wss://` for `https`); without, `ws://127.0.0.1:3000`.
 *
 * @example
 * const channels = Object.keys(asyncApiDocument().channels as object); // ['workflowWatch', …]
 */
export function asyncApiDocument(origin?: string): Record<string, unknown> {
  asyncApi ??= deepFreeze(buildAsyncApiDocument(packageJson.version));
  return origin === undefined ? asyncApi : Object.freeze({ ...asyncApi, servers: deepFreeze(asyncApiServers(origin)) });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
