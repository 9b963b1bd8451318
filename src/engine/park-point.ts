/**
 * A run's park point: the drive loop parks while it waits on a live step, and only then may an
 * update apply (why, and the handlers themselves, are in `run-messages.ts`). This keeps whether the
 * run is parked, re-applies the updates its journal holds at each park point, and builds the run's
 * `RunMessages` on first use.
 *
 * Traps it avoids:
 * - An update replayed elsewhere than it ran: the updates journaled at a park point are re-applied
 *   when the run parks there and when the step it parked on settles, before workflow code goes on.
 * - Paying for messages on every run: nothing is built until a handler is registered or the journal
 *   holds an update, and most runs never see either.
 */
import { WorkflowNotRunningError } from '../core/errors.ts';
import type { Mutation, UpdateRecord } from '../storage/storage.ts';
import type { EngineEventType } from './engine-events.ts';
import { RunMessages, type MessagesHost, type UpdateRequest } from './run-messages.ts';
import type { StepHost } from './step-host.ts';

/** What the park point needs from its run executor, beyond every step's host. */
export interface ParkHost extends StepHost {
  /** The run's status, named by the error a stopped run answers with. */
  runStatus(): string;
  /** A fleet event about this run, to commit with the change it reports. */
  event(type: EngineEventType, detail: Record<string, unknown>): Mutation;
}

export class ParkPoint {
  readonly #host: ParkHost;
  /** Set while the drive loop waits on a live step: the only time an update may be applied. */
  #parked = false;
  #messagesCache: RunMessages | undefined;

  constructor(host: ParkHost) {
    this.#host = host;
  }

  get #messages(): RunMessages {
    return (this.#messagesCache ??= new RunMessages(this.#messagesHost()));
  }

  /** The drive loop is about to wait on a live step: journaled updates at this point, then queued ones. */
  park(): void {
    this.#replayUpdates();
    this.#parked = true;
    this.#messagesCache?.drain();
  }

  /** The step the run waited on settled: updates applied while it was blocked come before its result. */
  leave(): void {
    this.#parked = false;
    this.#replayUpdates();
  }

  /** True while updates or queries wait for the run to park. */
  get hasQueued(): boolean {
    return this.#messagesCache?.hasQueued === true;
  }

  /** The run ended: what still waits fails with `workflow_not_running`. */
  stop(status: string): void {
    this.#messagesCache?.stop(status);
  }

  onUpdate(name: unknown, handler: unknown): void {
    this.#messages.onUpdate(name, handler);
  }

  onQuery(name: unknown, handler: unknown): void {
    this.#messages.onQuery(name, handler);
  }

  /** Applies an update at the run's next park point; resolves with its record once committed. */
  submitUpdate(request: UpdateRequest): Promise<UpdateRecord> {
    const host = this.#host;
    if (host.isStopped()) return Promise.reject(new WorkflowNotRunningError(host.id, host.runStatus()));
    return this.#messages.submitUpdate(request);
  }

  /** Answers a query at the run's next park point. */
  query(name: string, args: unknown): Promise<unknown> {
    const host = this.#host;
    if (host.isStopped()) return Promise.reject(new WorkflowNotRunningError(host.id, host.runStatus()));
    return this.#messages.query(name, args);
  }

  #replayUpdates(): void {
    const journal = this.#host.journal;
    if (this.#messagesCache !== undefined || journal.at(journal.next)?.kind === 'update') {
      this.#messages.replayJournaled();
    }
  }

  #messagesHost(): MessagesHost {
    const host = this.#host;
    const { journal, writes } = host;
    return {
      id: host.id,
      workflowType: host.workflowType,
      codec: host.codec,
      now: () => host.clock.now(),
      journalAt: (seq) => journal.at(seq),
      takeSeq: () => journal.take(),
      peekSeq: () => journal.next,
      isParked: () => this.#parked && !host.isStopped(),
      commitUpdate: async (entry, updateWrites) => {
        if (host.isStopped()) throw new WorkflowNotRunningError(host.id, host.runStatus());
        journal.record(entry);
        await writes.commit([...writes.take(), ...updateWrites]);
      },
      updateEvent: (name, updateId, ok) => host.event('update:completed', { update: name, updateId, ok }),
    };
  }
}
