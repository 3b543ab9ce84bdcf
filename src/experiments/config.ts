import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { CLASSIC_FORMULAS, isClassicFormula } from "../kernels/classic.ts";
import { parseBytes } from "../kernels/plan.ts";
import { FORMULAS } from "../kernels/types.ts";
import { DEVICES, type Device } from "../model/runtime/providers.ts";
import { listTasks } from "../prompts/task.ts";
import { FINETUNE_DEFAULTS as D } from "../training/defaults.ts";
import { canonicalJson, contentKey } from "../util/canonical.ts";
import { numberProblem, type Obj, objectProblem, stringProblem, unknownKey } from "../util/validate.ts";
import type { HyperValue } from "./jobs.ts";
import { type EntryChecker, methodModule, methodModuleKinds } from "./method-modules.ts";

/** eNTK formulas and the classic kernels on frozen features (docs/analyses.md §5). */
export const KERNEL_FORMULAS = [...FORMULAS, ...CLASSIC_FORMULAS] as const;
export const KERNEL_SOLVERS = ["lstsq", "logistic", "svc", "svr", "asym"] as const;
export const FT_OPTIMIZERS = ["sgd", "signgd", "adam"] as const;
export const SPLIT_MODES = ["k-shot", "k-shot-10x", "k-shot-1k-test"] as const;
export type KernelFormula = (typeof KERNEL_FORMULAS)[number];
export type KernelSolver = (typeof KERNEL_SOLVERS)[number];
export type FtOptimizer = (typeof FT_OPTIMIZERS)[number];
export type SplitMode = (typeof SPLIT_MODES)[number];

/** Kernel regression: every formula × solver is one job; the hyperparameter grid is swept inside the job. */
export interface KernelMethodConfig {
  kind: "kernel";
  formulas: KernelFormula[];
  solvers: KernelSolver[];
  /** Swept inside each job (cheap once the kernel exists): one result record per grid point. */
  grid: { reg: number[]; gamma?: number[]; lambda?: number[] };
  options: {
    binary: boolean;
    adjustForInit: boolean;
    f0Scaling: number;
    excludeEmbeddings: boolean;
    excludeHead: boolean;
    onlyBiases: boolean;
  } & VariantOptions;
}

/**
 * Model variant of a kernel or fine-tuning method (docs/no-prompt-and-lora.md); only the keys that are set, so the
 * prompt-MLM jobs keep their content keys. `loraTargets` is a comma list ("query,value").
 */
export interface VariantOptions {
  noPrompt?: true;
  loraR?: number;
  loraAlpha?: number;
  loraTargets?: string;
}

/** Zero-shot: the prompt model at θ₀, argmax over the label words on dev and test. */
export interface ZeroShotMethodConfig {
  kind: "zero-shot";
}

/** Linear probe (LogisticRegressionCV, multinomial) on frozen features: the mask feature, or h_<s> with noPrompt. */
export interface ProbeMethodConfig {
  kind: "probe";
  options: { noPrompt?: true };
}

/**
 * Prompt-based fine-tuning: every optimizer × lr × batch size × steps is one job (one training run). `ft-lin`
 * trains the linearized model f₀ + J·τ instead (docs/linearization.md; no model variants).
 */
export interface FtMethodConfig {
  kind: "ft" | "ft-lin";
  optimizers: FtOptimizer[];
  lr: number[];
  batchSize: number[];
  steps: number[];
  options: {
    evalEvery: number | "epoch";
    weightDecay: number;
    warmupSteps: number;
    maxGradNorm: number;
  } & VariantOptions;
}

/** A method of a kind registered by a method module (method-modules.ts): its normalized entry. */
export interface ModuleMethodConfig {
  kind: "module";
  /** The module's kind, as the config names it. */
  module: string;
  entry: Record<string, HyperValue>;
}

/** Every method may be restricted to some of the sweep's tasks (e.g. A-SignGD to binary tasks). */
export type MethodConfig = (
  | KernelMethodConfig
  | FtMethodConfig
  | ZeroShotMethodConfig
  | ProbeMethodConfig
  | ModuleMethodConfig
) & { tasks?: string[] };

