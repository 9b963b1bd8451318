/**
 * The run's token stream: `ctx.stream.write` from workflow code and `actx.stream.write` from its
 * activities, numbered by one per-run chunk seq.
 *
 * Traps it avoids:
 * - A chunk written again by replay: a workflow write is a recorded step (`recorded-steps.ts`), so
 *   its chunk commits with its journal entry and a replay only checks it — exactly once.
 * - Readers left waiting for the run's next step: workflow writes are committed promptly, once per
 *   burst (a microtask after the first), not held for the next commit the run makes anyway.
 */
import { StreamClosedError } from '../core/errors.ts';
import type { Mutation } from '../storage/storage.ts';
import { recordStep } from './recorded-steps.ts';
import type { StepHost } from './step-host.ts';

export class RunStream {
  readonly #host: StepHost;
  /** Last chunk seq of this run (chunks count from 1 per run). */
  #seq: number;
  #flushScheduled = false;
  #forActivities: { write(chunk: unknown): Promise<void> } | undefined;

  /** @param tail the run's last stored chunk seq (0 for none). */
  constructor(host: StepHost, tail: number) {
    this.#host = host;
    this.#seq = tail;
  }

  /** `actx.stream` for the run's activities (built on first use: most runs never stream). */
  get forActivities(): { write(chunk: unknown): Promise<void> } {
    return (this.#forActivities ??= { write: (chunk) => this.writeFromActivity(chunk) });
  }

  /** `ctx.stream.write`: a journaled step, so a replay does not write the chunk again. */
  write(chunk: unknown): void {
    const host = this.#host;
    recordStep(host, {
      kind: 'stream',
      name: '',
      replay: () => undefined,
      prepare: () => {
        if (host.isStopped()) throw new StreamClosedError(host.id);
        return host.codec.encode(chunk, 'stream chunk');
      },
      live: (record, data) => {
        const entry = record(undefined);
        host.writes.queue({ op: 'appendJournal', entry }, this.#chunk(data));
        this.#scheduleFlush();
      },
    });
  }

  /** `actx.stream.write`: committed on its own (activities run at least once; no journal entry). */
  writeFromActivity(chunk: unknown): Promise<void> {
    const host = this.#host;
    if (host.isStopped()) return Promise.reject(new StreamClosedError(host.id));
    let data: Uint8Array;
    try {
      data = host.codec.encode(chunk, 'stream chunk');
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return host.writes.commit([this.#chunk(data)]);
  }

  #chunk(data: Uint8Array): Mutation {
    const host = this.#host;
    return { op: 'appendChunk', chunk: { runId: host.id, seq: ++this.#seq, data, at: host.clock.now() } };
  }

  /** Commits pending writes soon (once per burst of writes), so stream readers need not wait for the next step. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      const host = this.#host;
      if (host.isStopped() || !host.writes.hasPending) return;
      host.writes.commit(host.writes.take()).catch((error: unknown) => host.fault(error));
    });
  }
}
