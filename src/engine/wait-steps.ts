/**
 * The steps that wait: `ctx.sleep` (a durable timer) and `ctx.waitForSignal` (the run's inbox,
 * with an optional timeout), plus the deliveries that end them — a signal sent to the run, a
 * child's outcome landing in its inbox, a timer coming due.
 *
 * Traps it avoids:
 * - Two winners for one wait: a step is settled synchronously (its flag set before any await), so
 *   a timer and a signal racing for the same wait cannot both win.
 * - A lost or reordered signal: signal delivery and the inbox check of a new wait share one lock
 *   (`signal-waits.ts`), so a signal arriving while a wait reads the inbox is neither lost nor
 *   delivered out of order.
 * - A timer moved by recovery: a step whose timer row a previous process created keeps that row
 *   and its original fire time.
 */
import type { LeafCommand } from '../define/operation.ts';
import type { Mutation, Storage } from '../storage/storage.ts';
import { childOutcomeEntry, isChildInbox } from './child-runs.ts';
import { STOP, stepTimerKey, type LiveStep, type SettleFn } from './executor-host.ts';
import { SignalWaits, type Delivery } from './signal-waits.ts';
import type { LiveTable, StepHost } from './step-host.ts';
import type { TimerService } from './timer-service.ts';

/** What the wait steps need from their run executor, beyond every step's host. */
export interface WaitHost extends StepHost {
  readonly storage: Pick<Storage, 'peekSignal'>;
  readonly timers: TimerService;
}

export class WaitSteps {
  readonly #host: WaitHost;
  readonly #table: LiveTable;
  readonly #signals = new SignalWaits();
  /** Fire handlers of live timer steps, by timer key. */
  readonly #timerSteps = new Map<string, () => Promise<void> | undefined>();
  /** Keys of this run's timer rows (created on first use: many runs never sleep). */
  #timerKeySet: Set<string> | undefined;
  get #timerKeys(): Set<string> {
    return (this.#timerKeySet ??= new Set());
  }

  /** @param newRun the run was just created here: nothing can be in its inbox yet. */
  constructor(host: WaitHost, table: LiveTable, newRun: boolean) {
    this.#host = host;
    this.#table = table;
    if (newRun) this.#signals.inboxMayHoldMessages = false;
  }

  /** True while a delivery or inbox check is queued or running. */
  get busy(): boolean {
    return this.#signals.busy;
  }

  /** Whether the run has timer rows (its end must delete them). */
  get hasTimers(): boolean {
    return (this.#timerKeySet?.size ?? 0) > 0;
  }

  /** Notes a timer row of the run that exists already (at recovery, or the deadline). */
  adoptTimer(key: string): void {
    this.#timerKeys.add(key);
  }

  /** A timer of the run is due. A step the replay has not reached yet fires its timer when it opens. */
  fire(key: string): void {
    void this.#timerSteps.get(key)?.();
  }

  /** The run ended: forgets every wait and stops its timers. */
  release(): void {
    this.#signals.clear();
    if (this.#timerKeySet !== undefined) {
      this.#host.timers.cancelRun(this.#host.id, this.#timerKeySet);
      this.#timerKeySet.clear();
    }
  }

  async startSleep(seq: number, ms: number, settle: SettleFn): Promise<LiveStep> {
    const host = this.#host;
    const key = stepTimerKey(seq);
    const step = this.#openTimedStep(seq, { kind: 'sleep', ms }, key);
    const fire = (): Promise<void> | undefined => {
      if (step.settled) return undefined;
      step.settled = true;
      this.#table.forget(seq);
      this.#releaseTimer(key);
      const fired = host.journal.valueEntry(seq, 'sleep', '', { ok: true, value: undefined });
      return settle(fired, [{ op: 'deleteTimer', runId: host.id, key }], false);
    };
    this.#timerSteps.set(key, fire);
    await this.#ensureTimer(key, host.clock.now() + ms);
    return step;
  }

  /** Synchronous when nothing needs reading or writing first (the common wait of a new run). */
  startSignalWait(
    seq: number,
    name: string,
    timeoutMs: number | undefined,
    settle: SettleFn,
  ): LiveStep | Promise<LiveStep> {
    const host = this.#host;
    const key = stepTimerKey(seq);
    const step = this.#openTimedStep(seq, { kind: 'signal', name, timeoutMs }, key);
    const removeWait = (): void => this.#signals.remove(name, seq);
    const baseAbandon = step.abandon;
    step.abandon = () => {
      removeWait();
      return baseAbandon();
    };
    const deliver: Delivery = (entry, mutations, durable) => {
      if (step.settled) return undefined;
      step.settled = true;
      this.#table.forget(seq);
      removeWait();
      const writes = [...mutations];
      if (timeoutMs !== undefined) {
        this.#releaseTimer(key);
        writes.push({ op: 'deleteTimer', runId: host.id, key });
      }
      return settle(entry, writes, durable);
    };
    if (timeoutMs !== undefined) {
      this.#timerSteps.set(key, () =>
        deliver(host.journal.valueEntry(seq, 'signal', name, { ok: true, value: undefined }), [], false),
      );
    }
    const register = (): void => this.#signals.add(name, seq, deliver);
    if (!this.#signals.inboxMayHoldMessages && timeoutMs === undefined) {
      // Nothing was ever enqueued for this run: no inbox read, no lock. A delivery queued behind the
      // lock finds this waiter when it runs, because registering is synchronous.
      register();
      return step;
    }
    return (async () => {
      if (!this.#signals.inboxMayHoldMessages) register();
      else {
        await this.#signals.withLock(async () => {
          if (!(await this.#takeFromInbox(seq, name, deliver)) && !step.settled) register();
        });
      }
      // Whoever started the step (single or composite) notes the suspension once all have started.
      if (!step.settled && timeoutMs !== undefined) await this.#ensureTimer(key, host.clock.now() + timeoutMs);
      return step;
    })();
  }

  /** Hands the oldest inbox message for `name` to the step; false when there is none. Runs under the signal lock. */
  async #takeFromInbox(seq: number, name: string, deliver: Delivery): Promise<boolean> {
    const host = this.#host;
    const message = await host.storage.peekSignal(host.id, name);
    if (message === undefined) return false;
    const entry = isChildInbox(name)
      ? childOutcomeEntry(host.id, seq, name, message.payload, host.codec, host.clock.now())
      : host.journal.encodedEntry(seq, 'signal', name, { ok: true, value: message.payload });
    await deliver(entry, [{ op: 'consumeSignal', id: message.id }], true);
    return true;
  }

