import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type FinetuneResult, finetune } from "../../src/training/trainer.ts";
import { toyRunOptions } from "./toy-run.ts";

const tmp = () => mkdtemp(join(tmpdir(), "entk-resume-"));
const CHILD = fileURLToPath(new URL("./toy-run.ts", import.meta.url));

/** Everything a run leaves behind, minus its own output paths. */
function outcome(dir: string, r: FinetuneResult, params: Map<string, Float32Array>) {
  const best = Object.fromEntries(
    readdirSync(join(dir, "best")).map((f) => [f, readFileSync(join(dir, "best", f)).toString("base64")]),
  );
  const { checkpointDir, curvePath, ...rest } = r;
  return {
    result: rest,
    curve: readFileSync(join(dir, "curve.jsonl"), "utf8"),
    best,
    params: [...params].map(([k, a]) => [k, Buffer.from(a.buffer).toString("base64")]),
    leftovers: readdirSync(dir).sort(),
  };
}

async function uninterrupted() {
  const dir = await tmp();
  const o = toyRunOptions(dir);
  const r = await finetune(o);
  return outcome(dir, r, o.model.params);
}

describe("resume", () => {
  it("an interrupted run resumed from its snapshot ends identical to an uninterrupted one", async () => {
    const want = await uninterrupted();
    expect(want.leftovers).toEqual(["best", "curve.jsonl", "result.json"]);
    for (const stopAt of [7, 13, 21]) {
      const dir = await tmp();
      const stop = toyRunOptions(dir, {
        onStep: (s) => {
          if (s === stopAt) throw new Error("interrupted");
        },
      });
      await expect(finetune(stop)).rejects.toThrow("interrupted");
      expect(existsSync(join(dir, "state.snap"))).toBe(true);
      const o = toyRunOptions(dir); // a fresh process would build a fresh model: parameters come from the snapshot
      const r = await finetune(o);
      expect(outcome(dir, r, o.model.params)).toEqual(want);
      // The snapshot after step 5k reruns steps 5k+1..stopAt, so the model sees fewer calls than a full run.
      expect((o.model as unknown as { calls: number }).calls).toBe(23 - 5 * Math.floor(stopAt / 5));
    }
  });

  it("an aborted run snapshots the step it reached and resumes from there", async () => {
    const want = await uninterrupted();
    const dir = await tmp();
    const ac = new AbortController();
    const o = toyRunOptions(dir, {
      signal: ac.signal,
      onStep: (s) => {
        if (s === 8) ac.abort();
      },
    });
    await expect(finetune(o)).rejects.toThrow(/aborted after step 8 of 23; .*state\.snap holds it/);
    const again = toyRunOptions(dir);
    const r = await finetune(again);
    expect((again.model as unknown as { calls: number }).calls).toBe(23 - 8);
    expect(outcome(dir, r, again.model.params)).toEqual(want);
  });

  it("snapshots every N steps when asked, and refuses a snapshot from another configuration", async () => {
    const dir = await tmp();
    const o = toyRunOptions(dir, {
      snapshotEvery: 3,
      onStep: (s) => {
        if (s === 4) throw new Error("stop");
      },
    });
    await expect(finetune(o)).rejects.toThrow("stop");
    const curveBefore = readFileSync(join(dir, "curve.jsonl"));
    writeFileSync(join(dir, "curve.jsonl"), "");
    await expect(finetune(toyRunOptions(dir, { snapshotEvery: 3 }))).rejects.toThrow(/curve\.jsonl: shorter than/);
    writeFileSync(join(dir, "curve.jsonl"), curveBefore);
    await expect(finetune(toyRunOptions(dir, { lr: 0.1, snapshotEvery: 3 }))).rejects.toThrow(
      /state\.snap: snapshot is from a different configuration \(lr: 0\.05 → 0\.1\)/,
    );
    const again = toyRunOptions(dir, { snapshotEvery: 3 });
    await finetune(again);
    expect((again.model as unknown as { calls: number }).calls).toBe(23 - 3);
  });

  it("a finished run is not redone; another configuration is refused; fresh starts over", async () => {
    const dir = await tmp();
    const r1 = await finetune(toyRunOptions(dir));
    await expect(finetune(toyRunOptions(dir, { steps: 24 }))).rejects.toThrow(
      /result\.json: .* holds a finished run with another configuration \(steps: 23 → 24\)/,
    );
    const o2 = toyRunOptions(dir);
    expect(await finetune(o2)).toEqual(r1);
    expect((o2.model as unknown as { calls: number }).calls).toBe(0);
    const o3 = toyRunOptions(dir, { fresh: true });
    expect(await finetune(o3)).toEqual(r1);
    expect((o3.model as unknown as { calls: number }).calls).toBe(23);
  });

  it("survives a SIGKILL of the training process", async () => {
    const want = await uninterrupted();
    const dir = await tmp();
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, "60"], { stdio: "ignore" });
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    // Kill it once a snapshot exists and it is past it (a few curve lines after step 10's snapshot).
    const deadline = Date.now() + 60_000;
    const curveLines = () =>
      existsSync(join(dir, "curve.jsonl")) ? readFileSync(join(dir, "curve.jsonl"), "utf8").split("\n").length - 1 : 0;
    while (Date.now() < deadline && !(existsSync(join(dir, "state.snap")) && curveLines() >= 12))
      await new Promise((r) => setTimeout(r, 20));
    expect(curveLines()).toBeGreaterThanOrEqual(12);
    expect(curveLines()).toBeLessThan(23);
    child.kill("SIGKILL");
    expect(await exited).toBe(null); // killed, not finished
    expect(existsSync(join(dir, "result.json"))).toBe(false);
    const o = toyRunOptions(dir);
    const r = await finetune(o);
    expect(outcome(dir, r, o.model.params)).toEqual(want);
  });
});
