import { describe, expect, test } from 'bun:test';
import { z } from 'zod';
import {
  InvalidArgumentError,
  isStandardSchema,
  signal,
  update,
  workflow,
  type StandardSchemaV1,
  type WorkflowInput,
  type WorkflowOutput,
} from '../index.ts';

/** A Standard Schema written by hand: what any library other than zod hands Weft. */
const evenNumber: StandardSchemaV1<number> = {
  '~standard': {
    version: 1,
    vendor: 'hand-written',
    validate: (value) =>
      typeof value === 'number' && value % 2 === 0 ? { value } : { issues: [{ message: 'expected an even number' }] },
  },
};

describe('workflow() with schemas', () => {
  test('keeps the description, the input and output schemas and the declared signals and updates', () => {
    const input = z.object({ amount: z.number() });
    const output = z.string();
    const approval = signal('approval', { schema: z.object({ approved: z.boolean() }) });
    const discount = update('discount', { schema: z.number(), description: 'Percent off' });
    const order = workflow({
      name: 'order',
      description: 'Charges an order',
      input,
      output,
      signals: [approval],
      updates: [discount],
    }).execute(async function* (_ctx, { amount }) {
      return `charged ${amount}`;
    });
    expect(order).toMatchObject({ name: 'order', version: null, description: 'Charges an order' });
    expect(order.inputSchema).toBe(input);
    expect(order.outputSchema).toBe(output);
    expect([...order.signals]).toEqual([['approval', approval]]);
    expect([...order.updates]).toEqual([['discount', discount]]);
    expect(Object.isFrozen(order)).toBe(true);
  });

  test('without schemas, the definition has none and declares no signals or updates', () => {
    const plain = workflow({ name: 'plain' }).execute(async function* (_ctx, n: number) {
      return n;
    });
    expect(plain).toMatchObject({ description: null, inputSchema: undefined, outputSchema: undefined });
    expect(plain.signals.size + plain.updates.size).toBe(0);
  });

  test('types the body and the start from the input schema, and the return value from the output schema', () => {
    const typed = workflow({
      name: 'typed',
      input: z.object({ n: z.number().default(2) }),
      output: z.string(),
    }).execute(async function* (_ctx, input) {
      const n: number = input.n;
      return String(n);
    });
    const input: WorkflowInput<typeof typed> = { n: 1 };
    const defaulted: WorkflowInput<typeof typed> = {}; // n has a default: a start may leave it out
    const output: WorkflowOutput<typeof typed> = 'x';
    // @ts-expect-error the input schema says n is a number
    const wrong: WorkflowInput<typeof typed> = { n: 'one' };
    // @ts-expect-error the output schema says the body returns a string
    workflow({ name: 'w', output: z.string() }).execute(async function* () {
      return 3;
    });
    expect([typed.name, input, defaulted, output, wrong]).toHaveLength(5);
  });

  test('takes any Standard Schema, not only zod', () => {
    const even = workflow({ name: 'even', input: evenNumber }).execute(async function* (_ctx, n) {
      return n / 2;
    });
    expect(even.inputSchema).toBe(evenNumber);
    expect(isStandardSchema(evenNumber)).toBe(true);
    expect(isStandardSchema(z.string())).toBe(true);
  });

  test('refuses what is not a Standard Schema, a second signal of one name, and non-definitions in the lists', () => {
    const build = (options: Record<string, unknown>) => () =>
      workflow({ name: 'bad', ...options }).execute(async function* () {});
    expect(build({ input: { type: 'object' } })).toThrow(InvalidArgumentError);
    expect(build({ input: { type: 'object' } })).toThrow("workflow 'bad': input must be a Standard Schema");
    expect(build({ output: 'string' })).toThrow(InvalidArgumentError);
    expect(build({ description: 3 })).toThrow("workflow 'bad': description must be a string");
    expect(build({ signals: [signal('a'), signal('a')] })).toThrow("signals names 'a' twice");
    expect(build({ signals: ['a'] })).toThrow('signals takes signal() definitions');
    expect(build({ updates: [signal('a')] })).toThrow('updates takes update() definitions');
    expect(build({ updates: update('a') })).toThrow('updates must be an array');
  });
});

describe('signal() and update()', () => {
  test('take an optional schema and description; their payload type follows the schema', () => {
    const approval = signal('approval', { schema: z.object({ approved: z.boolean() }), description: 'A decision' });
    expect(approval).toMatchObject({ kind: 'signal', name: 'approval', description: 'A decision' });
    expect(isStandardSchema(approval.schema)).toBe(true);
    const payload: NonNullable<(typeof approval)['__payload']> = { approved: true };
    // @ts-expect-error the schema says approved is a boolean
    const wrong: NonNullable<(typeof approval)['__payload']> = { approved: 'yes' };
    expect([payload, wrong]).toHaveLength(2);

    const discount = update<number, number>('discount');
    expect(discount).toEqual({ kind: 'update', name: 'discount', schema: undefined, description: null });
    expect(Object.isFrozen(discount)).toBe(true);
    expect(signal('plain')).toEqual({ kind: 'signal', name: 'plain', schema: undefined, description: null });
  });

  test('refuse an empty name and a schema that is not a Standard Schema', () => {
    expect(() => update('')).toThrow('update(name) needs a non-empty name');
    expect(() => update('u', { schema: { type: 'number' } as never })).toThrow(
      "update 'u': schema must be a Standard Schema",
    );
    expect(() => signal('s', { schema: 'number' as never })).toThrow("signal 's': schema must be a Standard Schema");
  });
});
