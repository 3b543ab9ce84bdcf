/** Small helpers for validating parsed JSON with messages that name the file and the field. */
export class SchemaError extends Error {}

export type Obj = Record<string, unknown>;

export function fail(where: string, field: string, expected: string, got: unknown): never {
  throw new SchemaError(`${where}: "${field}" must be ${expected}, got ${JSON.stringify(got)}`);
}

export function obj(where: string, field: string, v: unknown): Obj {
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(where, field, "an object", v);
  return v as Obj;
}

export function str(where: string, field: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0) fail(where, field, "a non-empty string", v);
  return v;
}

export function int(where: string, field: string, v: unknown, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) fail(where, field, `an integer >= ${min}`, v);
  return v;
}

export function optInt(where: string, field: string, v: unknown, min: number): number | null {
  if (v === null || v === undefined) return null;
  return int(where, field, v, min);
}

export function strArray(where: string, field: string, v: unknown, minLen = 1): string[] {
  if (!Array.isArray(v) || v.length < minLen || v.some((x) => typeof x !== "string" || x.length === 0))
    fail(where, field, `an array of ${minLen}+ non-empty strings`, v);
  return v as string[];
}

export function intArray(where: string, field: string, v: unknown, minLen = 1): number[] {
  if (!Array.isArray(v) || v.length < minLen || v.some((x) => typeof x !== "number" || !Number.isInteger(x)))
    fail(where, field, `an array of ${minLen}+ integers`, v);
  return v as number[];
}

export function noUnknownKeys(where: string, o: Obj, allowed: readonly string[], prefix = ""): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new SchemaError(`${where}: unknown field "${prefix}${k}" (allowed: ${allowed.join(", ")})`);
}
