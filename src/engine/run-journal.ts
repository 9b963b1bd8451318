/**
 * One run's journal in memory: its entries by seq, the cursor every step takes its seq from, and
 * how this run's entries are built.
 *
 * Trap it avoids: a replay that drifts from the original run. Steps take seqs here in the order
 * the code issues them, and a journaled step is checked against the operation the code issues now
 * (`verifyCommand`) before its outcome is fed back.
 */
import type { Clock } from '../core/clock.ts';
import type { Codec } from '../core/codec.ts';
import { isComposite, type Command } from '../define/operation.ts';
import type { JournalEntry } from '../storage/storage.ts';
import type { Outcome } from './executor-host.ts';
import { encodedEntry, outcomeOf, valueEntry, verifyCommand } from './journal-entries.ts';

export class RunJournal {
  readonly #runId: string;
  readonly #workflowType: string;
  readonly #codec: Codec;
  readonly #clock: Clock;
  /** Entries by seq (dense from 0): an array, since replay looks up every step. */
  readonly #entries: (JournalEntry | undefined)[] = [];
  #next = 0;

  constructor(run: { id: string; type: string }, codec: Codec, clock: Clock, entries: JournalEntry[]) {
    this.#runId = run.id;
    this.#workflowType = run.type;
    this.#codec = codec;
    this.#clock = clock;
    for (const entry of entries) this.#entries[entry.seq] = entry;
  }

  at(seq: number): JournalEntry | undefined {
    return this.#entries[seq];
  }

  /** The seq the next step will take. */
  get next(): number {
    return this.#next;
  }

  /** Allocates the next seq. */
  take(): number {
    return this.#next++;
  }

  /** Keeps an entry (live, or applied from outside) in memory; committing it is the caller's. */
  record(entry: JournalEntry): void {
    this.#entries[entry.seq] = entry;
  }

  /** The outcome of the next step when it is a journaled leaf (taking its seq); undefined when it must run live. */
  replayLeaf(command: Command): Outcome | undefined {
    if (isComposite(command)) return undefined;
    const entry = this.#entries[this.#next];
    if (entry === undefined) return undefined;
    const seq = this.#next++;
    verifyCommand(this.#workflowType, seq, entry, command);
    return outcomeOf(entry, this.#codec);
  }

  /** An entry whose ok value is already encoded bytes. */
  encodedEntry(seq: number, kind: string, name: string, outcome: Outcome): JournalEntry {
    return encodedEntry(this.#runId, seq, kind, name, outcome, this.#clock.now());
  }

  /** An entry for a plain outcome value, encoding it. */
  valueEntry(seq: number, kind: string, name: string, outcome: Outcome): JournalEntry {
    return valueEntry(this.#runId, seq, kind, name, outcome, this.#codec, this.#clock.now());
  }
}
