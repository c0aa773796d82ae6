/** Nearest-rank percentiles of a sample, in the sample's unit. */
export function percentiles(values: readonly number[], ranks: readonly number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const result: Record<string, number> = {};
  for (const rank of ranks) {
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1));
    result[`p${rank}`] = sorted[index] ?? Number.NaN;
  }
  return result;
}
