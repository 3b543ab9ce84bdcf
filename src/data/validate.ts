/**
 * Validating parsed JSON (task files, data layouts) with messages that name the file and the field; the checks
 * themselves are src/util/validate.ts's, shared with the sweep config reader.
 */
import { numberProblem, type Obj, objectProblem, stringProblem, unknownKey } from "../util/validate.ts";

export type { Obj };

export class SchemaError extends Error {}

export function fail(where: string, field: string, expected: string, got: unknown): never {
  throw new SchemaError(`${where}: "${field}" must be ${expected}, got ${JSON.stringify(got)}`);
}

export function obj(where: string, field: string, v: unknown): Obj {
  const p = objectProblem(v);
  if (p) fail(where, field, p, v);
  return v as Obj;
}

export function str(where: string, field: string, v: unknown): string {
  const p = stringProblem(v);
  if (p) fail(where, field, p, v);
  return v as string;
}

export function int(where: string, field: string, v: unknown, min = Number.MIN_SAFE_INTEGER): number {
  const p = numberProblem(v, { int: true, min });
  if (p) fail(where, field, p, v);
  return v as number;
}

export function optInt(where: string, field: string, v: unknown, min: number): number | null {
  if (v === null || v === undefined) return null;
  return int(where, field, v, min);
}

export function strArray(where: string, field: string, v: unknown, minLen = 1): string[] {
  if (!Array.isArray(v) || v.length < minLen || v.some((x) => stringProblem(x) !== undefined))
    fail(where, field, `an array of ${minLen}+ non-empty strings`, v);
  return v as string[];
}

export function intArray(where: string, field: string, v: unknown, minLen = 1): number[] {
  if (!Array.isArray(v) || v.length < minLen || v.some((x) => numberProblem(x, { int: true }) !== undefined))
    fail(where, field, `an array of ${minLen}+ integers`, v);
  return v as number[];
}

export function noUnknownKeys(where: string, o: Obj, allowed: readonly string[], prefix = ""): void {
  const k = unknownKey(o, allowed);
  if (k !== undefined)
    throw new SchemaError(`${where}: unknown field "${prefix}${k}" (allowed: ${allowed.join(", ")})`);
}