  /**
   * Delivers a signal: to the oldest waiting step for its name if there is one, else into the
   * durable inbox. Resolves once it is committed either way.
   */
  deliverSignal(name: string, payload: Uint8Array, received: Mutation): Promise<void> {
    const host = this.#host;
    return this.#signals.withLock(async () => {
      const wait = host.isStopped() ? undefined : this.#signals.oldest(name);
      // Handed straight to a waiting step, the signal is committed before its sender hears back.
      const delivered = wait?.deliver(
        host.journal.encodedEntry(wait.seq, 'signal', name, { ok: true, value: payload }),
        [received],
        true,
      );
      if (delivered !== undefined) return delivered;
      this.#signals.inboxMayHoldMessages = true;
      await host.writes.commit([
        ...host.writes.take(),
        { op: 'enqueueSignal', message: { runId: host.id, name, payload, createdAt: host.clock.now() } },
        received,
      ]);
    });
  }

  /** A message for `name` may be in the inbox now (a child's outcome): hand it to a waiting step. */
  inboxChanged(name: string): void {
    const host = this.#host;
    this.#signals.inboxMayHoldMessages = true;
    if (host.isStopped()) return;
    // Under the lock: a wait that is reading the inbox right now registers before this looks.
    void this.#signals
      .withLock(async () => {
        const wait = host.isStopped() ? undefined : this.#signals.oldest(name);
        if (wait !== undefined) await this.#takeFromInbox(wait.seq, name, wait.deliver);
      })
      .catch((error: unknown) => host.fault(error));
  }

  #openTimedStep(seq: number, command: LeafCommand, key: string): LiveStep {
    const host = this.#host;
    const step: LiveStep = {
      seq,
      command,
      settled: false,
      abandon: () => {
        this.#timerSteps.delete(key);
        if (!this.#timerKeys.has(key)) return [];
        this.#releaseTimer(key);
        return [{ op: 'deleteTimer', runId: host.id, key }];
      },
    };
    this.#table.open(step);
    return step;
  }

  /** Creates the step's timer row, or keeps the one a previous process created (original fire time). */
  async #ensureTimer(key: string, fireAt: number): Promise<void> {
    const host = this.#host;
    if (host.isStopped()) throw STOP;
    const existing = host.timers.get(host.id, key);
    if (existing !== undefined) {
      if (existing.fireAt <= host.clock.now()) this.fire(key);
      return;
    }
    this.#timerKeys.add(key);
    const status = this.#table.suspendIfOnlyWaiting();
    const mutations = host.writes.take();
    mutations.push({ op: 'putTimer', timer: { runId: host.id, key, fireAt } }, ...status);
    await host.writes.commit(mutations);
    host.timers.schedule(host.id, key, fireAt);
  }

  #releaseTimer(key: string): void {
    this.#timerSteps.delete(key);
    this.#timerKeys.delete(key);
    this.#host.timers.cancel(this.#host.id, key);
  }
}
