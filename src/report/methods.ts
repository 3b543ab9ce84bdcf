/** How the report names a method and which row of the paper's Table 2 it corresponds to. */
export interface MethodInfo {
  label: string;
  paper?: string;
  order: number;
}

const FORMULA = {
  sgd: { label: "K^(SGD)", order: 1 },
  signgd: { label: "K^(SignGD)", order: 3 },
  asymmetric_signgd: { label: "K^(A-SignGD)", order: 4 },
} as const;
/** Classic kernels on frozen features (docs/analyses.md §5): no-training baselines, beside the linear probe. */
const CLASSIC = {
  linear: { label: "linear kernel", order: 7.2 },
  poly: { label: "polynomial kernel", order: 7.4 },
  rbf: { label: "Gaussian kernel", order: 7.6 },
} as const;
const FT = {
  sgd: { label: "SGD-FT", order: 0, paper: true },
  adam: { label: "Adam-FT", order: 2, paper: true },
  signgd: { label: "SignGD-FT", order: 5, paper: false },
} as const;

/**
 * The row a record belongs to. By default every kernel solver is its own row (`kernel:sgd:lstsq`); with
 * `poolSolvers` the solver becomes one more hyperparameter chosen on dev (`kernel:sgd`).
 */
export function rowMethod(method: string, poolSolvers: boolean): string {
  const parts = method.split(":");
  return poolSolvers && parts[0] === "kernel" && parts.length === 3 ? parts.slice(0, 2).join(":") : method;
}

/**
 * Model variants get rows of their own (docs/no-prompt-and-lora.md): `#no-prompt`, `#lora-r8` or both, from a
 * record's hyperparameters; "" for the prompt MLM.
 */
export function variantSuffix(h: Record<string, unknown>): string {
  const tags = [
    ...(h.noPrompt === true ? ["no-prompt"] : []),
    ...(typeof h.loraR === "number" ? [`lora-r${h.loraR}`] : []),
  ];
  return tags.length ? `#${tags.join(",")}` : "";
}

const BASELINES: Record<string, MethodInfo> = {
  "zero-shot": { label: "Zero-shot", order: 6 },
  probe: { label: "Linear probe", order: 7 },
};

export function methodInfo(rowKey: string): MethodInfo {
  const at = rowKey.indexOf("@");
  if (at >= 0) {
    const info = methodInfo(rowKey.slice(0, at));
    return { ...info, label: `${info.label} (${rowKey.slice(at + 1)})` };
  }
  const hash = rowKey.indexOf("#");
  if (hash >= 0) {
    // The paper's Table 2 is prompt-based full-model: a variant row has no paper number.
    const { paper: _p, ...info } = methodInfo(rowKey.slice(0, hash));
    const tags = rowKey
      .slice(hash + 1)
      .split(",")
      .map((t) => (t === "no-prompt" ? "no prompt" : t.replace(/^lora-r/, "LoRA r=")));
    return { ...info, label: `${info.label} [${tags.join(", ")}]`, order: info.order + 0.5 };
  }
  if (rowKey in BASELINES) return BASELINES[rowKey];
  const [kind, a, solver] = rowKey.split(":");
  if (kind === "kernel" && a in FORMULA) {
    const f = FORMULA[a as keyof typeof FORMULA];
    return { label: solver ? `${f.label} ${solver}` : f.label, paper: f.label, order: f.order };
  }
  if (kind === "kernel" && a in CLASSIC) {
    const f = CLASSIC[a as keyof typeof CLASSIC];
    return { label: solver ? `${f.label} ${solver}` : f.label, order: f.order };
  }
  if (kind === "ft" && a in FT) {
    const f = FT[a as keyof typeof FT];
    return { label: f.label, ...(f.paper ? { paper: f.label } : {}), order: f.order };
  }
  // Beside their fine-tuning row (docs/linearization.md): f_lin trained, and f_lin of the fine-tuned checkpoint.
  if ((kind === "ft-lin" || kind === "posthoc-lin") && a in FT) {
    const f = FT[a as keyof typeof FT];
    const lin = kind === "ft-lin" ? { tag: "linearized", dx: 0.1 } : { tag: "post-hoc linearized", dx: 0.2 };
    return { label: `${f.label} (${lin.tag})`, order: f.order + lin.dx };
  }
  return { label: rowKey, order: 8 };
}