export interface SweepConfig {
  name: string;
  /** Free text for people reading the config (JSON has no comments); not part of the config hash. */
  description?: string;
  model: { id: string; revision?: string };
  /** Where the task data lives (LM-BFF `original/` layout) and which k-shot split mode to generate. */
  data: { dir: string; mode: SplitMode };
  tasks: string[];
  k: number[];
  seeds: number[];
  methods: MethodConfig[];
  limits: { limitEval?: number };
  /**
   * Memory budget of the whole sweep in bytes (YAML/JSON: a size like "8GB" or a number of bytes; default half the
   * RAM); jobs running at once share it. Where the jobs run, not what they compute: not part of the config hash.
   */
  memory?: number;
  /** Execution provider of kernel and fine-tuning jobs (default cpu); not part of the config hash either. */
  device?: Device;
  /**
   * Cache kernel jobs' per-example gradient factors in OUT/cache so a task's test set is differentiated once for
   * all k and seeds (default false: recomputed per job; README "Disk use"). Not part of the config hash.
   */
  cacheFactors?: boolean;
  /** Output directory (records, job work dirs, shared caches). Relative paths are relative to the working dir. */
  out: string;
}

/** A config problem, located by the key path (e.g. `methods[1].lr[0]`) and, when known, the file line. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ""}: ${path ? `${path}: ` : ""}${detail}`);
    this.name = "ConfigError";
  }
}

type Path = (string | number)[];
const fmtPath = (p: Path) =>
  p.reduce<string>((s, seg) => (typeof seg === "number" ? `${s}[${seg}]` : s ? `${s}.${seg}` : seg), "");
const show = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));

/** Validation context: turns a key path into a ConfigError with the line number when the source is known. */
class Ctx {
  constructor(
    readonly file: string,
    private readonly lineOf: (p: Path) => number | undefined,
  ) {}
  fail(p: Path, detail: string): never {
    throw new ConfigError(this.file, fmtPath(p), detail, this.lineOf(p));
  }
  /** Fail at `p` with "expected <what>, got <v>" when a check (src/util/validate.ts) says what was expected. */
  check(problem: string | undefined, v: unknown, p: Path): void {
    if (problem !== undefined) this.fail(p, `expected ${problem}, got ${show(v)}`);
  }
  obj(v: unknown, p: Path, allowed: string[]): Record<string, unknown> {
    this.check(objectProblem(v), v, p);
    const key = unknownKey(v as Obj, allowed);
    if (key !== undefined) this.fail([...p, key], `unknown key (expected one of: ${allowed.join(", ")})`);
    return v as Record<string, unknown>;
  }
  str(v: unknown, p: Path): string {
    this.check(stringProblem(v, { blank: false }), v, p);
    return v as string;
  }
  oneOf<T extends string>(v: unknown, p: Path, choices: readonly T[]): T {
    if (typeof v !== "string" || !choices.includes(v as T))
      this.fail(p, `expected one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${show(v)}`);
    return v as T;
  }
  bool(v: unknown, p: Path, dflt: boolean): boolean {
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") this.fail(p, `expected true or false, got ${show(v)}`);
    return v;
  }
  num(v: unknown, p: Path, opts: { int?: boolean; min?: number; gt?: number } = {}): number {
    this.check(numberProblem(v, opts), v, p);
    return v as number;
  }
  /** A non-empty list without duplicates; a single scalar is accepted as a one-element list. */
  list<T>(v: unknown, p: Path, item: (x: unknown, p: Path) => T): T[] {
    const arr = Array.isArray(v) ? v : v === undefined ? this.fail(p, "is required (a non-empty list)") : [v];
    if (arr.length === 0) this.fail(p, "expected a non-empty list");
    const out = arr.map((x, i) => item(x, Array.isArray(v) ? [...p, i] : p));
    const seen = new Set<string>();
    out.forEach((x, i) => {
      const c = canonicalJson(x);
      if (seen.has(c)) this.fail(Array.isArray(v) ? [...p, i] : p, `duplicate value ${show(x)}`);
      seen.add(c);
    });
    return out;
  }
}

