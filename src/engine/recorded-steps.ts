/**
 * The steps that take a journal seq without waiting: `ctx.now()` / `random()` / `uuid()`,
 * `ctx.setAttribute`, `ctx.startChild` — and `ctx.stream.write` (`run-stream.ts`), which shares
 * their shape, `recordStep`. On replay the journal holds the next seq: the step checks that the
 * entry is the same operation and answers from it, doing nothing else. Live, it builds its entry,
 * keeps it in the in-memory journal and sends its writes on (with the run's next commit, or a
 * commit of their own).
 *
 * Traps it avoids:
 * - Doing a step twice: a replayed step never writes again (a replayed `setAttribute` would undo a
 *   later `engine.setAttributes`; a replayed start would create the child again).
 * - Skipping a step the last process never committed: only an entry in the journal counts as done.
 * - A seq for a refused call: `prepare` runs before the seq is taken, so a call that throws there
 *   (a closed stream, a chunk the codec refuses, an unknown child type) is no step at all.
 */
import type { StartChildOptions } from '../define/workflow-context.ts';
import type { AttributeValue, JournalEntry, Mutation } from '../storage/storage.ts';
import { Stop, STOP } from './executor-host.ts';
import { verifyStep } from './journal-entries.ts';
import { checkAttribute } from './run-listing.ts';
import type { StepHost } from './step-host.ts';

export interface RecordedStep<T, P> {
  readonly kind: string;
  readonly name: string;
  /** Replay: the step's answer, from its entry (already checked to be this operation). */
  replay(entry: JournalEntry): T;
  /** Live checks and preparation, before the step takes its seq. */
  prepare?(seq: number): P;
  /**
   * Live, with the seq taken: `record(value)` builds the step's entry and keeps it in the journal;
   * the step sends its writes on and returns its answer.
   */
  live(record: (value: unknown) => JournalEntry, prepared: P): T;
}

export function recordStep<T, P = undefined>(host: StepHost, step: RecordedStep<T, P>): T {
  const journal = host.journal;
  const seq = journal.next;
  const recorded = journal.at(seq);
  if (recorded !== undefined) {
    journal.take();
    verifyStep(host.workflowType, seq, recorded, step.kind, step.name);
    return step.replay(recorded);
  }
  const prepared = step.prepare?.(seq) as P;
  journal.take();
  return step.live((value) => {
    const entry = journal.valueEntry(seq, step.kind, step.name, { ok: true, value });
    journal.record(entry);
    return entry;
  }, prepared);
}

/** `ctx.now()` / `random()` / `uuid()`: the journaled value, or a new one produced and recorded. */
export function recordValue<T>(host: StepHost, kind: 'now' | 'random' | 'uuid', produce: () => T): T {
  return recordStep(host, {
    kind,
    name: '',
    replay: (entry) => host.codec.decode(entry.value!) as T,
    live: (record) => {
      const value = produce();
      host.writes.queue({ op: 'appendJournal', entry: record(value) });
      return value;
    },
  });
}

/**
 * `ctx.setAttribute`: a journaled step (no value), so a replay neither writes it again — which
 * would undo a later `engine.setAttributes` — nor skips a write the last incarnation never committed.
 */
export function recordAttribute(host: StepHost, name: string, value: AttributeValue): void {
  checkAttribute(name, value, false);
  recordStep(host, {
    kind: 'attribute',
    name,
    replay: () => undefined,
    live: (record) => {
      const entry = record(undefined);
      host.writes.queue(
        { op: 'appendJournal', entry },
        { op: 'setAttributes', runId: host.id, attributes: { [name]: value } },
      );
    },
  });
}

export interface ChildStartHost extends StepHost {
  /**
   * Checks a child start (type registered, id, input storable) and returns how to create it; the
   * `extra` writes commit with the child's creation.
   */
  prepareChild(type: string, input: unknown, id: string): { create(extra: Mutation[]): void };
  /** The run started a child, so its end must end the child's too. */
  childStarted(): void;
}

/** `ctx.startChild`: a journaled step whose entry commits with the child's creation. */
export function startChild(
  host: ChildStartHost,
  type: string,
  input: unknown,
  options: StartChildOptions | undefined,
): { id: string } {
  return recordStep(host, {
    kind: 'child',
    name: type,
    replay: (entry) => {
      host.childStarted();
      return host.codec.decode(entry.value!) as { id: string };
    },
    prepare: (seq) => {
      if (host.isStopped()) throw STOP;
      const id = options?.id ?? `${host.id}-${seq}`;
      return { id, prepared: host.prepareChild(type, input, id) };
    },
    live: (record, { id, prepared }) => {
      const entry = record({ id });
      host.childStarted();
      // This run's own pending writes (its creation, say) go first, in their own commit: commits
      // apply in call order, so the child never exists before its parent does.
      if (host.writes.hasPending) {
        host.writes.commit(host.writes.take()).catch((error: unknown) => {
          if (!(error instanceof Stop)) host.fault(error);
        });
      }
      // The parent's entry rides the child's creating commit: both exist, or neither.
      prepared.create([{ op: 'appendJournal', entry }]);
      return { id };
    },
  });
}
