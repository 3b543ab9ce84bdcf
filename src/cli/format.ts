/** `acc 81.25, f1 79.10`: a record's metrics (fractions in [0, 1]) as percentages with two decimals. */
export function formatPercentMetrics(m: Record<string, number> | undefined): string {
  return m
    ? Object.entries(m)
        .map(([k, v]) => `${k} ${(100 * v).toFixed(2)}`)
        .join(", ")
    : "-";
}
