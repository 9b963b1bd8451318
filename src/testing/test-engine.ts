/**
 * A test harness around an Engine: in-memory storage and a manual clock by default, and
 * `restart()` to open a fresh engine over the same storage — the way to prove a behaviour
 * survives a process restart without a child process.
 */
import { afterEach } from 'bun:test';
import type { Clock } from '../core/clock.ts';
import type { RandomSource } from '../core/random.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import { Engine } from '../engine/engine.ts';
import { MemoryStorage } from '../storage/memory/memory-storage.ts';
import type { Storage } from '../storage/storage.ts';
import { ManualClock } from './manual-clock.ts';

export interface TestEngineOptions {
  workflows: readonly AnyWorkflowDefinition[];
  /** A storage, or a factory called once per test engine (default: a new MemoryStorage). */
  storage?: Storage | (() => Storage);
  clock?: Clock;
  random?: RandomSource;
  maxPayloadBytes?: number;
  maxSuspendedInMemory?: number;
  eventRetention?: number;
}

export interface TestEngine extends AsyncDisposable {
  engine: Engine;
  storage: Storage;
  clock: ManualClock;
  /** Closes the current engine and opens a new one over the same storage (recovering runs). */
  restart(workflows?: readonly AnyWorkflowDefinition[]): Promise<Engine>;
  /** Closes the engine and the storage. */
  close(): Promise<void>;
}

/**
 * @example
 * await using t = await createTestEngine({ workflows: [order] });
 * const handle = await t.engine.start(order, input);
 * await t.clock.advance('1h');
 */
export async function createTestEngine(options: TestEngineOptions): Promise<TestEngine> {
  const storage = typeof options.storage === 'function' ? options.storage() : (options.storage ?? new MemoryStorage());
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock();
  const make = (workflows: readonly AnyWorkflowDefinition[]): Promise<Engine> =>
    Engine.create({
      storage,
      clock,
      workflows,
      ...(options.random ? { random: options.random } : {}),
      ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
      ...(options.maxSuspendedInMemory !== undefined ? { maxSuspendedInMemory: options.maxSuspendedInMemory } : {}),
      ...(options.eventRetention !== undefined ? { eventRetention: options.eventRetention } : {}),
      shutdownGracePeriod: 0,
    });
  const harness: TestEngine = {
    engine: await make(options.workflows),
    storage,
    clock,
    async restart(workflows = options.workflows) {
      await harness.engine.close();
      harness.engine = await make(workflows);
      return harness.engine;
    },
    async close() {
      await harness.engine.close();
      await storage.close();
    },
    [Symbol.asyncDispose]: () => harness.close(),
  };
  return harness;
}

/**
 * For a test file: returns a function that opens a test engine with the given workflows, and
 * registers an `afterEach` that closes every engine (and storage) it opened.
 *
 * @example
 * const harness = useTestEngines();
 * test('…', async () => { const t = await harness(order); … });
 */
export function useTestEngines(
  defaults: Omit<TestEngineOptions, 'workflows'> = {},
): (...workflows: AnyWorkflowDefinition[]) => Promise<TestEngine> {
  const open: TestEngine[] = [];
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });
  return async (...workflows) => {
    const harness = await createTestEngine({ ...defaults, workflows });
    open.push(harness);
    return harness;
  };
}
