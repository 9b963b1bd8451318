/**
 * Reading the cursor a client resumes from: `?resumeFrom=` on a WebSocket upgrade or an SSE
 * request, and `Last-Event-ID` on an SSE reconnect.
 *
 * Trap it avoids: a cursor read loosely. `Number('')` is 0, `Number('0x10')` 16, `Number('1e3')`
 * 1000 and `Number(' 7')` 7 — each would resume somewhere the client did not ask for (an empty
 * value would replay from 0, not from before the first frame). Only `-1` or a plain decimal
 * non-negative integer is a cursor; anything else is refused before the upgrade.
 */
import { BadRequestError } from '../server-errors.ts';

/** `-1`, `0`, or a decimal integer without sign, padding or leading zeros. */
const CURSOR_PATTERN = /^(?:-1|0|[1-9]\d{0,15})$/;

/**
 * The cursor in `value` (`undefined` when the parameter is absent), or `BadRequestError` naming
 * `source` when it is not one.
 *
 * @example
 * parseCursor(url.searchParams.get('resumeFrom'), 'resumeFrom'); // '12' → 12, null → undefined, '1.5' → throws
 */
export function parseCursor(value: string | null, source: string): number | undefined {
  if (value === null) return undefined;
  const cursor = CURSOR_PATTERN.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(cursor)) {
    throw new BadRequestError(`${source} must be -1 or a non-negative decimal integer (a frame's seq)`, {
      [source]: value.length > 32 ? `${value.slice(0, 32)}…` : value,
    });
  }
  return cursor;
}

/**
 * Where a feed request resumes: an SSE reconnect's `Last-Event-ID` (the last frame the browser
 * saw) wins over the `resumeFrom` the first request named.
 *
 * @example
 * resumePoint(request, url); // `?resumeFrom=4` → 4; with `Last-Event-ID: 9` → 9
 */
export function resumePoint(request: Request, url: URL): number | undefined {
  const lastEventId = parseCursor(request.headers.get('last-event-id'), 'Last-Event-ID');
  return lastEventId ?? parseCursor(url.searchParams.get('resumeFrom'), 'resumeFrom');
}
