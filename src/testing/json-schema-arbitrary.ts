/**
 * Values a JSON Schema accepts, as a fast-check arbitrary: the part of JSON Schema 2020-12 the
 * discovery documents use (`type`, `const`, `enum`, `not: { enum }`, `anyOf`/`oneOf`, string lengths, patterns and
 * `date-time`, integer and number bounds, arrays, objects with `properties`, `required`,
 * `propertyNames`, `additionalProperties` and `maxProperties`). For the schema-driven fuzz test of
 * the OpenAPI document (server/discovery/openapi-conformance.test.ts); not part of `./testing`.
 *
 * Traps it avoids:
 * - Patterns fast-check cannot read. `fc.stringMatching` has no lookarounds (`(?!__proto__$)`), so
 *   a pattern is generated without them and the result kept only when the whole pattern matches.
 * - Strings no client can send. A lone surrogate cannot be percent-encoded into a URL or spelled
 *   in UTF-8, so every generated string is well-formed Unicode (what the server refuses otherwise
 *   is its own test's business, in src/engine/well-formed-names.test.ts).
 * - Sizes that make a run slow. Lengths and counts are drawn small, with each bound itself (the
 *   longest string, the largest integer) drawn now and then, since bounds are where drift hides.
 */
import fc from 'fast-check';

/** A JSON Schema as a plain object. */
export type JsonSchema = Record<string, unknown>;

export interface SchemaArbitraryOptions {
  /**
   * Values to mix in for object properties of a given name, wherever they appear (known run ids
   * for `id`, registered workflow types for `type`), so generated requests reach existing state.
   */
  hints?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** Resolves `{ $ref }` (the document's `#/components/schemas/...`). */
  resolve?: (ref: string) => JsonSchema;
}

const SMALL = 4;
const LONGEST_DRAWN_STRING = 24;
const INT32 = 2 ** 31 - 1;
const LOOKAROUND = /\(\?<?[=!][^()]*\)/g;

/**
 * An arbitrary of the values `schema` accepts.
 *
 * @example
 * fc.sample(schemaArbitrary({ type: 'integer', minimum: 1, maximum: 1000 }), 3); // e.g. [1, 640, 1000]
 */
export function schemaArbitrary(schema: unknown, options: SchemaArbitraryOptions = {}): fc.Arbitrary<unknown> {
  if (schema === true || schema === undefined) return anyJson();
  if (typeof schema !== 'object' || schema === null) throw new Error(`unsupported schema: ${JSON.stringify(schema)}`);
  const s = schema as JsonSchema;
  const excluded = excludedValues(s);
  if (excluded !== undefined) {
    const { not: _not, ...rest } = s;
    return schemaArbitrary(rest, options).filter((value) => !excluded.includes(value));
  }
  if (typeof s['$ref'] === 'string') {
    if (options.resolve === undefined) throw new Error(`no resolver for ${s['$ref']}`);
    return schemaArbitrary(options.resolve(s['$ref']), options);
  }
  if ('const' in s) return fc.constant(s['const']);
  if (Array.isArray(s['enum'])) return fc.constantFrom(...(s['enum'] as unknown[]));
  const branches = (s['anyOf'] ?? s['oneOf']) as unknown[] | undefined;
  if (Array.isArray(branches)) return fc.oneof(...branches.map((branch) => schemaArbitrary(branch, options)));
  const type = s['type'];
  if (Array.isArray(type))
    return fc.oneof(...type.map((one: unknown) => schemaArbitrary({ ...s, type: one }, options)));
  switch (type) {
    case undefined:
      return anyJson();
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return integer(s);
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        ...(num(s['minimum']) === undefined ? {} : { min: num(s['minimum']) }),
        ...(num(s['maximum']) === undefined ? {} : { max: num(s['maximum']) }),
      });
    case 'string':
      return string(s);
    case 'array': {
      const maxItems = num(s['maxItems']) ?? SMALL;
      const minLength = num(s['minItems']) ?? 0;
      return fc.array(schemaArbitrary(s['items'], options), { minLength, maxLength: Math.min(maxItems, SMALL) });
    }
    case 'object':
      return object(s, options);
    default:
      throw new Error(`unsupported schema type: ${String(type)}`);
  }
}

