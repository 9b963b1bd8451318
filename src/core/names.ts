/**
 * The rules every string Weft stores as a key or a name follows — run ids, idempotency keys,
 * workflow types, signal, update and query names, update ids, search attribute names and string
 * values — shared by the engine (which enforces them at its public methods) and the wire schemas.
 *
 * Traps it avoids:
 * - Distinct keys merging in storage. A lone surrogate (`'\ud800'`) is not Unicode: UTF-8 cannot
 *   spell it, so SQLite stores it as U+FFFD and `'ik-\ud800'` and `'ik-\udc00'` became one
 *   idempotency key, the second caller's input silently dropped. Such strings are refused with
 *   `invalid_argument` before anything is looked up or stored.
 * - `__proto__` as an attribute name. In JavaScript it names an object's prototype, so zod drops it
 *   from records, msgpackr's object decoding renames it (the server decodes MessagePack maps itself,
 *   keeping the key) and `attributes[name] = value` sets the prototype: a filter on
 *   it silently matched every run and a write of it silently stored nothing. It is refused; every
 *   other name (`constructor`, `toString`) is an ordinary own key.
 */
import { InvalidArgumentError } from './errors.ts';

/** Longest workflow id, idempotency key, update id, workflow type, or signal, update or query name, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 256;

/** Longest search attribute name. */
export const MAX_ATTRIBUTE_NAME_LENGTH = 128;

/**
 * A search attribute name: 1–128 letters, digits, `_ - . :` (names appear in URLs as
 * `attribute.<name>`), except `__proto__`. The wire schemas and the engine share this pattern.
 */
export const ATTRIBUTE_NAME_PATTERN = /^(?!__proto__$)[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Throws `invalid_argument` when `value` holds a lone surrogate (is not well-formed UTF-16), naming
 * `what` but not quoting the value.
 *
 * @example
 * checkWellFormed('ik-\ud800', 'idempotencyKey'); // throws InvalidArgumentError
 */
export function checkWellFormed(value: string, what: string): void {
  if (!value.isWellFormed()) {
    throw new InvalidArgumentError(
      `${what} must be well-formed Unicode: it holds a lone surrogate (U+D800–U+DFFF), which storage cannot keep apart from U+FFFD`,
      { details: { field: what } },
    );
  }
}

/**
 * Throws `invalid_argument` unless `value` is a non-empty, well-formed string of at most
 * `MAX_NAME_LENGTH` code units: what every id, key and name must be before the engine looks it up
 * or stores it.
 *
 * @example
 * checkName(options.idempotencyKey, 'idempotencyKey');
 */
export function checkName(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(`${what} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`, {
      details: { field: what },
    });
  }
  checkWellFormed(value, what);
}
