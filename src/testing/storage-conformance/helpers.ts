/**
 * Shared fixtures for the storage conformance suite: the context every area receives, record
 * makers with sensible defaults, a seeded run, and the byte-agnostic comparison and rejection
 * helpers. The trap it avoids is adapter-specific byte types: Postgres clients hand back `Buffer`s,
 * others plain `Uint8Array`s, so comparisons go through `plain()` and check bytes, not classes.
 */
import type {
  EventRecord,
  JournalEntry,
  Mutation,
  RunRecord,
  Storage,
  StreamChunk,
  UpdateRecord,
  WatchFrame,
} from '../../storage/storage.ts';
import { RunStatus, UpdateStatus } from '../../storage/storage.ts';

/** What each area of the suite needs from the entry: a way to open a fresh storage it will close. */
export interface ConformanceContext {
  /** Returns a fresh, empty storage that is closed after the current test, even when it fails. */
  open: () => Promise<Storage>;
}

/** A pending `order` run with every optional field null; `overrides` set the fields a test cares about. */
export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'run',
    type: 'order',
    version: null,
    status: RunStatus.pending,
    input: new Uint8Array([1, 2, 3]),
    result: null,
    error: null,
    failureCategory: null,
    idempotencyKey: null,
    createdAt: 1_000,
    updatedAt: 1_000,
    deadline: null,
    parentId: null,
    ...overrides,
  };
}

/** A successful `activity` journal entry with no value; `overrides` set the fields a test cares about. */
export function makeEntry(runId: string, seq: number, overrides: Partial<JournalEntry> = {}): JournalEntry {
  return {
    runId,
    seq,
    kind: 'activity',
    name: 'step',
    ok: true,
    value: null,
    error: null,
    createdAt: 1_000,
    ...overrides,
  };
}

/** A pending update with no key or outcome; `overrides` set the fields a test cares about. */
export function makeUpdate(id: string, runId: string, overrides: Partial<UpdateRecord> = {}): UpdateRecord {
  return {
    id,
    runId,
    name: 'approve',
    idempotencyKey: null,
    status: UpdateStatus.pending,
    result: null,
    error: null,
    createdAt: 1_000,
    completedAt: null,
    ...overrides,
  };
}

/** A fleet event of no run and no data; `overrides` set the fields a test cares about. */
export function makeEvent(seq: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return { seq, type: 'workflow:started', runId: null, at: 1_000, data: null, ...overrides };
}

/** A watch frame with no data; `overrides` set the fields a test cares about. */
export function makeFrame(runId: string, seq: number, overrides: Partial<WatchFrame> = {}): WatchFrame {
  return { runId, seq, type: 'workflow:running', status: RunStatus.running, at: 1_000, data: null, ...overrides };
}

/** A stream chunk whose data is the single byte `byte`, so tests can tell chunks apart. */
export function makeChunk(runId: string, seq: number, byte: number): StreamChunk {
  return { runId, seq, data: new Uint8Array([byte]), at: 1_000 };
}

/** An `enqueueSignal` mutation whose payload is the single byte `byte`, so tests can tell messages apart. */
export function signal(runId: string, name: string, byte: number): Mutation {
  return { op: 'enqueueSignal', message: { runId, name, payload: new Uint8Array([byte]), createdAt: 1_000 } };
}

/**
 * A run keyed `key-<id>` with two journal entries, two timers, one inbox message, the attributes
 * `{ tier: 'gold', n: 1 }`, a pending update `<id>-u1` keyed `upd-key`, one watch frame and one
 * stream chunk.
 */
export function seedRun(id: string): Mutation[] {
  return [
    { op: 'createRun', run: makeRun({ id, status: RunStatus.running, idempotencyKey: `key-${id}` }) },
    { op: 'appendJournal', entry: makeEntry(id, 1, { value: new Uint8Array([1]) }) },
    { op: 'appendJournal', entry: makeEntry(id, 2) },
    { op: 'putTimer', timer: { runId: id, key: 'step:1', fireAt: 100 } },
    { op: 'putTimer', timer: { runId: id, key: 'deadline', fireAt: 200 } },
    signal(id, 'go', 1),
    { op: 'setAttributes', runId: id, attributes: { tier: 'gold', n: 1 } },
    { op: 'putUpdate', update: makeUpdate(`${id}-u1`, id, { idempotencyKey: 'upd-key' }) },
    { op: 'appendWatch', frame: makeFrame(id, 1) },
    { op: 'appendChunk', chunk: makeChunk(id, 1, 1) },
  ];
}

/** The ids of a listing's runs, in the order returned. */
export function idsOf(page: { runs: readonly { id: string }[] }): string[] {
  return page.runs.map((run) => run.id);
}

/** Deep copy with byte arrays as number arrays, so `Buffer` and `Uint8Array` compare equal. */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  }
  return value;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}
