import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DataLayout, parseDataLayout } from "../data/layout.ts";
import { int, noUnknownKeys, type Obj, obj, optInt, str, strArray } from "../data/validate.ts";
import { OptionError } from "../util/errors.ts";

/** One task definition, `prompts/<task>.json` (docs/protocol.md §1). */
export interface TaskDef {
  /** LM-BFF's directory name (`SST-2`, `sst-5`, `ag_news`, `MNLI`, ...); also the output folder name. */
  name: string;
  description: string;
  /** LM-BFF template syntax (docs/protocol.md §2), e.g. `*cls**sent_0*_It_was*mask*.*sep+*`. */
  template: string;
  /** Label → label word (used with a leading space). */
  mapping: Record<string, string>;
  /** Label order = `processor.get_labels()`: class index i is `labels[i]`. */
  labels: string[];
  /** "f1": binary F1 with positive class = labels[1] (MRPC, QQP). */
  metric: "acc" | "f1";
  maxLength: number;
  firstSentLimit: number | null;
  otherSentLimit: number | null;
  data: DataLayout;
}

/** The bundled task files. */
export const PROMPTS_DIR = fileURLToPath(new URL("../../prompts/", import.meta.url));

const KEYS = [
  "name",
  "description",
  "template",
  "mapping",
  "labels",
  "metric",
  "maxLength",
  "firstSentLimit",
  "otherSentLimit",
  "data",
];

/** Validate a parsed task object; `where` (the file) prefixes every message. */
export function parseTask(v: unknown, where: string): TaskDef {
  const o = obj(where, "(task)", v);
  noUnknownKeys(where, o, KEYS);
  const labels = strArray(where, "labels", o.labels, 2);
  if (new Set(labels).size !== labels.length)
    throw new Error(`${where}: "labels" has duplicates: ${labels.join(", ")}`);
  const mappingObj = obj(where, "mapping", o.mapping) as Obj;
  const mapping: Record<string, string> = {};
  for (const [k, w] of Object.entries(mappingObj)) mapping[k] = str(where, `mapping.${k}`, w);
  for (const l of labels)
    if (!(l in mapping)) throw new Error(`${where}: "mapping" has no word for label ${JSON.stringify(l)}`);
  for (const k of Object.keys(mapping))
    if (!labels.includes(k))
      throw new Error(`${where}: "mapping" key ${JSON.stringify(k)} is not one of the labels [${labels.join(", ")}]`);
  const metric = o.metric;
  if (metric !== "acc" && metric !== "f1")
    throw new Error(`${where}: "metric" must be "acc" or "f1", got ${JSON.stringify(metric)}`);
  if (metric === "f1" && labels.length !== 2) throw new Error(`${where}: "metric" f1 needs exactly 2 labels`);
  return {
    name: str(where, "name", o.name),
    description: typeof o.description === "string" ? o.description : "",
    template: str(where, "template", o.template),
    mapping,
    labels,
    metric,
    maxLength: int(where, "maxLength", o.maxLength, 1),
    firstSentLimit: optInt(where, "firstSentLimit", o.firstSentLimit, 0),
    otherSentLimit: optInt(where, "otherSentLimit", o.otherSentLimit, 0),
    data: parseDataLayout(where, o.data),
  };
}

/** Read and validate one task file. */
export function loadTaskFile(path: string): TaskDef {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(`${path}: cannot read task file`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
  }
  return parseTask(v, path);
}

/** Names of the bundled tasks (LM-BFF spelling), sorted. */
export function listTasks(): string[] {
  return readdirSync(PROMPTS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => basename(f, ".json"))
    .sort();
}

/** The 14 tasks of the kernel paper (LM-BFF names; `SST-2` here is LM-BFF's sentence-level files). */
export const PAPER_TASKS = [
  "SST-2",
  "sst-5",
  "mr",
  "cr",
  "mpqa",
  "subj",
  "trec",
  "ag_news",
  "MNLI",
  "SNLI",
  "QNLI",
  "RTE",
  "MRPC",
  "QQP",
] as const;

/**
 * Load a task by name (bundled, case-insensitive: `sst-2`, `SST-2`, `glue-sst-2`, `AG_NEWS`) or by the path of a
 * `.json` task file. Unknown names list the available tasks.
 */
export function loadTask(nameOrPath: string): TaskDef {
  if (nameOrPath.endsWith(".json") || nameOrPath.includes("/")) {
    if (!existsSync(nameOrPath)) throw new Error(`task file ${nameOrPath} not found`);
    return loadTaskFile(nameOrPath);
  }
  const names = listTasks();
  const hit = names.find((n) => n.toLowerCase() === nameOrPath.toLowerCase());
  if (!hit)
    throw new Error(
      `unknown task ${JSON.stringify(nameOrPath)}; known tasks: ${names.join(", ")} (or a path to a task .json)`,
    );
  return loadTaskFile(join(PROMPTS_DIR, `${hit}.json`));
}

/** Apply command-line overrides (`--template`, `--mapping`, limits) and re-validate. */
export function overrideTask(
  task: TaskDef,
  o: {
    template?: string;
    mapping?: Record<string, string>;
    maxLength?: number;
    firstSentLimit?: number | null;
    otherSentLimit?: number | null;
  },
): TaskDef {
  const merged = {
    ...task,
    ...(o.template !== undefined && { template: o.template }),
    ...(o.mapping !== undefined && { mapping: o.mapping }),
    ...(o.maxLength !== undefined && { maxLength: o.maxLength }),
    ...(o.firstSentLimit !== undefined && { firstSentLimit: o.firstSentLimit }),
    ...(o.otherSentLimit !== undefined && { otherSentLimit: o.otherSentLimit }),
  };
  return parseTask(merged, `task ${task.name} (with command-line overrides)`);
}

/**
 * Parse a label-word `mapping` string: JSON (`{"0":"terrible","1":"great"}`) or LM-BFF's Python-dict form
 * (`{'0':'terrible','1':'great'}` or `{0:'terrible',1:'great'}`). Keys become strings.
 */
export function parseMapping(s: string): Record<string, string> {
  const body = s.trim();
  if (!body.startsWith("{") || !body.endsWith("}"))
    throw new OptionError("mapping", `expected {label: word, ...}, got ${s}`);
  const out: Record<string, string> = {};
  const inner = body.slice(1, -1).trim();
  if (inner === "") throw new OptionError("mapping", "empty mapping");
  const entry = /\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z0-9_.-]+))\s*:\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z0-9_.-]+))\s*(,|$)/y;
  let pos = 0;
  while (pos < inner.length) {
    entry.lastIndex = pos;
    const m = entry.exec(inner);
    if (!m) throw new OptionError("mapping", `cannot parse at "${inner.slice(pos)}" (expected 'label':'word')`);
    const key = m[1] ?? m[2] ?? m[3];
    out[key] = m[4] ?? m[5] ?? m[6];
    pos = entry.lastIndex;
    if (m[7] === "") break;
  }
  return out;
}
