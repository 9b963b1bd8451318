/**
 * `ctx.all` and `ctx.race`: several leaf steps started together, and the one journal entry that
 * records how the composite was decided (the race winner, or the child whose failure failed the
 * `all`).
 *
 * Traps it avoids:
 * - A replay deciding differently than the original run. Which child decided is journaled with that
 *   child's own entry, in one commit, so a replayed race returns the same winner even when several
 *   children have finished by then.
 * - Losers that keep going. Once decided, the other children are abandoned in the same commit: their
 *   activities see their signal abort, their timer rows are deleted, their signal waits withdrawn.
 */
import type { Codec } from '../core/codec.ts';
import { NondeterminismError } from '../core/errors.ts';
import type { CompositeCommand, LeafCommand } from '../define/operation.ts';
import type { JournalEntry, Mutation } from '../storage/storage.ts';
import type { LiveStep, Outcome, SettleFn, SettleOptions } from './executor-host.ts';
import { commandCall, outcomeOf, verifyCommand } from './journal-entries.ts';

/** What the composite needs from its run executor. */
export interface CompositeHost {
  readonly workflowType: string;
  readonly codec: Codec;
  /** Allocates the next step number. */
  nextSeq(): number;
  journalAt(seq: number): JournalEntry | undefined;
  /** The drive loop's promise for this step (rejected if the run stops meanwhile). */
  awaitStep(): PromiseWithResolvers<Outcome>;
  startLeaf(seq: number, command: LeafCommand, settle: SettleFn): LiveStep | Promise<LiveStep | undefined>;
  /** Marks children being started, so the run's status is decided once all have started. */
  setComposing(composing: boolean): void;
  forgetStep(seq: number): void;
  valueEntry(seq: number, kind: string, name: string, outcome: Outcome): JournalEntry;
  commitSettled(mutations: Mutation[], entries: JournalEntry[], options: SettleOptions): Promise<void>;
  noteSuspended(): Promise<void> | undefined;
}

export async function performComposite(host: CompositeHost, command: CompositeCommand): Promise<Outcome> {
  const seq = host.nextSeq();
  const childSeqs = command.children.map(() => host.nextSeq());
  const recorded = host.journalAt(seq);
  if (recorded !== undefined) return replayDecided(host, command, seq, childSeqs, recorded);

  const { promise, resolve, reject } = host.awaitStep();
  const results: Outcome[] = new Array<Outcome>(command.children.length);
  let remaining = command.children.length;
  let decided = false;
  const started: LiveStep[] = [];

  const decide = (
    index: number,
    outcome: Outcome,
    childEntry: JournalEntry | undefined,
    mutations: Mutation[],
    durable: boolean,
  ) => {
    decided = true;
    const cleanup = started
      .filter((step) => !step.settled)
      .flatMap((step) => {
        step.settled = true;
        host.forgetStep(step.seq);
        return step.abandon();
      });
    const compositeEntry = host.valueEntry(seq, command.kind, '', { ok: true, value: index });
    const entries = childEntry === undefined ? [compositeEntry] : [childEntry, compositeEntry];
    const writes: Mutation[] = [
      ...mutations,
      ...cleanup,
      ...entries.map((entry) => ({ op: 'appendJournal', entry }) as const),
    ];
    const committed = host.commitSettled(writes, entries, { resumes: true, durable });
    committed.then(() => resolve(outcome), reject);
    return committed;
  };

  const onChild = (
    index: number,
    outcome: Outcome,
    childEntry: JournalEntry | undefined,
    mutations: Mutation[],
    durable: boolean,
  ): Promise<void> => {
    if (decided) return Promise.resolve();
    results[index] = outcome;
    remaining--;
    if (command.kind === 'race' || !outcome.ok) return decide(index, outcome, childEntry, mutations, durable);
    const finish = (): void => {
      if (remaining === 0 && !decided) {
        decided = true;
        resolve({ ok: true, value: results.map((result) => (result as { value: unknown }).value) });
      }
    };
    if (childEntry === undefined) {
      finish();
      return Promise.resolve();
    }
    const committed = host.commitSettled([...mutations, { op: 'appendJournal', entry: childEntry }], [childEntry], {
      resumes: remaining === 0,
      durable,
    });
    committed.then(finish, reject);
    return committed;
  };

  if (command.children.length === 0) {
    return command.kind === 'all' ? { ok: true, value: [] } : new Promise<Outcome>(() => undefined);
  }
  for (const [index, child] of command.children.entries()) {
    if (decided) break;
    const childSeq = childSeqs[index]!;
    const childEntry = host.journalAt(childSeq);
    if (childEntry !== undefined) {
      verifyCommand(host.workflowType, childSeq, childEntry, child);
      await onChild(index, outcomeOf(childEntry, host.codec), undefined, [], false);
      continue;
    }
    host.setComposing(true);
    try {
      const step = await host.startLeaf(childSeq, child, (entry, mutations, durable) =>
        onChild(index, outcomeOf(entry, host.codec), entry, mutations, durable),
      );
      if (step !== undefined) started.push(step);
    } finally {
      host.setComposing(false);
    }
  }
  await host.noteSuspended();
  return promise;
}

/** A composite whose decision is journaled: the deciding child's outcome, as recorded. */
function replayDecided(
  host: CompositeHost,
  command: CompositeCommand,
  seq: number,
  childSeqs: number[],
  recorded: JournalEntry,
): Outcome {
  verifyCommand(host.workflowType, seq, recorded, command);
  const index = host.codec.decode(recorded.value!) as number;
  const child = host.journalAt(childSeqs[index]!);
  const childCommand = command.children[index];
  if (child === undefined || childCommand === undefined) {
    throw new NondeterminismError(
      host.workflowType,
      seq,
      { kind: recorded.kind, name: recorded.name, call: `${command.kind}(…) decided by its child ${index + 1}` },
      commandCall(command),
    );
  }
  verifyCommand(host.workflowType, child.seq, child, childCommand);
  return outcomeOf(child, host.codec);
}
