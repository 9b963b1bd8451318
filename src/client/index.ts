/**
 * Public entry of `@lostgradient/weft/client`: `HttpClient`, a typed client of a Weft server, the
 * operation specs it calls (for `client.call(spec, input)`) and the frames of its real-time feeds
 * (`watch`, `stream`, `events`). Free of the engine and of any storage adapter, so it runs
 * wherever `fetch` does. Re-exported by name.
 *
 * @example
 * import { HttpClient } from '@lostgradient/weft/client';
 * const client = new HttpClient({ baseUrl: 'http://127.0.0.1:3000' });
 * const { id } = await client.startWorkflow({ type: 'order', input: { sku: 'book', quantity: 1, amount: 25 } });
 */
export { HttpClient } from './http-client.ts';
export type { CallOptions, FeedOptions, FetchFunction, HeaderValues, HttpClientOptions } from './http-client.ts';
export type { ChunkFrame, EventFrame, WatchFrame } from '../protocol/realtime.ts';
export {
  aggregateWorkflows,
  cancelWorkflow,
  deleteWorkflow,
  getAttributes,
  getUpdate,
  getWorkflow,
  health,
  listEvents,
  listWorkflows,
  operations,
  queryWorkflow,
  setAttributes,
  signalWorkflow,
  startWorkflow,
  updateWorkflow,
  workflowResult,
} from '../protocol/operations.ts';
export type { OperationInput, OperationOutput, OperationSpec } from '../protocol/operation-spec.ts';
export { WeftError } from '../core/errors.ts';
