/**
 * The checks every reader of JSON or YAML makes (task files and data layouts: src/data/validate.ts; sweep configs:
 * src/experiments/config.ts), in one vocabulary. Each check returns what was expected when a value fails (e.g.
 * "an integer >= 1"), undefined when it passes; the reader frames the message with where the value was (file,
 * line, field or key path).
 */

export type Obj = Record<string, unknown>;

export const isObject = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** An object (not null, not an array). */
export function objectProblem(v: unknown): string | undefined {
  return isObject(v) ? undefined : "an object";
}

/** A non-empty string; with `blank: false`, also not only whitespace. */
export function stringProblem(v: unknown, opts: { blank?: boolean } = {}): string | undefined {
  const empty = typeof v !== "string" || (opts.blank === false ? v.trim() === "" : v.length === 0);
  return empty ? "a non-empty string" : undefined;
}

/** A finite number: an integer with `int`; greater than `gt` or at least `min` (the bound named is gt's if both). */
export function numberProblem(v: unknown, opts: { int?: boolean; min?: number; gt?: number } = {}): string | undefined {
  const bound = opts.gt !== undefined ? ` > ${opts.gt}` : opts.min !== undefined ? ` >= ${opts.min}` : "";
  const what = `${opts.int ? "an integer" : "a number"}${bound}`;
  if (typeof v !== "number" || !Number.isFinite(v)) return what;
  if (
    (opts.int && !Number.isInteger(v)) ||
    (opts.min !== undefined && v < opts.min) ||
    (opts.gt !== undefined && v <= opts.gt)
  )
    return what;
  return undefined;
}

/** The first key of `o` that `allowed` lacks, if any. */
export function unknownKey(o: Obj, allowed: readonly string[]): string | undefined {
  return Object.keys(o).find((k) => !allowed.includes(k));
}
