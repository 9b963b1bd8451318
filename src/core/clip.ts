/**
 * Caller input quoted in an error, cut to a bounded length.
 *
 * Trap it avoids: an error that costs more than the request. Error messages and details quote what
 * the caller sent (an id, a type, a method name); a 900 KB `type` was echoed twice into a 1.8 MB
 * `400`. Every quoted value goes through `clip`, so an error stays small whatever it was given, and
 * a value of a legitimate length (ids and names are at most 256 characters) is quoted whole.
 */

/** Longest caller value an error quotes whole, in UTF-16 code units. */
export const MAX_QUOTED_LENGTH = 256;

/**
 * `value` as an error may quote it: unchanged when at most `max` code units long, otherwise its
 * first `max` (never splitting a surrogate pair) followed by `…` and the original length.
 *
 * @example
 * throw new WorkflowNotFoundError(id); // its message quotes clip(id)
 * clip('x'.repeat(900_000)); // 'xxx…xxx… (900000 characters)', 256 x's
 */
export function clip(value: string, max: number = MAX_QUOTED_LENGTH): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${value.slice(0, end)}… (${value.length} characters)`;
}

/**
 * `String(value)` clipped: for quoting a value of unknown type.
 *
 * @example
 * `groupBy ${clipped(groupBy)} is not one of ...`
 */
export function clipped(value: unknown, max: number = MAX_QUOTED_LENGTH): string {
  let text: string;
  try {
    text = String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return clip(text, max);
}
