/**
 * Introspection of registered definitions: `engine.listWorkflowDefinitions()` and
 * `listActivityDefinitions()` — names, versions, descriptions and the JSON Schema of each declared
 * schema, for the discovery documents, MCP tools and anyone building a form or a client.
 *
 * JSON Schema is derived from a Standard Schema in this order: the vendor's Standard JSON Schema
 * converter (`schema['~standard'].jsonSchema.input({ target: 'draft-2020-12' })`, which zod 4.2+
 * has); else, for a zod schema, `z.toJSONSchema`; else `{}` (any value). Zod is asked to render
 * what JSON Schema cannot say (a `Date`, a transform's output) as `{}` rather than fail.
 *
 * Traps it avoids:
 * - A conversion per call. Definitions are frozen, so each one's description is built once (per
 *   definition, weakly held) and shared, deeply frozen: a caller cannot change what the next sees.
 * - One odd schema breaking the listing. A converter that throws yields `{}` for that schema only.
 */
import { z } from 'zod';
import type { ActivityDefinition } from '../define/activity.ts';
import type { JsonSchema, StandardSchemaV1 } from '../define/schema.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';

/**
 * A registered workflow as `engine.listWorkflowDefinitions()` describes it. Schemas are JSON Schema
 * (draft 2020-12) of what a caller sends (`input`) or receives (`output`); `null` where none was
 * declared.
 *
 * @example
 * const [order] = engine.listWorkflowDefinitions();
 * order.inputSchema; // { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', … }
 */
export interface WorkflowDefinitionInfo {
  name: string;
  version: string | null;
  description: string | null;
  /** JSON Schema of the declared input, `null` when none is declared. */
  inputSchema: JsonSchema | null;
  /** JSON Schema of the declared output, `null` when none is declared. */
  outputSchema: JsonSchema | null;
  /** The names `ctx.run` calls its declared activities by. */
  activities: string[];
  signals: MessageDefinitionInfo[];
  updates: MessageDefinitionInfo[];
}

/**
 * A signal or update a workflow declares, with the JSON Schema of its payload (`null` when none).
 *
 * @example
 * engine.listWorkflowDefinitions()[0]?.signals; // [{ name: 'approval', description: null, schema: { … } }]
 */
export interface MessageDefinitionInfo {
  name: string;
  description: string | null;
  schema: JsonSchema | null;
}

/**
 * An activity as `engine.listActivityDefinitions()` describes it: by the name `ctx.run` calls it,
 * with the workflows that declare it and its settings (from the first declaring workflow, when two
 * declare different activities under one name).
 *
 * @example
 * engine.listActivityDefinitions(); // [{ name: 'charge', workflows: ['order'], queue: null, timeoutMs: 30000, retry: { … } }]
 */
export interface ActivityDefinitionInfo {
  name: string;
  workflows: string[];
  queue: string | null;
  timeoutMs: number | null;
  retry: {
    maxAttempts: number;
    initialIntervalMs: number;
    backoffCoefficient: number;
    maxIntervalMs: number;
    nonRetryable: string[];
  };
}

const described = new WeakMap<AnyWorkflowDefinition, WorkflowDefinitionInfo>();

/** The frozen description of `definition`, built on first use. */
export function describeWorkflow(definition: AnyWorkflowDefinition): WorkflowDefinitionInfo {
  let info = described.get(definition);
  if (info === undefined) {
    info = deepFreeze({
      name: definition.name,
      version: definition.version,
      description: definition.description,
      inputSchema: schemaOrNull(definition.inputSchema, 'input'),
      outputSchema: schemaOrNull(definition.outputSchema, 'output'),
      activities: [...definition.activities.keys()],
      signals: [...definition.signals.values()].map(messageInfo),
      updates: [...definition.updates.values()].map(messageInfo),
    });
    described.set(definition, info);
  }
  return info;
}

/** The activities of `definitions`, one entry per name, in the order first declared. */
export function describeActivities(definitions: Iterable<AnyWorkflowDefinition>): ActivityDefinitionInfo[] {
  const byName = new Map<string, ActivityDefinitionInfo>();
  for (const workflow of definitions) {
    for (const [name, activity] of workflow.activities) {
      const existing = byName.get(name);
      if (existing === undefined) byName.set(name, activityInfo(name, workflow.name, activity));
      else if (!existing.workflows.includes(workflow.name)) existing.workflows.push(workflow.name);
    }
  }
  return [...byName.values()];
}

/**
 * The JSON Schema (draft 2020-12) of what `schema` accepts (`input`) or produces (`output`): the
 * vendor's Standard JSON Schema converter, else zod's `z.toJSONSchema`, else `{}`.
 *
 * @example
 * jsonSchemaOfStandard(z.object({ n: z.number() }), 'input'); // { $schema: '…2020-12…', type: 'object', … }
 */
export function jsonSchemaOfStandard(schema: StandardSchemaV1, io: 'input' | 'output'): JsonSchema {
  const props = schema['~standard'] as StandardSchemaV1.Props & {
    jsonSchema?: { input?: unknown; output?: unknown };
  };
  const isZod = props.vendor === 'zod';
  const convert = props.jsonSchema?.[io];
  if (typeof convert === 'function') {
    try {
      const options = {
        target: 'draft-2020-12',
        ...(isZod ? { libraryOptions: { unrepresentable: 'any' } } : {}),
      };
      const converted: unknown = (convert as (options: unknown) => unknown).call(props.jsonSchema, options);
      if (typeof converted === 'object' && converted !== null) return plainCopy(converted);
    } catch {
      // Fall through: zod's own converter, or any.
    }
  }
  if (isZod) {
    try {
      return plainCopy(
        z.toJSONSchema(schema as unknown as z.ZodType, { io, target: 'draft-2020-12', unrepresentable: 'any' }),
      );
    } catch {
      // A zod schema of another major version: any.
    }
  }
  return {};
}

/**
 * A JSON-only copy: the converter may hand back objects the schema's author still holds (zod's
 * `.meta()` values), which freezing the description must not freeze for them.
 */
function plainCopy(value: object): JsonSchema {
  return JSON.parse(JSON.stringify(value)) as JsonSchema;
}

function schemaOrNull(schema: StandardSchemaV1 | undefined, io: 'input' | 'output'): JsonSchema | null {
  return schema === undefined ? null : jsonSchemaOfStandard(schema, io);
}

function messageInfo(definition: {
  name: string;
  description: string | null;
  schema: StandardSchemaV1 | undefined;
}): MessageDefinitionInfo {
  return {
    name: definition.name,
    description: definition.description,
    schema: schemaOrNull(definition.schema, 'input'),
  };
}

function activityInfo(
  name: string,
  workflow: string,
  activity: ActivityDefinition<never, unknown>,
): ActivityDefinitionInfo {
  const retry = activity.retry;
  return {
    name,
    workflows: [workflow],
    queue: activity.queue ?? null,
    timeoutMs: activity.timeoutMs ?? null,
    retry: {
      maxAttempts: retry.maxAttempts,
      initialIntervalMs: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maxIntervalMs: retry.maxIntervalMs,
      nonRetryable: [...retry.nonRetryable],
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
