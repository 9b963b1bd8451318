/**
 * Journal entries: building them from step outcomes, reading outcomes back, and the check that
 * replayed code issues the operation the journal recorded. Pure functions of the codec, so replay
 * and live execution build and read entries the same way.
 *
 * A failed check names the step the way the code wrote it (`journal has run('charge'), code asked
 * for sleep('1h')`), since kinds and names alone (`activity 'charge'`, `sleep ''`) send the reader
 * to the engine's internals.
 */
import type { Codec } from '../core/codec.ts';
import { clip } from '../core/clip.ts';
import {
  deserializeError,
  NondeterminismError,
  serializeError,
  type SerializedError,
  type StepCall,
} from '../core/errors.ts';
import { isComposite, type Command, type LeafCommand } from '../define/operation.ts';
import type { JournalEntry } from '../storage/storage.ts';
import type { Outcome } from './executor-host.ts';

/** The name the journal records for a leaf step ('' for a sleep). */
export function leafName(command: LeafCommand): string {
  return command.kind === 'sleep' ? '' : command.name;
}

/**
 * Throws `NondeterminismError` when the code asked for another operation than the journal recorded
 * at `seq`. For steps that are not commands (`ctx.now()`, `setAttribute`, `startChild`, updates).
 */
export function verifyStep(workflowType: string, seq: number, entry: JournalEntry, kind: string, name: string): void {
  if (entry.kind === kind && entry.name === name) return;
  throw new NondeterminismError(workflowType, seq, recordedCall(entry), { kind, name, call: callOf(kind, name) });
}

/**
 * `verifyStep` for a command the code yielded. The call is described only on a mismatch: replay
 * checks every step, and a 10,000-step recovery must not format 10,000 strings.
 */
export function verifyCommand(workflowType: string, seq: number, entry: JournalEntry, command: Command): void {
  const name = isComposite(command) ? '' : leafName(command);
  if (entry.kind === command.kind && entry.name === name) return;
  throw new NondeterminismError(workflowType, seq, recordedCall(entry), commandCall(command));
}

/** How each journal kind reads as the `ctx` call that makes it (kinds not listed read as themselves). */
const CALL_NAMES: Partial<Record<string, string>> = {
  activity: 'run',
  signal: 'waitForSignal',
  attribute: 'setAttribute',
  child: 'startChild',
  stream: 'stream.write',
};

/** Longest name a described call quotes whole, and longest list of `ctx.all` / `ctx.race` children. */
const MAX_NAME = 80;
const MAX_CHILDREN = 200;

function callOf(kind: string, name: string, args = name === '' ? '' : `'${clip(name, MAX_NAME)}'`): string {
  return `${CALL_NAMES[kind] ?? kind}(${args})`;
}

/** A journal entry as the call that made it. A sleep's duration and a composite's children are not journaled. */
export function recordedCall(entry: JournalEntry): StepCall {
  const unknownArgs = entry.kind === 'sleep' || entry.kind === 'all' || entry.kind === 'race';
  return {
    kind: entry.kind,
    name: entry.name,
    call: unknownArgs ? callOf(entry.kind, '', '…') : callOf(entry.kind, entry.name),
  };
}

/** A command as the code wrote it: `run('charge')`, `sleep('1h')`, `race(run('a'), sleep('5m'))`. */
export function commandCall(command: Command): StepCall {
  if (isComposite(command)) {
    const children = clip(command.children.map((child) => commandCall(child).call).join(', '), MAX_CHILDREN);
    return { kind: command.kind, name: '', call: callOf(command.kind, '', children) };
  }
  if (command.kind === 'sleep')
    return { kind: 'sleep', name: '', call: callOf('sleep', '', `'${formatMs(command.ms)}'`) };
  return { kind: command.kind, name: command.name, call: callOf(command.kind, command.name) };
}

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
] as const;

/** Milliseconds as a `Duration` string in the largest unit that divides them: 3_600_000 → '1h'. */
function formatMs(ms: number): string {
  for (const [unit, size] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
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
