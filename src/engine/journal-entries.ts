/**
 * Journal entries: building them from step outcomes, reading outcomes back, and the check that
 * replayed code issues the operation the journal recorded. Pure functions of the codec, so replay
 * and live execution build and read entries the same way.
 */
import type { Codec } from '../core/codec.ts';
import { deserializeError, NondeterminismError, serializeError, type SerializedError } from '../core/errors.ts';
import type { LeafCommand } from '../define/operation.ts';
import type { JournalEntry } from '../storage/storage.ts';
import type { Outcome } from './executor-host.ts';

/** The name the journal records for a leaf step ('' for a sleep). */
export function leafName(command: LeafCommand): string {
  return command.kind === 'sleep' ? '' : command.name;
}

/** Throws `NondeterminismError` when the code issued another operation than the journal recorded at `seq`. */
export function verifyStep(workflowType: string, seq: number, entry: JournalEntry, kind: string, name: string): void {
  if (entry.kind === kind && entry.name === name) return;
  const recorded = `${entry.kind}${entry.name ? ` '${entry.name}'` : ''}`;
  const issued = `${kind}${name ? ` '${name}'` : ''}`;
  throw new NondeterminismError(
    `Nondeterminism in workflow '${workflowType}' at step ${seq}: the journal recorded ${recorded} but the code issued ${issued}`,
    { seq, recorded: { kind: entry.kind, name: entry.name }, issued: { kind, name } },
  );
}

export function outcomeOf(entry: JournalEntry, codec: Codec): Outcome {
  if (!entry.ok) return { ok: false, error: deserializeError(entry.error as SerializedError) };
  return { ok: true, value: entry.value === null ? undefined : codec.decode(entry.value) };
}

/** An entry whose ok value is already encoded bytes (or null for undefined). */
export function encodedEntry(
  runId: string,
  seq: number,
  kind: string,
  name: string,
  outcome: Outcome,
  createdAt: number,
): JournalEntry {
  return {
    runId,
    seq,
    kind,
    name,
    ok: outcome.ok,
    value: outcome.ok ? ((outcome.value as Uint8Array | null | undefined) ?? null) : null,
    error: outcome.ok ? null : serializeError(outcome.error),
    createdAt,
  };
}

/** An entry for a plain outcome value, encoding it. */
export function valueEntry(
  runId: string,
  seq: number,
  kind: string,
  name: string,
  outcome: Outcome,
  codec: Codec,
  createdAt: number,
): JournalEntry {
  if (!outcome.ok) return encodedEntry(runId, seq, kind, name, outcome, createdAt);
  const value = outcome.value === undefined ? null : codec.encode(outcome.value, `step ${seq}`);
  return encodedEntry(runId, seq, kind, name, { ok: true, value }, createdAt);
}
