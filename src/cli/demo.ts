/**
 * `weft run --demo`: starts one run of each bundled example so a first `npm start` shows the
 * engine at work — an order that is approved by signal a moment later, a reminder, a fan-out, and a
 * ticket that is escalated by an update, queried, resolved by signal and streams its progress.
 */
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import type { Engine } from '../engine/engine.ts';

const DEMO_INPUTS: Record<string, unknown> = {
  order: { sku: 'book', quantity: 1, amount: 25 },
  reminder: { message: 'stretch your legs', after: 2_000 },
  'fan-out': { numbers: [1, 2, 3, 4] },
  ticket: { customer: 'c-1', subject: 'cannot log in' },
};

export async function startDemo(engine: Engine, workflows: readonly AnyWorkflowDefinition[]): Promise<void> {
  const stamp = Date.now().toString(36);
  for (const definition of workflows) {
    if (!(definition.name in DEMO_INPUTS)) continue;
    const handle = await engine.start(definition.name, DEMO_INPUTS[definition.name], {
      id: `demo-${definition.name}-${stamp}`,
    });
    handle.result().then(
      (result) => console.log(JSON.stringify({ demo: handle.id, result })),
      (error: unknown) => console.log(JSON.stringify({ demo: handle.id, error: String(error) })),
    );
    if (definition.name === 'order') {
      setTimeout(() => {
        engine.signal(handle.id, 'approval', { approved: true, by: 'demo' }).catch(() => undefined);
      }, 1_000);
    }
    if (definition.name === 'ticket') void demoTicket(engine, handle.id);
  }
}

/** Escalates the ticket, asks its priority, resolves it, and prints its token stream as it arrives. */
async function demoTicket(engine: Engine, id: string): Promise<void> {
  try {
    void (async () => {
      for await (const chunk of await engine.stream(id)) console.log(JSON.stringify({ demo: id, stream: chunk.data }));
    })().catch(() => undefined);
    const escalated = await engine.update(id, 'escalate', 'customer is waiting', { timeout: '5s' });
    console.log(JSON.stringify({ demo: id, update: escalated }));
    console.log(JSON.stringify({ demo: id, query: { priority: await engine.query(id, 'priority') } }));
    setTimeout(() => {
      engine.signal(id, 'resolved', { note: 'password reset' }).catch(() => undefined);
    }, 1_000);
  } catch (error) {
    console.log(JSON.stringify({ demo: id, error: String(error) }));
  }
}
