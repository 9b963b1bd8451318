/**
 * A REST response read back: the JSON body of a success, or the failure as the `WeftError` the
 * server meant — same `code`, `message` and `details`, plus `details.status` — decoded from the
 * wire error form (protocol/wire-errors.ts). The REST calls and the real-time feeds share it, so a
 * refused feed throws exactly what a refused call would.
 *
 * Trap it avoids: a proxy's HTML error page or a truncated body read as a Weft answer. Only a JSON
 * body is trusted; anything else is `unexpected_response` with the status and the first KiB.
 */
import { WeftError } from '../core/errors.ts';
import { fromWireError, type WireError } from '../protocol/wire-errors.ts';

/**
 * The body of a successful response (`null` for 204), or the `WeftError` of a failed one;
 * `operation` names the call in an `unexpected_response` message.
 *
 * @example
 * const state = await readResponse('getWorkflow', await fetch(url));
 */
export async function readResponse(operation: string, response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  let body: unknown;
  let parsed = false;
  if (/^application\/(?:[\w.+-]*\+)?json/i.test(type)) {
    try {
      body = JSON.parse(text);
      parsed = true;
    } catch {
      // reported below as an unexpected response
    }
  }
  if (response.ok && parsed) return body;
  if (!response.ok && parsed && isWireError(body)) throw fromWireError(body.error, response.status);
  throw new WeftError(
    'unexpected_response',
    `${operation}: the server answered ${response.status} with ${parsed ? 'an unexpected body' : `'${type || 'no content type'}'`}`,
    { details: { status: response.status, contentType: type, body: text.slice(0, 1024) } },
  );
}

function isWireError(body: unknown): body is { error: WireError } {
  if (body === null || typeof body !== 'object') return false;
  const error = (body as { error?: unknown }).error;
  return (
    error !== null &&
    typeof error === 'object' &&
    typeof (error as WireError).code === 'string' &&
    typeof (error as WireError).message === 'string'
  );
}
