/**
 * Method kinds defined outside entk's sources. A module named in `$ENTK_METHOD_MODULES` (comma-separated paths of
 * ES modules that node can import as they are) default-exports a MethodModule; sweep configs and `entk run` then
 * accept its kind, and the sweep runner runs its jobs with its executor (README "Sweeps"). entk's own tests use
 * one for a model-free method (test/helpers/sleep-method.mjs) that exercises the sweep machinery.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Executor } from "./executor.ts";
import type { HyperValue } from "./jobs.ts";

/** Checks on one config entry of a module's kind; failures name the file, line and key path. */
export interface EntryChecker {
  fail(key: string, detail: string): never;
  /** The entry's `key`: a finite number (an integer with `int`, at least `min`); `dflt` when absent, if given. */
  num(key: string, opts?: { int?: boolean; min?: number; dflt?: number }): number;
  /** The entry's `key`: true or false; `dflt` when absent. */
  bool(key: string, dflt: boolean): boolean;
}

/** What one job of a method runs: its method string, fixed hyperparameters and in-job grid (JobSpec). */
export interface MethodVariant {
  method: string;
  hyperparameters: Record<string, HyperValue>;
  grid: Record<string, number[]>;
}

export interface MethodModule {
  /** The method kind (`kind:` in configs, the part before the first ":" of its job methods). */
  kind: string;
  /** Keys an entry may have besides `kind` and `tasks`. */
  keys: string[];
  /** Keys given as leading `:`-separated values in a one-line spec (`entk run --methods kind:<a>:<b>`). */
  positional?: string[];
  /** Validate an entry; returns it normalized (what the config hash covers). */
  validate(entry: Record<string, unknown>, check: EntryChecker): Record<string, HyperValue>;
  /** The jobs a normalized entry expands to (per task, k and seed). */
  expand(entry: Record<string, HyperValue>): MethodVariant[];
  executor: Executor;
}

const modules = new Map<string, MethodModule>();

/** Make a method kind known to config validation, job expansion and the sweep runner's executors. */
export function registerMethodModule(m: MethodModule): void {
  if (!/^[a-z][a-z0-9-]*$/.test(m.kind)) throw new Error(`method module: bad kind "${m.kind}"`);
  modules.set(m.kind, m);
}

/** The registered module of `kind`, if any. */
export function methodModule(kind: string): MethodModule | undefined {
  return modules.get(kind);
}

/** The kinds registered so far. */
export function methodModuleKinds(): string[] {
  return [...modules.keys()];
}

/** Import and register the modules `env.ENTK_METHOD_MODULES` names (paths relative to the working directory). */
export async function loadMethodModules(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const paths = (env.ENTK_METHOD_MODULES ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const path of paths) {
    const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: MethodModule };
    const m = mod.default;
    if (!m || typeof m.kind !== "string" || typeof m.executor !== "function")
      throw new Error(`ENTK_METHOD_MODULES: ${path} does not default-export a method module (kind, executor, ...)`);
    registerMethodModule(m);
  }
}
