/**
 * Ordering primitives for the memory adapter's sorted indexes: a binary search over a sorted array
 * and code-unit string comparison. The trap it avoids is `localeCompare`, whose order depends on
 * the process locale, where the contract asks for binary (code-unit) order.
 */

/** Binary search: the first index whose item satisfies `predicate`, which must be monotone (false…true). */
export function firstIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (predicate(items[mid] as T)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Code-unit order, not `localeCompare`: ordering must not depend on the process locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
