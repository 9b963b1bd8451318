/**
 * One run's path to storage: the writes waiting for its next commit, and the rows that create a
 * new run. Those rows wait with the rest and ride along with the run's first commit — made before
 * its first side effect, wait or completion — so a run that suspends or finishes at once costs one
 * transaction. They wait no longer than the event-loop turn the run was started in: if the workflow
 * has not reached a commit by then (its code awaits something before its first step), they are
 * committed on their own, so `engine.start` never waits for workflow code.
 *
 * Traps it avoids:
 * - Updating a row that does not exist yet: while the creating rows still wait, a change to the
 *   run row is folded into them instead of written as an update.
 * - A storage fault reported for a run storage never held: when the commit carrying the creating
 *   rows fails, the run stops and `created` rejects, so the caller of `engine.start` hears of it.
 * - Rows or side effects of a run that may never exist: while the creating commit is on its way,
 *   `hasPending` stays true and every other commit of the run waits for it, so the run's next
 *   commit — and the side effects behind it — follow a creation that landed, or never happen.
 */
import type { Mutation, RunPatch } from '../storage/storage.ts';
import { STOP } from './executor-host.ts';

export interface RunWritesHost {
  readonly runId: string;
  commit(mutations: Mutation[]): Promise<void>;
  /** The creating commit failed: stop the run (nothing of it exists). */
  creationFailed(error: unknown): void;
}

type Creation = PromiseWithResolvers<void> & {
  mutation: Mutation & { op: 'createRun' };
  /** Taken into a commit: from then on the run row exists or the run stops. */
  taken: boolean;
  committed: boolean;
};

export class RunWrites {
  readonly #host: RunWritesHost;
  /** Writes not yet committed (recorded values, settled steps, events); they go with the next commit. */
  #pending: Mutation[] = [];
  readonly #creation: Creation | undefined;
  #inFlight = 0;

  /** @param creation for a new run: the rows that create it, first in line. */
  constructor(host: RunWritesHost, creation?: Mutation[]) {
    this.#host = host;
    if (creation !== undefined) {
      this.#pending = [...creation];
      this.#creation = {
        mutation: creation[0] as Mutation & { op: 'createRun' },
        taken: false,
        committed: false,
        ...Promise.withResolvers(),
      };
      this.#creation.promise.catch(() => undefined);
      RunWrites.#checkAtTurnEnd(this);
    }
  }

  /** New runs of this turn, whose creating rows may still wait when it ends. */
  static #created: RunWrites[] = [];

  /**
   * Checks the run at the end of this event-loop turn: the boundary SQLite's group commit closes its
   * groups at (`setImmediate`; not a timer, so not the clock's). A workflow that reaches its first
   * step in this turn has taken the rows into that step's commit by then. One check per turn for all
   * runs started in it: one `setImmediate` per start cost about a tenth of a start.
   */
  static #checkAtTurnEnd(writes: RunWrites): void {
    if (RunWrites.#created.push(writes) > 1) return;
    setImmediate(() => {
      const created = RunWrites.#created;
      RunWrites.#created = [];
      for (const run of created) run.#commitCreationAlone();
    });
  }

  /** The turn the run started in is over and its creating rows still wait: commit them now. */
  #commitCreationAlone(): void {
    if (this.#creation === undefined || this.#creation.taken) return;
    this.commit(this.take()).catch(() => undefined);
  }

  /** Settles once the run's creating commit did (immediately for a recovered run). */
  get created(): Promise<void> {
    return this.#creation?.promise ?? Promise.resolve();
  }

  /** True for a run this executor creates (its inbox starts empty). */
  get createsRun(): boolean {
    return this.#creation !== undefined;
  }

  /** True while the rows creating the run are not committed yet. */
  get creationPending(): boolean {
    return this.#creation !== undefined && !this.#creation.committed;
  }

  /**
   * True while writes wait for the next commit, or the creating commit is on its way: either must be
   * durable before the run's next side effect.
   */
  get hasPending(): boolean {
    return (
      this.#pending.length > 0 || (this.#creation !== undefined && this.#creation.taken && !this.#creation.committed)
    );
  }

  /** True while a commit of this run is under way. */
  get committing(): boolean {
    return this.#inFlight > 0;
  }

  queue(...mutations: Mutation[]): void {
    this.#pending.push(...mutations);
  }

  /** Takes the waiting writes to commit them now; the creating rows are then on their way. */
  take(): Mutation[] {
    const pending = this.#pending;
    this.#pending = [];
    if (this.#creation !== undefined) this.#creation.taken = true;
    return pending;
  }

  /** Every write of the run goes through here, so a failed creation stops the run. */
  async commit(mutations: Mutation[]): Promise<void> {
    const creation = this.#creation;
    const carriesCreation = creation !== undefined && creation.taken && mutations.includes(creation.mutation);
    this.#inFlight++;
    try {
      if (creation !== undefined && !carriesCreation && !creation.committed) {
        // Behind the creating commit: nothing of a run is written, or done, before the run exists.
        await creation.promise.catch(() => {
          throw STOP;
        });
      }
      if (mutations.length > 0 || carriesCreation) await this.#host.commit(mutations);
    } catch (error) {
      if (!carriesCreation) throw error;
      this.#host.creationFailed(error);
      creation.reject(error);
      throw STOP;
    } finally {
      this.#inFlight--;
    }
    if (carriesCreation) {
      creation.committed = true;
      creation.resolve();
    }
  }

  /** Changes the run row: folded into the creating row while that is still pending, else an update. */
  patchRun(patch: RunPatch): Mutation[] {
    const creation = this.#creation;
    if (creation !== undefined && !creation.taken) {
      Object.assign(creation.mutation.run, patch);
      return [];
    }
    return [{ op: 'updateRun', id: this.#host.runId, patch }];
  }
}