const TASK_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function validateKernel(c: Ctx, m: Record<string, unknown>, p: Path): KernelMethodConfig {
  const formulas = c.list(m.formula, [...p, "formula"], (x, q) => c.oneOf(x, q, KERNEL_FORMULAS));
  const solvers = c.list(m.solver, [...p, "solver"], (x, q) => c.oneOf(x, q, KERNEL_SOLVERS));
  const reg = m.reg === undefined ? [0] : c.list(m.reg, [...p, "reg"], (x, q) => c.num(x, q, { min: 0 }));
  const grid: KernelMethodConfig["grid"] = { reg };
  for (const name of ["gamma", "lambda"] as const) {
    if (m[name] === undefined) continue;
    if (!solvers.includes("asym"))
      c.fail([...p, name], `only applies to the "asym" solver (solver is ${show(solvers)})`);
    grid[name] = c.list(m[name], [...p, name], (x, q) =>
      name === "gamma" ? c.num(x, q, { gt: 0 }) : c.num(x, q, { min: 0 }),
    );
  }
  const classic = formulas.filter(isClassicFormula);
  if (classic.length)
    for (const k of ["excludeEmbeddings", "excludeHead", "onlyBiases", "loraR"])
      if (m[k] !== undefined && m[k] !== false)
        c.fail([...p, k], `only applies to eNTK formulas, not to the classic kernel ${show(classic[0])}`);
  const adjustForInit = c.bool(m.adjustForInit, [...p, "adjustForInit"], false);
  if (adjustForInit)
    for (const s of solvers)
      if (s === "logistic" || s === "svc")
        c.fail([...p, "adjustForInit"], `the "${s}" solver cannot adjust for f0 (only lstsq, asym and svr can)`);
  if (m.f0Scaling !== undefined && !adjustForInit) c.fail([...p, "f0Scaling"], "needs adjustForInit: true");
  return {
    kind: "kernel",
    formulas,
    solvers,
    grid,
    options: {
      binary: c.bool(m.binary, [...p, "binary"], false),
      adjustForInit,
      f0Scaling: m.f0Scaling === undefined ? 1 : c.num(m.f0Scaling, [...p, "f0Scaling"], { gt: 0 }),
      excludeEmbeddings: c.bool(m.excludeEmbeddings, [...p, "excludeEmbeddings"], false),
      excludeHead: c.bool(m.excludeHead, [...p, "excludeHead"], false),
      onlyBiases: c.bool(m.onlyBiases, [...p, "onlyBiases"], false),
      ...validateVariant(c, m, p),
    },
  };
}

const LORA_TARGET_NAMES = ["query", "value"];

function validateVariant(c: Ctx, m: Record<string, unknown>, p: Path): VariantOptions {
  const out: VariantOptions = {};
  if (c.bool(m.noPrompt, [...p, "noPrompt"], false)) out.noPrompt = true;
  if (m.loraR === undefined) {
    for (const k of ["loraAlpha", "loraTargets"]) if (m[k] !== undefined) c.fail([...p, k], "needs loraR");
    return out;
  }
  out.loraR = c.num(m.loraR, [...p, "loraR"], { int: true, min: 1 });
  if (m.loraAlpha !== undefined) out.loraAlpha = c.num(m.loraAlpha, [...p, "loraAlpha"], { gt: 0 });
  if (m.loraTargets !== undefined) {
    const t = c.str(m.loraTargets, [...p, "loraTargets"]);
    if (!t.split(",").every((x) => LORA_TARGET_NAMES.includes(x)))
      c.fail([...p, "loraTargets"], `expected a comma list of ${LORA_TARGET_NAMES.join(", ")}, got ${show(t)}`);
    out.loraTargets = t;
  }
  return out;
}

