/**
 * One line of the benchmark's table, and how latency samples become a figure. Shared by `run.ts`
 * and the measurement modules it imports, so a module never imports `run.ts` (which runs on import).
 */

/** One figure: Weft's value beside its baseline measured in the same process. */
export interface Row {
  metric: string;
  weft: number;
  unit: string;
  baseline: number;
  baselineName: string;
  target: string;
  /** true when a larger value is better */
  higherIsBetter: boolean;
}

/** The sample at rank `p` percent of the sorted samples (nearest rank, no interpolation). */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
