/**
 * Query strings to operation input: `?status=running&status=failed&id_prefix=o-&attribute.tier=2`
 * becomes `{ status: ['running', 'failed'], idPrefix: 'o-', attributes: { tier: 2 } }`, ready for
 * the operation's schema. The rules are listed in docs/rest-api.md ("Query parameters").
 *
 * Traps it avoids:
 * - A typo that silently widens a query. `?stauts=failed` would list every run; an unknown name is
 *   refused (400 `invalid_params`) instead, as are empty values and a single-valued parameter given
 *   twice.
 * - Attribute values losing their type. Attribute equality is typed (`1`, `'1'` and `true` are
 *   different values), so `true`/`false` and decimal numbers are read as such, and a JSON-quoted
 *   value (`attribute.code="5"`) forces a string.
 * - `attribute.__proto__` matching every run. Set on a plain object it changed the object's
 *   prototype instead of adding a filter, so the query lost its only condition; it is refused.
 * - An error as large as the URL: parameter names are clipped where a message quotes them.
 */
import { clip } from '../core/clip.ts';
import { InvalidParamsError } from './server-errors.ts';

/** Parameters that may repeat; their values always arrive as an array (OR for filters). */
const REPEATABLE: ReadonlySet<string> = new Set(['status', 'type', 'failureCategory', 'include']);
/** A canonical decimal number: no leading zeros (`007` stays a string), no exponent, no `+`. */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
const ATTRIBUTE_PREFIX = 'attribute.';

/**
 * Maps a query string onto the input fields `fields` (the operation's schema keys, path parameters
 * excluded). Throws `InvalidParamsError` for unknown, empty, repeated or malformed parameters.
 */
export function queryToInput(
  operation: string,
  query: URLSearchParams,
  fields: ReadonlySet<string>,
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const attributes: Record<string, string | number | boolean> = {};
  const refuse = (path: string, message: string): never => {
    throw new InvalidParamsError(operation, [{ path, message }]);
  };
  for (const [name, value] of query) {
    if (name.startsWith(ATTRIBUTE_PREFIX) && fields.has('attributes')) {
      const attribute = name.slice(ATTRIBUTE_PREFIX.length);
      if (attribute === '') refuse(name, 'an attribute parameter needs a name: attribute.<name>=<value>');
      if (attribute === '__proto__') refuse(name, "'__proto__' is not accepted as an attribute name");
      if (Object.hasOwn(attributes, attribute)) refuse(name, `query parameter '${clip(name)}' is given more than once`);
      attributes[attribute] = attributeValue(value, () =>
        refuse(name, 'a quoted attribute value must be a JSON string'),
      );
      continue;
    }
    const field = camelCase(name);
    if (field === 'attributes' || !fields.has(field)) {
      refuse(name, `unknown query parameter '${clip(name)}'${suggestion(fields)}`);
    }
    if (value === '') refuse(name, `query parameter '${clip(name)}' is empty`);
    if (REPEATABLE.has(field)) {
      const values = input[field] as string[] | undefined;
      if (values === undefined) input[field] = [value];
      else values.push(value);
    } else if (Object.hasOwn(input, field)) {
      refuse(name, `query parameter '${clip(name)}' is given more than once`);
    } else input[field] = value;
  }
  if (Object.keys(attributes).length > 0) input.attributes = attributes;
  return input;
}

/** `id_prefix` → `idPrefix`; camelCase names pass through unchanged. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** `true`/`false` → boolean, a canonical decimal → number, `"…"` → the JSON string, else the text. */
export function attributeValue(raw: string, badQuote: () => never): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (DECIMAL.test(raw)) {
    const number = Number(raw);
    if (Number.isFinite(number)) return number;
  }
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // fall through to the refusal
    }
    return badQuote();
  }
  return raw;
}

function suggestion(fields: ReadonlySet<string>): string {
  const names = [...fields].filter((field) => field !== 'attributes').map(snakeCase);
  if (fields.has('attributes')) names.push('attribute.<name>');
  return names.length === 0 ? '; this route takes no query parameters' : `; expected one of: ${names.join(', ')}`;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