function validateFt(c: Ctx, m: Record<string, unknown>, p: Path, kind: FtMethodConfig["kind"]): FtMethodConfig {
  const evalEvery = m.evalEvery === undefined || m.evalEvery === "epoch" ? (m.evalEvery ?? D.evalEvery) : m.evalEvery;
  if (evalEvery !== "epoch" && !(Number.isInteger(evalEvery) && (evalEvery as number) >= 1))
    c.fail([...p, "evalEvery"], `expected an integer >= 1 or "epoch", got ${show(evalEvery)}`);
  return {
    kind,
    optimizers: c.list(m.optimizer, [...p, "optimizer"], (x, q) => c.oneOf(x, q, FT_OPTIMIZERS)),
    lr: c.list(m.lr, [...p, "lr"], (x, q) => c.num(x, q, { gt: 0 })),
    batchSize: c.list(m.batchSize, [...p, "batchSize"], (x, q) => c.num(x, q, { int: true, min: 1 })),
    steps: c.list(m.steps, [...p, "steps"], (x, q) => c.num(x, q, { int: true, min: 1 })),
    options: {
      evalEvery: evalEvery as number | "epoch",
      weightDecay:
        m.weightDecay === undefined ? D.weightDecay : c.num(m.weightDecay, [...p, "weightDecay"], { min: 0 }),
      warmupSteps:
        m.warmupSteps === undefined
          ? D.warmupSteps
          : c.num(m.warmupSteps, [...p, "warmupSteps"], { int: true, min: 0 }),
      maxGradNorm: m.maxGradNorm === undefined ? D.maxGradNorm : c.num(m.maxGradNorm, [...p, "maxGradNorm"], { gt: 0 }),
      ...validateVariant(c, m, p),
    },
  };
}

const METHOD_KEYS = {
  kernel: [
    "kind",
    "formula",
    "solver",
    "reg",
    "gamma",
    "lambda",
    "binary",
    "adjustForInit",
    "f0Scaling",
    "excludeEmbeddings",
    "excludeHead",
    "onlyBiases",
    "noPrompt",
    "loraR",
    "loraAlpha",
    "loraTargets",
  ],
  ft: [
    "kind",
    "optimizer",
    "lr",
    "batchSize",
    "steps",
    "evalEvery",
    "weightDecay",
    "warmupSteps",
    "maxGradNorm",
    "noPrompt",
    "loraR",
    "loraAlpha",
    "loraTargets",
  ],
  "ft-lin": ["kind", "optimizer", "lr", "batchSize", "steps", "evalEvery", "weightDecay", "warmupSteps", "maxGradNorm"],
  "zero-shot": ["kind"],
  probe: ["kind", "noPrompt"],
};
const METHOD_KINDS = ["kernel", "ft", "ft-lin", "zero-shot", "probe"] as const;
type MethodKind = (typeof METHOD_KINDS)[number];
/** The built-in kinds, then those of registered method modules. */
const methodKinds = (): string[] => [...METHOD_KINDS, ...methodModuleKinds()];

/** A module's view of its entry at `p`: checks by key, failing with the entry's key path. */
function entryChecker(c: Ctx, m: Record<string, unknown>, p: Path): EntryChecker {
  return {
    fail: (key, detail) => c.fail([...p, key], detail),
    num: (key, o = {}) => (m[key] === undefined && o.dflt !== undefined ? o.dflt : c.num(m[key], [...p, key], o)),
    bool: (key, dflt) => c.bool(m[key], [...p, key], dflt),
  };
}

