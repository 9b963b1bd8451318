/**
 * Search attributes of runs, indexed two ways: by run (for `getAttributes` and the `deleteRun`
 * cascade) and by name and typed value (for attribute filters in `listRuns` and `aggregateRuns`), so
 * an attribute filter is a lookup, not a pass over every run.
 *
 * Traps it avoids:
 * - `1`, `'1'` and `true` colliding. Index keys carry the value's type, so they stay three values.
 * - Values no database can compare. A number that is not finite (NaN never equals itself) is
 *   refused before anything of the mutation is applied, as is any value of another type.
 * - Half-applied commits. Every change returns its undo, for the adapter's undo log.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AttributeValue } from '../storage.ts';

type Undo = () => void;

/** The index key of a value: its type and its text, so `1`, `'1'` and `true` stay apart. */
function valueKey(value: AttributeValue): string {
  return `${typeof value}:${String(value)}`;
}

function checkedValue(name: string, value: unknown): AttributeValue | null | undefined {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return value;
  // `+ 0` turns -0 into 0, the value SQL equality also treats it as.
  if (typeof value === 'number' && Number.isFinite(value)) return value + 0;
  throw new InvalidArgumentError(
    `Attribute '${name}' must be a string, a finite number or a boolean (or null to remove it)`,
  );
}

export class AttributeIndex {
  /** runId → name → value. */
  readonly #byRun = new Map<string, Map<string, AttributeValue>>();
  /** name → value key → ids of the runs holding that value. */
  readonly #byValue = new Map<string, Map<string, Set<string>>>();

  /** A fresh object with the run's attributes (empty when it has none). */
  of(runId: string): Record<string, AttributeValue> {
    return Object.fromEntries(this.#byRun.get(runId) ?? []);
  }

  valueOf(runId: string, name: string): AttributeValue | undefined {
    return this.#byRun.get(runId)?.get(name);
  }

  /** Ids of the runs whose attribute `name` is exactly `value` (same type); the caller must not change the set. */
  runsWith(name: string, value: AttributeValue): ReadonlySet<string> {
    return this.#byValue.get(name)?.get(valueKey(value)) ?? new Set<string>();
  }

  /** Sets each attribute, `null` removing it and `undefined` leaving it as is; checks every value first. */
  set(runId: string, attributes: Readonly<Record<string, AttributeValue | null>>): Undo {
    const changes = Object.entries(attributes).flatMap(([name, raw]) => {
      const value = checkedValue(name, raw);
      return value === undefined ? [] : [{ name, value }];
    });
    const undos = changes.map(({ name, value }) => {
      const previous = this.valueOf(runId, name);
      this.#write(runId, name, value);
      return () => this.#write(runId, name, previous ?? null);
    });
    return () => undos.reverse().forEach((undo) => undo());
  }

  removeRun(runId: string): Undo {
    const removed = [...(this.#byRun.get(runId) ?? [])];
    for (const [name] of removed) this.#write(runId, name, null);
    return () => removed.forEach(([name, value]) => this.#write(runId, name, value));
  }

  clear(): void {
    this.#byRun.clear();
    this.#byValue.clear();
  }

  /** Sets or (with `null`) removes one attribute in both indexes, dropping maps that become empty. */
  #write(runId: string, name: string, value: AttributeValue | null): void {
    const previous = this.valueOf(runId, name);
    if (previous !== undefined) {
      const byKey = this.#byValue.get(name);
      const ids = byKey?.get(valueKey(previous));
      ids?.delete(runId);
      if (ids?.size === 0) byKey?.delete(valueKey(previous));
      if (byKey?.size === 0) this.#byValue.delete(name);
    }
    let names = this.#byRun.get(runId);
    if (value === null) {
      names?.delete(name);
      if (names?.size === 0) this.#byRun.delete(runId);
      return;
    }
    if (!names) this.#byRun.set(runId, (names = new Map<string, AttributeValue>()));
    names.set(name, value);
    let byKey = this.#byValue.get(name);
    if (!byKey) this.#byValue.set(name, (byKey = new Map<string, Set<string>>()));
    let ids = byKey.get(valueKey(value));
    if (!ids) byKey.set(valueKey(value), (ids = new Set<string>()));
    ids.add(runId);
  }
}
