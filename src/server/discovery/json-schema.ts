/**
 * A catalog schema as plain JSON Schema, for the discovery documents: zod's own conversion, with
 * the `$schema` marker removed (a schema embedded in OpenAPI or OpenRPC is not a document of its
 * own) and, in what the server sends, two kinds of noise dropped.
 *
 * Traps it avoids:
 * - A document looser than the server. What a caller sends is published exactly as zod checks it:
 *   the ±2^53-1 bounds of every integer (a larger `offset` is refused) and the `pattern` of every
 *   ISO date-time (zod's is narrower than `format: 'date-time'`), however long.
 * - Documents nobody can read. In what the server sends, the same bounds and patterns say nothing a
 *   client needs (the server never sends a number it cannot read back), so they are dropped there.
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
  return io === 'output' ? (tidy(schemaOnly) as JsonSchema) : schemaOnly;
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
