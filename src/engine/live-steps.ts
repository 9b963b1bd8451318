/**
 * The steps a run is waiting on: starting them live (a leaf, or the children of ctx.all /
 * ctx.race), committing their outcomes as they settle, and what they say about the run — suspended
 * while only waits are left, evictable once nothing about them is in flight or uncommitted. The
 * steps themselves are in `activity-step.ts`, `wait-steps.ts` and `composite-step.ts`.
 *
 * Traps it avoids:
 * - Suspending a run mid-start: while ctx.all / ctx.race starts its children, a new timer does not
 *   mark the run suspended (an activity may be the next child); that is decided once all started.
 * - An outcome relied on before it is durable: a settled step whose outcome someone outside the run
 *   already saw (a signal's sender, a consumed inbox message) commits before the workflow goes on;
 *   any other rides with the run's next commit (see `SettleFn`).
 * - A drive loop left hanging: the step it awaits rejects with `Stop` when the run is ended from
 *   outside, so the loop unwinds without touching storage.
 */
import { isComposite, type Command, type LeafCommand } from '../define/operation.ts';
import { RunStatus, type JournalEntry, type Mutation } from '../storage/storage.ts';
import { ActivitySteps, type ActivityHost } from './activity-step.ts';
import { performComposite, type CompositeHost } from './composite-step.ts';
import { STOP, type LiveStep, type Outcome, type SettleFn, type SettleOptions } from './executor-host.ts';
import { outcomeOf } from './journal-entries.ts';
import type { LiveTable } from './step-host.ts';
import { WaitSteps, type WaitHost } from './wait-steps.ts';

/** What the live steps need from their run executor, beyond what activity and wait steps need. */
export interface LiveStepsHost extends ActivityHost, WaitHost {
  /** True once the engine is closing: start nothing new. */
  isClosing(): boolean;
  /** The writes changing the run's status, with its event and watch frame (none when unchanged). */
  statusChange(status: RunStatus): Mutation[];
  /** The run only waits now, with everything committed: it may be evicted. */
  offerForEviction(): void;
  /** The drive loop is about to wait on a live step: updates may apply now. */
  park(): void;
}

export class LiveSteps implements LiveTable {
  readonly #host: LiveStepsHost;
  readonly #live = new Map<number, LiveStep>();
  #composing = false;
  /** The step the drive loop awaits; rejected with `Stop` when the run is ended from outside. */
  #awaited: PromiseWithResolvers<Outcome> | undefined;
  readonly activities: ActivitySteps;
  readonly waits: WaitSteps;

  /** @param newRun the run was just created here: nothing can be in its inbox yet. */
  constructor(host: LiveStepsHost, newRun: boolean) {
    this.#host = host;
    this.activities = new ActivitySteps(host, this);
    this.waits = new WaitSteps(host, this, newRun);
  }

  get composing(): boolean {
    return this.#composing;
  }

  open(step: LiveStep): void {
    this.#live.set(step.seq, step);
  }

  forget(seq: number): void {
    this.#live.delete(seq);
  }

  suspendIfOnlyWaiting(): Mutation[] {
    const suspends = !this.#composing && this.activities.inFlight === 0 && this.#blockedOnlyOnWaits();
    return suspends ? this.#host.statusChange(RunStatus.suspended) : [];
  }

  /** Performs a step live; the drive loop has already answered it from the journal if it could. */
  async perform(command: Command): Promise<Outcome> {
    if (isComposite(command)) return performComposite(this.#compositeHost, command);
    const seq = this.#host.journal.take();
    const { promise, resolve, reject } = this.#awaitStep();
    const started = this.#startLeaf(seq, command, (entry, mutations, durable) => {
      const committed = this.#commitSettled([...mutations, { op: 'appendJournal', entry }], [entry], {
        resumes: true,
        durable,
      });
      committed.then(() => resolve(outcomeOf(entry, this.#host.codec)), reject);
      return committed;
    });
    if (started instanceof Promise) await started;
    const noted = this.#noteSuspended();
    if (noted !== undefined) await noted;
    this.#host.park();
    return promise;
  }

  /** Unblocks the drive loop: the step it awaits rejects with `Stop`. */
  unblock(): void {
    this.#awaited?.reject(STOP);
  }

