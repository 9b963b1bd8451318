import { describe, expect, test } from 'bun:test';
import { Engine, signal, workflow, type EngineEvent } from '../index.ts';
import { MemoryStorage } from '../storage/memory/index.ts';
import type { Mutation } from '../storage/storage.ts';
import { ManualClock } from '../testing/index.ts';

/** A MemoryStorage whose commits fail while `failing` is set, as a full disk would. */
class FlakyStorage extends MemoryStorage {
  failing = false;
  override async commit(mutations: readonly Mutation[]): Promise<void> {
    if (this.failing) throw Object.assign(new Error('disk full'), { code: 'storage_write_failed' });
    return super.commit(mutations);
  }
}

const go = signal<string>('go');

describe('storage failures', () => {
  test('a start whose commit fails rejects and leaves no run behind', async () => {
    const storage = new FlakyStorage();
    const wf = workflow({ name: 'flaky-start' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(go);
    });
    await using engine = await Engine.create({ storage, workflows: [wf], clock: new ManualClock() });
    storage.failing = true;
    await expect(engine.start(wf, undefined, { id: 'fs' })).rejects.toMatchObject({ code: 'storage_write_failed' });
    storage.failing = false;
    expect(await engine.get('fs')).toBeUndefined();
    // The id is free again: the failed start left nothing in memory either.
    await engine.start(wf, undefined, { id: 'fs' });
    await engine.signal('fs', go, 'ok');
    expect(await engine.handle('fs').result()).toBe('ok');
  });

  test('a signal whose commit fails rejects, and is not delivered', async () => {
    const storage = new FlakyStorage();
    const wf = workflow({ name: 'flaky-signal' }).execute(async function* (ctx) {
      return yield* ctx.waitForSignal(go);
    });
    const clock = new ManualClock();
    await using engine = await Engine.create({ storage, workflows: [wf], clock });
    await engine.start(wf, undefined, { id: 'sg' });
    await clock.advance(0);
    storage.failing = true;
    await expect(engine.signal('sg', go, 'lost')).rejects.toMatchObject({ code: 'storage_write_failed' });
    storage.failing = false;
    expect((await storage.getJournal('sg')).filter((e) => e.kind === 'signal')).toEqual([]);
  });

  test('a run whose step commit fails reports engine:error, keeps its last committed state, and finishes after a restart', async () => {
    const storage = new FlakyStorage();
    const clock = new ManualClock();
    let runs = 0;
    const wf = workflow({ name: 'flaky-step' })
      .activities({ work: () => ++runs })
      .execute(async function* (ctx) {
        yield* ctx.sleep('1m');
        const n = yield* ctx.run('work', undefined);
        yield* ctx.sleep('1m');
        return n;
      });
    const first = await Engine.create({ storage, workflows: [wf], clock });
    const errors: unknown[] = [];
    first.addEventListener('engine:error', (event) => errors.push((event as EngineEvent).data.error));
    const handle = await first.start(wf, undefined, { id: 'st' });
    const outcome = handle.result().catch((error: unknown) => error);
    await clock.advance(0);
    storage.failing = true;
    await clock.advance('1m');
    expect(errors).toHaveLength(1);
    expect(await outcome).toMatchObject({ code: 'storage_write_failed' });
    storage.failing = false;
    expect((await storage.getRun('st'))?.status).toBe('suspended');
    await first.close();

    await using second = await Engine.create({ storage, workflows: [wf], clock });
    await clock.advance('2m');
    expect(await second.handle('st').result()).toBe(1);
    expect(runs).toBe(1);
  });
});
