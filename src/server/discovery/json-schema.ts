/**
 * A catalog schema as plain JSON Schema, for the discovery documents: zod's own conversion, with
 * the `$schema` marker removed (a schema embedded in OpenAPI or OpenRPC is not a document of its
 * own) and two kinds of noise dropped.
 *
 * Trap it avoids: documents nobody can read. zod spells every ISO date-time as `format` plus a
 * 400-character `pattern`, and every integer with ±2^53-1 bounds; `format: 'date-time'` already
 * says what the pattern says, and the bounds are those of any JSON number read exactly.
 */
import { z } from 'zod';

/** A JSON Schema as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** The JSON Schema dialects the documents use: 2020-12 for OpenAPI 3.1, draft-07 for OpenRPC 1.3. */
export type JsonSchemaDialect = 'draft-2020-12' | 'draft-07';

/** The JSON Schema of `schema` as a caller sends it (`input`) or receives it (`output`). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output', dialect: JsonSchemaDialect): JsonSchema {
  const generated: JsonSchema = z.toJSONSchema(schema, { io, target: dialect, unrepresentable: 'any' });
  if ('$defs' in generated || 'definitions' in generated) {
    // Embedded in a bigger document, `#/$defs/...` would point at that document's root.
    throw new Error('A catalog schema needs shared definitions; the discovery documents cannot embed it');
  }
  const { $schema: _dialect, ...schemaOnly } = generated;
  return tidy(schemaOnly) as JsonSchema;
}

/** The property schemas and required names of an object schema (an operation's input). */
export function objectFields(schema: JsonSchema): { properties: Record<string, JsonSchema>; required: string[] } {
  const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = (schema['required'] ?? []) as string[];
  return { properties, required };
}

function tidy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidy);
  if (typeof value !== 'object' || value === null) return value;
  const source = value as JsonSchema;
  const result: JsonSchema = {};
  for (const [key, child] of Object.entries(source)) {
    if (key === 'pattern' && typeof child === 'string' && source['format'] === 'date-time') continue;
    if ((key === 'minimum' || key === 'maximum') && typeof child === 'number' && isSafeIntegerBound(child)) continue;
    result[key] = tidy(child);
  }
  return result;
}

function isSafeIntegerBound(value: number): boolean {
  return value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER;
}