  /**
   * True when the run only waits and nothing about its steps is in flight: no activity, no
   * delivery or inbox check, no composite starting, no step settled but not yet committed.
   */
  get quiet(): boolean {
    if (this.activities.inFlight > 0 || this.#composing || this.waits.busy || this.#live.size === 0) return false;
    if (!this.#blockedOnlyOnWaits()) return false;
    for (const step of this.#live.values()) if (step.settled) return false;
    return true;
  }

  /** The run ended: abandons every step and stops its timers. */
  release(): void {
    for (const step of this.#live.values()) step.abandon();
    this.#live.clear();
    this.waits.release();
  }

  /** The promise the drive loop waits on for the current step; `unblock` rejects it. */
  #awaitStep(): PromiseWithResolvers<Outcome> {
    const awaited = Promise.withResolvers<Outcome>();
    // Settled even when starting the step throws (and nobody awaits it): never an unhandled rejection.
    awaited.promise.catch(() => undefined);
    this.#awaited = awaited;
    return awaited;
  }

  /** Starts one live leaf step; `settle` is called once with its journal entry. */
  #startLeaf(seq: number, command: LeafCommand, settle: SettleFn): LiveStep | Promise<LiveStep | undefined> {
    if (this.#host.isStopped() || this.#host.isClosing()) throw STOP;
    switch (command.kind) {
      case 'activity':
        return this.activities.start(seq, command, settle);
      case 'sleep':
        return this.waits.startSleep(seq, command.ms, settle);
      case 'signal':
        return this.waits.startSignalWait(seq, command.name, command.timeoutMs, settle);
    }
  }

  /** The narrow view that ctx.all / ctx.race work through (built on first use). */
  get #compositeHost(): CompositeHost {
    const host = this.#host;
    return (this.#compositeHostCache ??= {
      workflowType: host.workflowType,
      codec: host.codec,
      nextSeq: () => host.journal.take(),
      journalAt: (seq) => host.journal.at(seq),
      awaitStep: () => this.#awaitStep(),
      startLeaf: (seq, command, settle) => this.#startLeaf(seq, command, settle),
      setComposing: (composing) => void (this.#composing = composing),
      forgetStep: (seq) => void this.#live.delete(seq),
      valueEntry: (seq, kind, name, outcome) => host.journal.valueEntry(seq, kind, name, outcome),
      commitSettled: (mutations, entries, options) => this.#commitSettled(mutations, entries, options),
      noteSuspended: () => this.#noteSuspended(),
    });
  }

  #compositeHostCache: CompositeHost | undefined;

  #blockedOnlyOnWaits(): boolean {
    for (const step of this.#live.values()) if (step.command.kind === 'activity') return false;
    return true;
  }

  /**
   * Marks the run suspended when it only waits now, committing that (with any pending writes),
   * then offers it for eviction. Synchronous when there is nothing to commit.
   */
  #noteSuspended(): Promise<void> | undefined {
    const host = this.#host;
    if (this.#composing || this.activities.inFlight > 0 || this.#live.size === 0) return undefined;
    if (!this.#blockedOnlyOnWaits() || host.isStopped()) return undefined;
    const status = host.statusChange(RunStatus.suspended);
    const mutations = host.writes.take();
    mutations.push(...status);
    if (mutations.length === 0) return void host.offerForEviction();
    return host.writes.commit(mutations).then(() => host.offerForEviction());
  }

  /** Commits a settled step's writes (marking the run running again) and records its entries. */
  async #commitSettled(mutations: Mutation[], entries: JournalEntry[], options: SettleOptions): Promise<void> {
    const host = this.#host;
    if (host.isStopped()) throw STOP;
    const stillBlocked = !options.resumes && this.activities.inFlight === 0 && this.#blockedOnlyOnWaits();
    const statusChange = host.statusChange(stillBlocked ? RunStatus.suspended : RunStatus.running);
    if (!options.durable) {
      // Nothing outside the run has seen this outcome: it rides with the run's next commit, which
      // always comes before the next side effect, wait or completion. A crash before then only
      // repeats what produced it (an activity, a due timer, an inbox read).
      host.writes.queue(...mutations, ...statusChange);
      for (const entry of entries) host.journal.record(entry);
      return;
    }
    // Someone outside the run relies on this outcome already (see SettleFn): durable first.
    const writes = [...host.writes.take(), ...mutations, ...statusChange];
    await host.writes.commit(writes);
    for (const entry of entries) host.journal.record(entry);
  }
}