/** The values `not: { enum }` rules out, if the schema has that. */
function excludedValues(s: JsonSchema): unknown[] | undefined {
  const not = s['not'] as JsonSchema | undefined;
  return Array.isArray(not?.['enum']) ? (not['enum'] as unknown[]) : undefined;
}

/** Any JSON value, small, with well-formed strings. */
function anyJson(): fc.Arbitrary<unknown> {
  return fc.jsonValue({ maxDepth: 2, stringUnit: 'grapheme' });
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/**
 * Integers in the schema's bounds; without a bound, integers past 2^53 too (JSON Schema sets no
 * limit, and a server that refuses them must say so with `maximum`).
 */
function integer(s: JsonSchema): fc.Arbitrary<number> {
  const min = num(s['minimum']) ?? -(2 ** 64);
  const max = num(s['maximum']) ?? 2 ** 64;
  const small = fc.integer({ min: Math.max(min, -INT32), max: Math.min(max, INT32) });
  const wide = fc.maxSafeInteger().filter((n) => n >= min && n <= max);
  const edges = [min, max, 2 ** 53, -(2 ** 53)].filter((n) => n >= min && n <= max);
  return fc.oneof({ arbitrary: small, weight: 6 }, { arbitrary: wide, weight: 1 }, fc.constantFrom(...edges));
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function string(s: JsonSchema): fc.Arbitrary<string> {
  const minLength = num(s['minLength']) ?? 0;
  const maxLength = num(s['maxLength']);
  const pattern = typeof s['pattern'] === 'string' ? new RegExp(s['pattern'], 'u') : undefined;
  const fits = (text: string): boolean => {
    const length = codePoints(text);
    return (
      text.isWellFormed() &&
      length >= minLength &&
      (maxLength === undefined || length <= maxLength) &&
      (pattern === undefined || pattern.test(text))
    );
  };
  if (s['format'] === 'date-time') {
    return fc
      .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((date) => date.toISOString())
      .filter(fits);
  }
  if (pattern !== undefined) {
    return fc.stringMatching(new RegExp(pattern.source.replace(LOOKAROUND, ''))).filter(fits);
  }
  const drawn = fc.string({
    unit: 'grapheme',
    minLength,
    maxLength: Math.min(maxLength ?? Infinity, LONGEST_DRAWN_STRING),
  });
  if (maxLength === undefined || maxLength <= LONGEST_DRAWN_STRING) return drawn.filter(fits);
  const longest = fc.string({ unit: 'grapheme-ascii', minLength: maxLength, maxLength });
  return fc.oneof({ arbitrary: drawn, weight: 8 }, { arbitrary: longest, weight: 1 }).filter(fits);
}

function object(s: JsonSchema, options: SchemaArbitraryOptions): fc.Arbitrary<Record<string, unknown>> {
  const properties = (s['properties'] ?? {}) as Record<string, unknown>;
  const required = new Set((s['required'] ?? []) as string[]);
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties)) {
    const generated = schemaArbitrary(property, options);
    const hint = options.hints?.[name];
    // A hint must still be a value the property accepts: `not: { enum }` keeps the typed start's
    // workflow names out of the branch for every other type.
    const excluded = excludedValues(property as JsonSchema);
    const hinted = hint === undefined || excluded === undefined ? hint : hint.filter((v) => !excluded.includes(v));
    fields[name] = hinted === undefined ? generated : fc.oneof({ arbitrary: hinted, weight: 3 }, generated);
  }
  const named = fc.record(fields, { requiredKeys: Object.keys(fields).filter((name) => required.has(name)) });
  const additional = s['additionalProperties'];
  if (additional === undefined || additional === false || Object.keys(properties).length > 0) return named;
  const maxKeys = Math.min(num(s['maxProperties']) ?? SMALL, SMALL);
  const keys = schemaArbitrary({ type: 'string', ...(s['propertyNames'] as JsonSchema | undefined) }, options);
  return fc.dictionary(keys as fc.Arbitrary<string>, schemaArbitrary(additional, options), { maxKeys });
}
