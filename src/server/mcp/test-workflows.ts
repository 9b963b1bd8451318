/**
 * Workflows the MCP tests drive (not part of the package): `order` declares an input schema, a
 * description and its signal, so it gets a typed start tool; `plain` declares nothing. Also the
 * module `weft mcp --workflows` loads in the stdio test.
 */
import { z } from 'zod';
import { signal } from '../../define/signal.ts';
import { workflow } from '../../define/workflow.ts';

export const approval = signal<{ approved: boolean }>('approval', {
  schema: z.object({ approved: z.boolean() }),
  description: 'Approves or declines the order',
});

export const order = workflow({
  name: 'order',
  version: '1',
  description: 'Places an order and waits for its approval',
  input: z.object({ sku: z.string().min(1), quantity: z.number().int().min(1) }),
  signals: [approval],
}).execute(async function* (ctx, input: { sku: string; quantity: number }) {
  const { approved } = yield* ctx.waitForSignal(approval);
  return { ...input, approved };
});

export const plain = workflow({ name: 'plain' }).execute(async function* () {
  return 'done';
});