function validateMethod(c: Ctx, v: unknown, p: Path): MethodConfig {
  const kind = c.oneOf(c.obj(v, p, Object.keys(v ?? {})).kind, [...p, "kind"], methodKinds());
  const mod = methodModule(kind);
  const m = c.obj(v, p, [...(mod ? ["kind", ...mod.keys] : METHOD_KEYS[kind as MethodKind]), "tasks"]);
  const tasks = m.tasks === undefined ? {} : { tasks: c.list(m.tasks, [...p, "tasks"], (x, q) => c.str(x, q)) };
  if (mod) {
    const { kind: _kind, tasks: _tasks, ...own } = m;
    return { kind: "module", module: kind, entry: mod.validate(own, entryChecker(c, m, p)), ...tasks };
  }
  if (kind === "kernel") return { ...validateKernel(c, m, p), ...tasks };
  if (kind === "ft" || kind === "ft-lin") return { ...validateFt(c, m, p, kind), ...tasks };
  if (kind === "zero-shot") return { kind, ...tasks };
  const noPrompt = c.bool(m.noPrompt, [...p, "noPrompt"], false);
  return { kind: "probe", options: noPrompt ? { noPrompt } : {}, ...tasks };
}

/** The leading `:`-separated values of a method spec, by kind. */
const POSITIONAL: Record<string, string[]> = {
  kernel: ["formula", "solver"],
  ft: ["optimizer"],
  "ft-lin": ["optimizer"],
};

/**
 * Parse a one-line method spec as `entk run --methods` takes them: `kernel:<formula>:<solver>[:key=value]...` or
 * `ft:<optimizer>[:key=value]...` or `ft-lin:<optimizer>[:key=value]...` (`bs` is short for batchSize), e.g.
 * `ft:adam:lr=1e-5:bs=8:steps=1000`. It is validated like a sweep config's method entry, so a run and a sweep of
 * the same job share its content key.
 */
export function parseMethodSpec(spec: string): MethodConfig {
  const c: Ctx = new Ctx(`method "${spec}"`, () => undefined);
  const [kind, ...rest] = spec.split(":");
  const raw: Record<string, unknown> = { kind };
  c.oneOf(kind, ["kind"], methodKinds());
  const positional = POSITIONAL[kind] ?? methodModule(kind)?.positional ?? [];
  const value = (v: string): unknown =>
    v === "true" ? true : v === "false" ? false : v !== "" && Number.isFinite(Number(v)) ? Number(v) : v;
  rest.forEach((part, i) => {
    if (i < positional.length) raw[positional[i]] = value(part);
    else {
      const eq = part.indexOf("=");
      if (eq <= 0) c.fail([], `expected key=value after the ${positional.join(" and ")}, got "${part}"`);
      const key = part.slice(0, eq);
      raw[key === "bs" ? "batchSize" : key] = value(part.slice(eq + 1));
    }
  });
  return validateMethod(c, raw, []);
}

