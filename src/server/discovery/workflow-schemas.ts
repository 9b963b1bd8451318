/**
 * The registered workflows' declared schemas in the discovery documents: a typed start per
 * workflow that declares an input schema.
 *
 * - OpenAPI: the start body is a `oneOf` — one branch per such workflow (`type` is its name,
 *   `input` its input schema, a component `StartWorkflow_<name>`), and one for every other type
 *   (`type` none of those names, `input` anything). Exactly one branch matches any body, so a
 *   client generator gets a union discriminated by `type` and a validator checks the input.
 * - OpenRPC: params are by name, and no param schema can tie `input` to `type`, so the workflows
 *   are listed in the root extension `x-weft-workflows` (name, version, description, input and
 *   output schema), which the start method's description points to.
 *
 * Traps it avoids:
 * - A schema's own references pointing at the document's root. A declared schema is a document of
 *   its own: `#` is itself and `#/$defs/X` its definitions. Embedded in OpenAPI it becomes a
 *   component, its `$defs` components beside it, and every such `$ref` is rewritten to them.
 * - Component names a workflow name cannot be. Names are any string; components are `\w+`, so a
 *   name is spelled in word characters and made unique by a counter.
 */
import type { WorkflowDefinitionInfo } from '../../engine/workflow-definitions.ts';
import type { JsonSchema } from './json-schema.ts';

/** The workflows that declare an input schema: the ones a document types. */
export function typedWorkflows(workflows: readonly WorkflowDefinitionInfo[]): WorkflowDefinitionInfo[] {
  return workflows.filter((workflow) => workflow.inputSchema !== null);
}

/**
 * The OpenAPI start body for `workflows` (which declare input schemas): a `oneOf` over one
 * component per workflow and the generic `body` for every other type. Adds the components to
 * `components`.
 */
export function typedStartBody(
  body: JsonSchema,
  workflows: readonly WorkflowDefinitionInfo[],
  components: Record<string, JsonSchema>,
): JsonSchema {
  const properties = (body['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = (body['required'] ?? []) as string[];
  const type = properties['type'] ?? { type: 'string' };
  const names = new ComponentNames(components);
  const branches = workflows.map((workflow) => {
    const key = names.take(`StartWorkflow_${workflow.name}`);
    const input = embedSchema(workflow.inputSchema!, names.take(`WorkflowInput_${workflow.name}`), names, components);
    const anyInput = Object.keys(workflow.inputSchema!).every((keyword) => keyword === '$schema');
    components[key] = {
      ...body,
      ...(workflow.description === null ? {} : { description: workflow.description }),
      properties: { ...properties, type: { ...type, const: workflow.name }, input },
      required: anyInput ? required : [...new Set([...required, 'input'])],
    };
    return { $ref: `#/components/schemas/${key}` };
  });
  const others = {
    ...body,
    properties: { ...properties, type: { ...type, not: { enum: workflows.map((workflow) => workflow.name) } } },
  };
  return {
    description: 'Start a run. A workflow that declares an input schema has its own branch, with `type` its name.',
    oneOf: [...branches, others],
  };
}

/**
 * `x-weft-workflows` of the OpenRPC document: each workflow that declares an input schema, with its
 * input and output schemas as introspection gives them (standalone JSON Schema 2020-12 documents,
 * each with its `$schema`).
 */
export function workflowsExtension(workflows: readonly WorkflowDefinitionInfo[]): Record<string, unknown>[] {
  return workflows.map((workflow) => ({
    name: workflow.name,
    version: workflow.version,
    description: workflow.description,
    inputSchema: workflow.inputSchema,
    outputSchema: workflow.outputSchema,
  }));
}

/** Unique component names in word characters, not taken in `components`. */
class ComponentNames {
  readonly #taken: Set<string>;
  constructor(components: Record<string, JsonSchema>) {
    this.#taken = new Set(Object.keys(components));
  }

  take(wanted: string): string {
    const base = wanted.replace(/\W/g, '_');
    let name = base;
    for (let n = 2; this.#taken.has(name); n++) name = `${base}_${n}`;
    this.#taken.add(name);
    return name;
  }
}

/**
 * `schema` as component `key` (its `$defs` as components beside it, its references rewritten to
 * them); returns the `$ref` to it.
 */
function embedSchema(
  schema: JsonSchema,
  key: string,
  names: ComponentNames,
  components: Record<string, JsonSchema>,
): JsonSchema {
  const { $schema: _dialect, $id: _id, $defs, definitions, ...rest } = schema;
  const defs = {
    ...((definitions ?? {}) as Record<string, JsonSchema>),
    ...(($defs ?? {}) as Record<string, JsonSchema>),
  };
  const targets = new Map<string, string>([['#', key]]);
  for (const name of Object.keys(defs)) {
    const component = names.take(`${key}_${name}`);
    targets.set(`#/$defs/${name}`, component);
    targets.set(`#/definitions/${name}`, component);
  }
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([keyword, child]) => {
        if (keyword !== '$ref' || typeof child !== 'string') return [keyword, rewrite(child)];
        const target = targets.get(child);
        // A reference into a definition's inside, or elsewhere: left as it is (rare, and not ours to guess).
        return [keyword, target === undefined ? child : `#/components/schemas/${target}`];
      }),
    );
  };
  components[key] = rewrite(rest) as JsonSchema;
  for (const [name, definition] of Object.entries(defs)) {
    components[targets.get(`#/$defs/${name}`)!] = rewrite(definition) as JsonSchema;
  }
  return { $ref: `#/components/schemas/${key}` };
}
