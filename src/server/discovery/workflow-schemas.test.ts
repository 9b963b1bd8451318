import { describe, expect, test } from 'bun:test';
import { MethodCallValidator, validateOpenRPCDocument } from '@open-rpc/schema-utils-js';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import { z } from 'zod';
import { workflow } from '../../index.ts';
import { useTestEngines } from '../../testing/index.ts';
import { client } from '../test-client.ts';
import { openApiDocument, openRpcDocument } from './documents.ts';

const harness = useTestEngines();

interface TreeNode {
  label: string;
  children: TreeNode[];
}
const Tree: z.ZodType<TreeNode> = z.object({
  label: z.string(),
  get children() {
    return z.array(Tree);
  },
});
const Money = z.object({ amount: z.number().positive(), currency: z.string().length(3) }).meta({ id: 'Money' });

const order = workflow({
  name: 'order',
  description: 'Charges an order',
  input: z.object({ price: Money, shipping: Money.optional() }),
  output: z.object({ receipt: z.string() }),
}).execute(async function* () {
  return { receipt: 'r-1' };
});
/** A name no component may carry, and a recursive schema (`$ref: '#'`). */
const tree = workflow({ name: 'tree walk/v2', input: Tree }).execute(async function* () {});
const untyped = workflow({ name: 'untyped' }).execute(async function* (_ctx, _input: unknown) {});

type Schema = Record<string, unknown>;
type OpenApi = { paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema> } };

function startBody(document: OpenApi): Schema {
  const post = document.paths['/api/v1/workflows']!['post'] as {
    requestBody: { content: Record<string, { schema: Schema }> };
  };
  return post.requestBody.content['application/json']!.schema;
}

/** A validator of start bodies by the document (2020-12), its component references resolved. */
function startValidator(document: OpenApi) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const rewrite = (schema: unknown): Schema =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"weft:components#/$defs/')) as Schema;
  ajv.addSchema({ $id: 'weft:components', $defs: rewrite(document.components.schemas) });
  const validate = ajv.compile(rewrite(startBody(document)));
  return (body: unknown) => validate(body);
}

