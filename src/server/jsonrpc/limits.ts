/**
 * Limits of the JSON-RPC transport, in their own file so the discovery documents can state them
 * without importing the transport (which imports the documents for `rpc.discover`).
 */

/**
 * Most calls in one JSON-RPC batch. A longer batch is answered with a single Invalid Request
 * error (-32600) and none of its calls run: a batch runs its calls concurrently, so its length is
 * the concurrency one request can ask for.
 */
export const JSON_RPC_MAX_BATCH = 100;