/** Validate a parsed config object. `lineOf` maps a key path to its line in the source, when known. */
export function validateSweepConfig(
  raw: unknown,
  file = "config",
  lineOf: (p: Path) => number | undefined = () => undefined,
): SweepConfig {
  const c: Ctx = new Ctx(file, lineOf);
  const r = c.obj(
    raw,
    [],
    [
      "name",
      "description",
      "model",
      "data",
      "tasks",
      "k",
      "seeds",
      "methods",
      "limits",
      "memory",
      "device",
      "cacheFactors",
      "out",
    ],
  );
  const model =
    typeof r.model === "string"
      ? { id: c.str(r.model, ["model"]) }
      : (() => {
          const m = c.obj(r.model, ["model"], ["id", "revision"]);
          return {
            id: c.str(m.id, ["model", "id"]),
            ...(m.revision === undefined ? {} : { revision: c.str(m.revision, ["model", "revision"]) }),
          };
        })();
  const data =
    typeof r.data === "string"
      ? { dir: c.str(r.data, ["data"]), mode: "k-shot-1k-test" as SplitMode }
      : (() => {
          const d = c.obj(r.data, ["data"], ["dir", "mode"]);
          return {
            dir: c.str(d.dir, ["data", "dir"]),
            mode:
              d.mode === undefined ? ("k-shot-1k-test" as SplitMode) : c.oneOf(d.mode, ["data", "mode"], SPLIT_MODES),
          };
        })();
  const tasks = c.list(r.tasks, ["tasks"], (x, q) => {
    const t = c.str(x, q);
    if (!TASK_RE.test(t)) c.fail(q, `expected a task name (letters, digits, "-", "_", "."), got ${show(t)}`);
    const known = listTasks();
    if (!known.some((n) => n.toLowerCase() === t.toLowerCase()))
      c.fail(q, `unknown task ${show(t)} (known tasks: ${known.join(", ")})`);
    return t;
  });
  const lower = new Set<string>();
  tasks.forEach((t, i) => {
    if (lower.has(t.toLowerCase())) c.fail(["tasks", i], `duplicate task ${show(t)} (task names are case-insensitive)`);
    lower.add(t.toLowerCase());
  });
  const limitsRaw = r.limits === undefined ? {} : c.obj(r.limits, ["limits"], ["limitEval"]);
  const limits: SweepConfig["limits"] = {};
  if (limitsRaw.limitEval !== undefined)
    limits.limitEval = c.num(limitsRaw.limitEval, ["limits", "limitEval"], { int: true, min: 1 });
  const methodsRaw = r.methods;
  if (!Array.isArray(methodsRaw) || methodsRaw.length === 0)
    c.fail(["methods"], `expected a non-empty list of methods, got ${show(methodsRaw)}`);
  const methods = methodsRaw.map((m, i) => validateMethod(c, m, ["methods", i]));
  for (const [i, m] of methods.entries())
    for (const [j, t] of (m.tasks ?? []).entries())
      if (!lower.has(t.toLowerCase()))
        c.fail(["methods", i, "tasks", j], `task ${show(t)} is not in the top-level tasks`);

  return {
    name: r.name === undefined ? "sweep" : c.str(r.name, ["name"]),
    ...(r.description === undefined ? {} : { description: c.str(r.description, ["description"]) }),
    model,
    data,
    tasks,
    k: c.list(r.k, ["k"], (x, q) => c.num(x, q, { int: true, min: 1 })),
    seeds: c.list(r.seeds, ["seeds"], (x, q) => c.num(x, q, { int: true, min: 0 })),
    methods,
    limits,
    ...(r.memory === undefined ? {} : { memory: memoryValue(c, r.memory, ["memory"]) }),
    ...(r.device === undefined ? {} : { device: c.oneOf(r.device, ["device"], DEVICES) }),
    ...(r.cacheFactors === undefined ? {} : { cacheFactors: c.bool(r.cacheFactors, ["cacheFactors"], false) }),
    out: c.str(r.out, ["out"]),
  };
}

/** A memory budget: a size like "8GB" / "512MiB", or a number of bytes. */
function memoryValue(c: Ctx, v: unknown, p: Path): number {
  if (typeof v === "number") return c.num(v, p, { int: true, min: 1 });
  if (typeof v !== "string") c.fail(p, `expected a size like "8GB" or a number of bytes, got ${show(v)}`);
  try {
    return parseBytes(v);
  } catch {
    c.fail(p, `expected a size like "8GB" or a number of bytes, got ${show(v)}`);
  }
}

/** Parse JSON or YAML text (JSON is read by the YAML 1.2 parser too, so both get line numbers in errors). */
export function parseSweepConfig(text: string, file = "config"): SweepConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(file, "", `cannot parse: ${e.message.split("\n")[0]}`, lc.linePos(e.pos[0]).line);
  }
  const lineOf = (p: Path): number | undefined => {
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n), true) as { range?: [number, number] } | undefined;
      if (node && typeof node === "object" && node.range) return lc.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return validateSweepConfig(doc.toJS(), file, lineOf);
}

export function loadSweepConfig(path: string): SweepConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read sweep config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseSweepConfig(text, path);
}

/**
 * Identifies a config's meaning (not its formatting, output dir, memory budget, device or caching): recorded in
 * every result.
 */
export function configHash(config: SweepConfig): string {
  const { out: _out, description: _d, memory: _m, device: _dev, cacheFactors: _cf, ...rest } = config;
  return contentKey(rest);
}

export function resolveOutDir(config: SweepConfig, cwd = process.cwd()): string {
  return isAbsolute(config.out) ? config.out : resolve(cwd, config.out);
}