describe('a typed start in the OpenAPI document', () => {
  test('is a oneOf of one branch per workflow declaring an input schema and one for every other type', async () => {
    const t = await harness(order, tree, untyped);
    const document = openApiDocument(undefined, t.engine) as unknown as OpenApi;
    const body = startBody(document);
    expect(body['oneOf']).toEqual([
      { $ref: '#/components/schemas/StartWorkflow_order' },
      { $ref: '#/components/schemas/StartWorkflow_tree_walk_v2' },
      expect.objectContaining({
        properties: expect.objectContaining({
          type: expect.objectContaining({ not: { enum: ['order', 'tree walk/v2'] } }),
        }),
      }),
    ]);
    expect(document.components.schemas['StartWorkflow_order']).toMatchObject({
      description: 'Charges an order',
      properties: { type: { const: 'order' }, input: { $ref: '#/components/schemas/WorkflowInput_order' } },
      required: ['type', 'input'],
    });
  });

  test('is valid OpenAPI 3.1, and every reference of the embedded schemas ($defs, recursion) points at a component', async () => {
    const t = await harness(order, tree, untyped);
    const document = openApiDocument(undefined, t.engine);
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors).toBeUndefined();
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]*"/g) ?? [];
    for (const ref of refs) expect(ref).toMatch(/"#\/components\/schemas\/\w+"/);
    const schemas = (document as unknown as OpenApi).components.schemas;
    expect(schemas['WorkflowInput_order_Money']).toMatchObject({ type: 'object', required: ['amount', 'currency'] });
    expect(JSON.stringify(schemas['WorkflowInput_tree_walk_v2'])).toContain(
      '"$ref":"#/components/schemas/WorkflowInput_tree_walk_v2"',
    );
  });

  test('accepts exactly the starts the server accepts: a typed input by its schema, any input of other types', async () => {
    const t = await harness(order, tree, untyped);
    const valid = startValidator(openApiDocument(undefined, t.engine) as unknown as OpenApi);
    const send = client(t.engine);
    const price = { amount: 5, currency: 'EUR' };
    const cases = [
      { type: 'order', input: { price } },
      { type: 'order', input: { price: { amount: -5, currency: 'EUR' } } },
      { type: 'order' },
      { type: 'tree walk/v2', input: { label: 'a', children: [{ label: 'b', children: [] }] } },
      { type: 'tree walk/v2', input: { label: 'a', children: [{ label: 'b' }] } },
      { type: 'untyped', input: { anything: [1, 'two'] } },
      { type: 'untyped' },
    ];
    const verdicts = [];
    for (const body of cases) {
      const reply = await send('POST', '/api/v1/workflows', body);
      verdicts.push({ body, document: valid(body), server: reply.status === 201 ? true : reply.status });
    }
    expect(verdicts.map(({ document, server }) => [document, server])).toEqual([
      [true, true],
      [false, 400],
      [false, 400],
      [true, true],
      [false, 400],
      [true, true],
      [true, true],
    ]);
  });

  test('GET /openapi.json serves it; an engine without input schemas gets the shared catalog-only document', async () => {
    const typed = await harness(order);
    const served = (await client(typed.engine)('GET', '/openapi.json')).body as OpenApi;
    expect(startBody(served)['oneOf']).toHaveLength(2);
    const plain = await harness(untyped);
    expect(openApiDocument(undefined, plain.engine)).toBe(openApiDocument());
    const servedPlain = (await client(plain.engine)('GET', '/openapi.json')).body as OpenApi;
    expect(startBody(servedPlain)['oneOf']).toBeUndefined();
  });

  test('is built once per engine and rebuilt when a workflow with an input schema is registered', async () => {
    const t = await harness(untyped);
    expect(openApiDocument(undefined, t.engine)).toBe(openApiDocument());
    t.engine.register(order);
    const first = openApiDocument(undefined, t.engine);
    expect(openApiDocument(undefined, t.engine)).toBe(first);
    expect(Object.isFrozen(first['components'])).toBe(true);
    t.engine.register(tree);
    const second = openApiDocument(undefined, t.engine) as unknown as OpenApi;
    expect(second).not.toBe(first as unknown as OpenApi);
    expect(startBody(second)['oneOf']).toHaveLength(3);
  });
});

describe('the workflows in the OpenRPC document', () => {
  test('are listed in x-weft-workflows with their input and output schemas; the document stays valid', async () => {
    const t = await harness(order, untyped);
    const document = openRpcDocument(undefined, t.engine);
    expect(validateOpenRPCDocument(structuredClone(document) as never)).toBe(true);
    expect(document['x-weft-workflows']).toEqual([
      {
        name: 'order',
        version: null,
        description: 'Charges an order',
        inputSchema: t.engine.listWorkflowDefinitions()[0]!.inputSchema,
        outputSchema: t.engine.listWorkflowDefinitions()[0]!.outputSchema,
      },
    ]);
    const start = (document['methods'] as { name: string; description?: string }[]).find(
      (method) => method.name === 'weft.workflows.start',
    );
    expect(start?.description).toContain('`x-weft-workflows`');
    const validator = new MethodCallValidator(structuredClone(document) as never);
    expect(validator.validate('weft.workflows.start', { type: 'order', input: {} })).toEqual([]);
    expect(openRpcDocument(undefined, (await harness(untyped)).engine)).toBe(openRpcDocument());
  });

  test('rpc.discover answers the same document as GET /openrpc.json', async () => {
    const t = await harness(order);
    const send = client(t.engine);
    const served = (await send('GET', '/openrpc.json')).body as Record<string, unknown>;
    expect(served['x-weft-workflows']).toHaveLength(1);
    const discovered = await send('POST', '/api/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'rpc.discover' });
    expect((discovered.body as { result: unknown }).result).toEqual(served);
  });
});
