import cliProgress from "cli-progress";

export interface Progress {
  /** Advance by n; `note` (e.g. "loss 3.21") is shown after the rate until the next tick. */
  tick(n?: number, note?: string): void;
  stop(): void;
}

/**
 * A progress bar with rate and ETA on stderr (so stdout stays clean for results). Silent when `quiet` or when
 * stderr is not a terminal and ENTK_PROGRESS is not set, so logs and CI output stay readable.
 */
export function progressBar(label: string, total: number, opts: { quiet?: boolean; unit?: string } = {}): Progress {
  const show = !opts.quiet && (process.stderr.isTTY || process.env.ENTK_PROGRESS === "1");
  if (!show) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(14)} {bar} {value}/{total} ${opts.unit ?? "it"} | {rate}/s{note} | ETA {eta_formatted}`,
      stream: process.stderr,
      // cli-progress draws nothing off a terminal unless told to; then it prints a line every 2 s instead.
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
      etaBuffer: 20,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = Date.now();
  let done = 0;
  bar.start(total, 0, { rate: "0.0", note: "" });
  return {
    tick(n = 1, note?: string) {
      done += n;
      const rate = (done / Math.max((Date.now() - start) / 1000, 1e-3)).toFixed(1);
      bar.update(done, { rate, note: note ? ` | ${note}` : "" });
    },
    stop() {
      bar.stop();
    },
  };
}
