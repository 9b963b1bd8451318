import { describe, expect, test } from 'bun:test';
import type { StandardJSONSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import { activity, signal, update, workflow, type StandardSchemaV1 } from '../index.ts';
import { useTestEngines } from '../testing/index.ts';

const harness = useTestEngines();

const approval = signal('approval', { schema: z.object({ approved: z.boolean() }), description: 'A decision' });
const discount = update('discount', { schema: z.number().min(0).max(100) });
const note = signal<string>('note');

const charge = activity({
  name: 'charge',
  timeout: '30s',
  retry: { maxAttempts: 5, nonRetryable: ['card_declined'] },
  execute: async (amount: number) => `r-${amount}`,
});

const order = workflow({
  name: 'order',
  version: '2',
  description: 'Charges an order once approved',
  input: z.object({ amount: z.number().positive(), currency: z.string().default('EUR') }),
  output: z.object({ receipt: z.string() }),
  signals: [approval, note],
  updates: [discount],
})
  .activities({ charge, ship: async (to: string) => `shipped to ${to}` })
  .execute(async function* (ctx, input) {
    return { receipt: yield* ctx.run('charge', input.amount) };
  });

const plain = workflow({ name: 'plain' })
  .activities({ charge })
  .execute(async function* () {});

/** A Standard Schema written by hand that also converts itself to JSON Schema (Standard JSON Schema). */
const selfDescribing = {
  '~standard': {
    version: 1,
    vendor: 'hand-written',
    validate: (value: unknown) => (typeof value === 'string' ? { value } : { issues: [{ message: 'not a string' }] }),
    jsonSchema: {
      input: (options: { target: string }) => ({ type: 'string', 'x-target': options.target }),
      output: () => ({ type: 'string' }),
    },
  },
} satisfies StandardSchemaV1<string> & StandardJSONSchemaV1<string>;

/** A Standard Schema that says nothing about JSON Schema: published as any value. */
const opaque: StandardSchemaV1<number> = {
  '~standard': { version: 1, vendor: 'hand-written', validate: (value) => ({ value: value as number }) },
};

describe('engine.listWorkflowDefinitions()', () => {
  test('describes each registered workflow with the JSON Schema (2020-12) of its declared schemas', async () => {
    const { engine } = await harness(order, plain);
    const [described, other] = engine.listWorkflowDefinitions();
    expect(described).toEqual({
      name: 'order',
      version: '2',
      description: 'Charges an order once approved',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: {
          amount: { type: 'number', exclusiveMinimum: 0 },
          currency: { type: 'string', default: 'EUR' },
        },
        required: ['amount'],
      },
      outputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: { receipt: { type: 'string' } },
        required: ['receipt'],
        additionalProperties: false,
      },
      activities: ['charge', 'ship'],
      signals: [
        {
          name: 'approval',
          description: 'A decision',
          schema: expect.objectContaining({ type: 'object', required: ['approved'] }),
        },
        { name: 'note', description: null, schema: null },
      ],
      updates: [
        {
          name: 'discount',
          description: null,
          schema: {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            type: 'number',
            minimum: 0,
            maximum: 100,
          },
        },
      ],
    });
    expect(other).toEqual({
      name: 'plain',
      version: null,
      description: null,
      inputSchema: null,
      outputSchema: null,
      activities: ['charge'],
      signals: [],
      updates: [],
    });
  });

  test("uses a schema's own Standard JSON Schema converter, and publishes a schema without one as any value", async () => {
    const custom = workflow({ name: 'custom', input: selfDescribing, output: opaque }).execute(async function* () {
      return 1;
    });
    const { engine } = await harness(custom);
    const [described] = engine.listWorkflowDefinitions();
    expect(described?.inputSchema).toEqual({ type: 'string', 'x-target': 'draft-2020-12' });
    expect(described?.outputSchema).toEqual({});
  });

  test('renders what JSON Schema cannot say (a date) as any value rather than failing', async () => {
    const dated = workflow({ name: 'dated', input: z.object({ at: z.date(), n: z.number() }) }).execute(
      async function* () {},
    );
    const { engine } = await harness(dated);
    expect(engine.listWorkflowDefinitions()[0]?.inputSchema).toMatchObject({
      properties: { at: {}, n: { type: 'number' } },
    });
  });

  test('returns the same frozen descriptions on every call: a caller cannot change what the next one sees', async () => {
    const { engine } = await harness(order);
    const [first] = engine.listWorkflowDefinitions();
    expect(engine.listWorkflowDefinitions()[0]).toBe(first);
    expect(Object.isFrozen(first!.inputSchema)).toBe(true);
    expect(() => {
      (first!.signals as unknown[]).push('x');
    }).toThrow();
  });

  test('lists workflows registered after the engine was created', async () => {
    const { engine } = await harness(plain);
    engine.register(order);
    expect(engine.listWorkflowDefinitions().map((w) => w.name)).toEqual(['plain', 'order']);
  });
});

describe('engine.listActivityDefinitions()', () => {
  test('lists each activity name once with the workflows that declare it, its queue, timeout and retry policy', async () => {
    const { engine } = await harness(order, plain);
    expect(engine.listActivityDefinitions()).toEqual([
      {
        name: 'charge',
        workflows: ['order', 'plain'],
        queue: null,
        timeoutMs: 30_000,
        retry: {
          maxAttempts: 5,
          initialIntervalMs: 1_000,
          backoffCoefficient: 2,
          maxIntervalMs: 60_000,
          nonRetryable: ['card_declined'],
        },
      },
      {
        name: 'ship',
        workflows: ['order'],
        queue: null,
        timeoutMs: null,
        retry: expect.objectContaining({ maxAttempts: 3 }),
      },
    ]);
  });
});
