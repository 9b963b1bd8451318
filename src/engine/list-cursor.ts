/**
 * The opaque `cursor` of `engine.list`: where the next page starts (the last listed run's
 * `createdAt` and id, the keyset storage pages from) and a check of the filter it was made for.
 *
 * Traps it avoids:
 * - A cursor used with another filter. Its key would be a valid position in the wrong listing and
 *   answer a plausible but wrong page; the token carries a 32-bit check of the canonical filter
 *   (array order and duplicates do not count, `include` and `limit` are free to change) and is
 *   refused with `invalid_cursor` when it differs.
 * - A garbled or hand-edited cursor answered with a 500 or a wrong page. The token is base64url of
 *   a JSON array with a version and a 32-bit sum over the rest; anything that does not decode to
 *   that shape with a matching sum is `invalid_cursor`. Not a signature: a caller who recomputes
 *   the sum gets a page of the same filter they could list anyway — the cursor grants nothing.
 * - Runtime-specific code. Plain `btoa`/`atob`, `TextEncoder` and an FNV-1a hash, so the engine
 *   runs unchanged in Bun, Node and a service worker.
 */
import { InvalidCursorError } from '../core/errors.ts';
import type { RunKey, RunQuery } from '../storage/storage.ts';
import { decodeBase64Url, encodeBase64Url } from '../core/base64url.ts';

/** The cursor format this engine writes; a cursor of another version is refused. */
const VERSION = 1;
/** Longest cursor accepted: a 256-character id of control characters (6 bytes each in JSON) is ~2,110. */
export const MAX_CURSOR_LENGTH = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The cursor after `key` in the listing of `query`. */
export function encodeCursor(key: RunKey, query: RunQuery): string {
  const body: [number, number, string, number] = [VERSION, key.createdAt, key.id, filterCheck(query)];
  const text = JSON.stringify([...body, sum(JSON.stringify(body))]);
  return encodeBase64Url(text);
}

/** The key `cursor` continues after; throws `InvalidCursorError` unless it is a cursor of `query`. */
export function decodeCursor(cursor: unknown, query: RunQuery): RunKey {
  if (
    typeof cursor !== 'string' ||
    cursor.length === 0 ||
    cursor.length > MAX_CURSOR_LENGTH ||
    !BASE64URL.test(cursor)
  ) {
    throw refused('is not a cursor');
  }
  const text = decodeBase64Url(cursor);
  if (text === undefined) throw refused('is not a cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw refused('is not a cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) throw refused('is not a cursor');
  const [version, createdAt, id, check, given] = parsed as unknown[];
  if (version !== VERSION) throw refused('was made by another version of Weft: list again from the first page');
  if (
    !Number.isSafeInteger(createdAt) ||
    typeof id !== 'string' ||
    typeof check !== 'number' ||
    given !== sum(JSON.stringify([version, createdAt, id, check]))
  ) {
    throw refused('is not a cursor');
  }
  if (check !== filterCheck(query)) {
    throw refused('was made for another filter: pass the filter it came with, or list again from the first page');
  }
  return { createdAt: createdAt as number, id };
}

function refused(why: string): InvalidCursorError {
  return new InvalidCursorError(`cursor ${why}`, { details: { field: 'cursor' } });
}

/** A check of the filter: its fields in a fixed order, lists sorted and deduplicated, values typed. */
function filterCheck(query: RunQuery): number {
  const set = <T extends string>(values: readonly T[] | undefined) =>
    values === undefined ? null : [...new Set(values)].sort();
  const attributes = Object.entries(query.attributes ?? {})
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = [
    set(query.statuses),
    set(query.types),
    query.idPrefix === '' ? null : (query.idPrefix ?? null),
    set(query.failureCategories),
    query.parentId ?? null,
    query.createdAfter ?? null,
    query.createdBefore ?? null,
    query.updatedAfter ?? null,
    query.updatedBefore ?? null,
    query.deadlineAfter ?? null,
    query.deadlineBefore ?? null,
    attributes,
  ];
  return sum(JSON.stringify(canonical));
}

/** FNV-1a over UTF-16 code units, 32 bits: a check against accidents, not an adversary. */
function sum(text: string): number {
  let hash = 0x81_1c_9d_c5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01_00_01_93);
  }
  return hash >>> 0;
}
