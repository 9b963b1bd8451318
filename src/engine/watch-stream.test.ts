import { describe, expect, test } from 'bun:test';
import { signal, workflow, type StreamChunkRecord } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import { SQLiteStorage } from '../storage/sqlite/index.ts';
import { useTestEngines } from '../testing/index.ts';

const go = signal<string>('go');

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Writes tokens from workflow code and from an activity, around a signal wait. */
const writes: string[] = [];
const chat = workflow({ name: 'chat' })
  .activities({
    generate: async (prompt: string, actx) => {
      for (const token of prompt.split(' ')) {
        writes.push(token);
        await actx.stream.write(token);
      }
      return prompt.length;
    },
  })
  .execute(async function* (ctx, prompt: string) {
    ctx.stream.write({ role: 'system' });
    const length = yield* ctx.run('generate', prompt);
    ctx.stream.write('…');
    yield* ctx.waitForSignal(go);
    ctx.stream.write('done');
    return length;
  });

for (const [name, create] of [
  ['MemoryStorage', () => new MemoryStorage()],
  ['SQLiteStorage', () => new SQLiteStorage(':memory:')],
] as const) {
  describe(`watch and token streams on ${name}`, () => {
    const harness = useTestEngines({ storage: create });

    test('the watch log records each state change of a run with a per-run sequence number', async () => {
      const t = await harness(chat);
      const handle = await t.engine.start(chat, 'a b', { id: 'w-1' });
      await t.clock.advance(0);
      await t.engine.signal('w-1', go, 'x');
      await handle.result();
      const frames = await t.engine.readWatch('w-1');
      expect(frames.map((f) => [f.seq, f.type, f.status])).toEqual([
        [1, 'workflow:started', 'running'],
        [2, 'workflow:suspended', 'suspended'],
        [3, 'workflow:resumed', 'running'],
        [4, 'workflow:completed', 'completed'],
      ]);
      expect(await t.engine.readWatch('w-1', { after: 2 })).toEqual(frames.slice(2));
      // A finished run's watch replays and ends.
      expect((await collect(await t.engine.watch('w-1', { after: 1 }))).map((f) => f.seq)).toEqual([2, 3, 4]);
    });

    test('a live watch continues from its cursor and ends after the terminal change', async () => {
      const t = await harness(chat);
      await t.engine.start(chat, 'a', { id: 'w-2' });
      await t.clock.advance(0);
      const watching = collect(await t.engine.watch('w-2'));
      await t.engine.signal('w-2', go, 'x');
      const frames = await watching;
      expect(frames.map((f) => f.type)).toEqual([
        'workflow:started',
        'workflow:suspended',
        'workflow:resumed',
        'workflow:completed',
      ]);
    });

    test('workflow and activity chunks are stored in order with per-run sequence numbers; the stream closes at the end', async () => {
      const t = await harness(chat);
      const handle = await t.engine.start(chat, 'hello big world', { id: 's-1' });
      await t.clock.advance(0);
      const early = await t.engine.readStream('s-1');
      expect(early.closed).toBe(false);
      expect(early.chunks.map((c) => c.data)).toEqual([{ role: 'system' }, 'hello', 'big', 'world', '…']);
      expect(early.chunks.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5]);
      await t.engine.signal('s-1', go, 'x');
      await handle.result();
      const done = await t.engine.readStream('s-1', { after: 5 });
      expect(done).toMatchObject({ closed: true, chunks: [{ seq: 6, data: 'done' }] });
    });

    test('a late subscriber and one reconnecting with its cursor miss nothing and see nothing twice', async () => {
      const t = await harness(chat);
      await t.engine.start(chat, 'one two', { id: 's-2' });
      await t.clock.advance(0);
      const seen: StreamChunkRecord[] = [];
      const controller = new AbortController();
      for await (const chunk of await t.engine.stream('s-2', { signal: controller.signal })) {
        seen.push(chunk);
        if (chunk.seq === 2) break; // disconnect after two chunks
      }
      const rest = collect(await t.engine.stream('s-2', { after: seen.at(-1)!.seq }));
      await t.engine.signal('s-2', go, 'x');
      const all = [...seen, ...(await rest)];
      expect(all.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(all.map((c) => c.data)).toEqual([{ role: 'system' }, 'one', 'two', '…', 'done']);
    });

    test('a replay after a restart does not write workflow chunks again', async () => {
      const t = await harness(chat);
      await t.engine.start(chat, 'x y', { id: 's-3' });
      await t.clock.advance(0);
      writes.length = 0;
      const engine = await t.restart();
      await engine.signal('s-3', go, 'x');
      await engine.handle('s-3').result();
      expect(writes).toEqual([]); // the activity is journaled: not run again
      const { chunks } = await engine.readStream('s-3');
      expect(chunks.map((c) => c.data)).toEqual([{ role: 'system' }, 'x', 'y', '…', 'done']);
    });

    test('reading the stream or watch of an unknown run is workflow_not_found; a bad cursor is invalid_argument', async () => {
      const t = await harness(chat);
      await expect(t.engine.stream('nope')).rejects.toMatchObject({ code: 'workflow_not_found' });
      await expect(t.engine.watch('nope')).rejects.toMatchObject({ code: 'workflow_not_found' });
      await expect(t.engine.readStream('nope')).rejects.toMatchObject({ code: 'workflow_not_found' });
      await t.engine.start(chat, 'a', { id: 's-4' });
      await expect(t.engine.readStream('s-4', { after: 1.5 })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(t.engine.readWatch('s-4', { limit: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
    });
  });
}

describe('the watch log of a run cancelled while evicted', () => {
  const harness = useTestEngines({ maxSuspendedInMemory: 0 });

  test('gets the same terminal frame and event as a resident run, numbered after its stored frames', async () => {
    const t = await harness(chat);
    await t.engine.start(chat, 'a', { id: 'ev-1' });
    await t.clock.advance(0);
    await t.engine.cancel('ev-1');
    const frames = await t.engine.readWatch('ev-1');
    expect(frames.map((f) => [f.seq, f.type, f.status])).toEqual([
      [1, 'workflow:started', 'running'],
      [2, 'workflow:suspended', 'suspended'],
      [3, 'workflow:cancelled', 'cancelled'],
    ]);
    expect(frames[2]!.data).toEqual({ workflowType: 'chat' });
    const cancelled = (await t.engine.readEvents()).filter((e) => e.type === 'workflow:cancelled');
    expect(cancelled.map((e) => [e.workflowId, e.data])).toEqual([['ev-1', { workflowType: 'chat' }]]);
    expect((await t.engine.get('ev-1'))?.error).toMatchObject({ code: 'workflow_cancelled' });
  });
});
