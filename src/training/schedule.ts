/**
 * HF `get_linear_schedule_with_warmup` as a multiplier of the base lr, evaluated at `step` = the number of
 * optimizer steps already taken (the first step uses step = 0):
 *   step < warmup:  step / max(1, warmup)
 *   otherwise:      max(0, (total − step) / max(1, total − warmup))
 */
export function linearWarmupFactor(step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}
