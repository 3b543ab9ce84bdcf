import { type Command, Option } from "commander";
import { DYNAMICS_LOSSES, type DynamicsLoss } from "../../analyses/dynamics.ts";
import { type DynamicsSummary, runDynamics } from "../../analyses/dynamics-job.ts";
import { intArg, numberArg } from "../args.ts";

interface DynamicsCliOpts {
  kernels: string;
  formula: string;
  lr: number;
  steps: number;
  loss: DynamicsLoss;
  schedule: "linear" | "constant";
  every?: number;
  compare?: string;
  out: string;
  json?: boolean;
}

export function formatDynamicsSummary(s: DynamicsSummary): string {
  const last = s.steps.length - 1;
  const lines = [`linearized ${s.loss} dynamics from ${s.kernels} (lr ${s.lr}), step ${s.steps[last]}:`];
  for (const [split, r] of Object.entries(s.splits)) {
    let line = `  ${split.padEnd(5)} kernel acc ${(100 * r.predicted[last].acc).toFixed(1)}`;
    if (r.finetune)
      line +=
        ` | fine-tuning acc ${(100 * r.finetune.metrics[last].acc).toFixed(1)}` +
        ` | RMSE ${r.finetune.rmse[last].toPrecision(3)} (logits moved ${r.finetune.moved[last].toPrecision(3)})`;
    lines.push(line);
  }
  return lines.join("\n");
}

/** `entk dynamics`: the linearized model's training trajectory predicted from the kernels (docs/linearization.md). */
export function registerDynamics(program: Command): void {
  program
    .command("dynamics")
    .description(
      "kernel-predicted training dynamics of the linearized model on train and eval points (MSE in closed form, " +
        "cross-entropy by full-batch steps); with --compare, side by side with a fine-tuning run that logged its " +
        "logits (entk finetune --log-logits-every K): OUT/summary.json, OUT/pred.<split>.npy, OUT/dynamics.svg",
    )
    .requiredOption("--kernels <dir>", "kernel directory written by `entk kernel` (with f₀ logits)")
    .requiredOption("--lr <x>", "learning rate η of full-batch gradient descent", numberArg(0))
    .requiredOption("--steps <n>", "number of steps", intArg(1))
    .addOption(new Option("--loss <loss>", "loss").choices(DYNAMICS_LOSSES).default("ce"))
    .addOption(
      new Option("--schedule <s>", "learning-rate schedule (linear: decay to 0 over --steps, as entk finetune)")
        .choices(["linear", "constant"])
        .default("linear"),
    )
    .option("--formula <name>", "kernel formula (sgd: the eNTK gradient descent follows)", "sgd")
    .option("--every <n>", "report every n steps (default steps/50; with --compare, the run's logged steps)", intArg(1))
    .option("--compare <ft-dir>", "fine-tuning output directory with logits/step-<t>.<split>.npy")
    .requiredOption("--out <dir>", "output directory")
    .option("--json", "print the summary as JSON")
    .action(async (o: DynamicsCliOpts) => {
      const s = await runDynamics({
        kernels: o.kernels,
        formula: o.formula,
        lr: o.lr,
        steps: o.steps,
        loss: o.loss,
        schedule: o.schedule,
        every: o.every,
        compare: o.compare,
        out: o.out,
      });
      process.stdout.write(`${o.json ? JSON.stringify(s) : formatDynamicsSummary(s)}\n`);
    });
}
