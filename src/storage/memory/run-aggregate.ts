/**
 * Counts of runs by group for `aggregateRuns` in the memory adapter: the key of each run under a
 * grouping, and the contract's group order.
 *
 * Traps it avoids:
 * - Runs without a value inflating a group. A run with no failure category or without the attribute
 *   counts in `total` only; there is no "null" group.
 * - Mixed attribute types colliding or sorting by their text. `1`, `'1'` and `true` are three groups,
 *   ordered booleans (false first), then numbers ascending (2 before 10), then strings in binary
 *   order.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AttributeValue, RunAggregate, RunGroupBy, RunRecord } from '../storage.ts';
import type { AttributeIndex } from './attribute-index.ts';
import { compareStrings } from './ordering.ts';

const ATTRIBUTE_PREFIX = 'attribute:';

/** Groups `runs` (already matched) by `groupBy`, keeping the first `maxGroups` groups in contract order. */
export function aggregate(
  runs: readonly RunRecord[],
  groupBy: RunGroupBy,
  attributes: AttributeIndex,
  maxGroups: number,
): RunAggregate {
  const keyOf = groupKey(groupBy, attributes);
  // Keyed by type and text, so `1`, `'1'` and `true` count apart.
  const counts = new Map<string, { key: AttributeValue; count: number }>();
  for (const run of runs) {
    const key = keyOf(run);
    if (key === null || key === undefined) continue;
    const id = `${typeof key}:${String(key)}`;
    const group = counts.get(id);
    if (group) group.count += 1;
    else counts.set(id, { key, count: 1 });
  }
  const groups = [...counts.values()].sort((a, b) => b.count - a.count || compareKeys(a.key, b.key));
  const kept = Math.max(0, Math.floor(maxGroups));
  return { total: runs.length, groups: groups.slice(0, kept), truncated: groups.length > kept };
}

function groupKey(
  groupBy: RunGroupBy,
  attributes: AttributeIndex,
): (run: RunRecord) => AttributeValue | null | undefined {
  switch (groupBy) {
    case 'status':
      return (run) => run.status;
    case 'type':
      return (run) => run.type;
    case 'failureCategory':
      return (run) => run.failureCategory;
    default: {
      if (!groupBy.startsWith(ATTRIBUTE_PREFIX)) throw new InvalidArgumentError(`Unknown run grouping '${groupBy}'`);
      // Everything after the prefix is the name, so a name may itself contain ':'.
      const name = groupBy.slice(ATTRIBUTE_PREFIX.length);
      return (run) => attributes.valueOf(run.id, name);
    }
  }
}

/** Booleans (false first), then numbers ascending, then strings in binary order. */
function compareKeys(a: AttributeValue, b: AttributeValue): number {
  const byType = typeRank(a) - typeRank(b);
  if (byType !== 0) return byType;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  return Number(a) - Number(b);
}

function typeRank(value: AttributeValue): number {
  return typeof value === 'boolean' ? 0 : typeof value === 'number' ? 1 : 2;
}
