import { describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/kernels/gc.ts";

const MiB = 2 ** 20;
const external = () => process.memoryUsage().arrayBuffers;
const tick = () => new Promise((r) => setImmediate(r));

describe("collectGarbage", () => {
  it("releases a dropped long-lived buffer that V8 would otherwise keep", async () => {
    await collectGarbage();
    const before = external();
    const holder: { a?: Float32Array } = { a: new Float32Array(16 * MiB).fill(1) };
    // Survives a collection, as an eval block's factors do, so it lives in the old generation.
    await collectGarbage();
    expect(external() - before).toBeGreaterThanOrEqual(60 * MiB);
    holder.a = undefined;
    await tick();
    // Dropped but still resident: minor collections do not look at old objects.
    expect(external() - before).toBeGreaterThanOrEqual(60 * MiB);
    await collectGarbage();
    expect(external() - before).toBeLessThan(8 * MiB);
  });
});
