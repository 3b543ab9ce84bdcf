import { describe, expect, it } from "vitest";
import { serialized } from "../../src/util/serial.ts";

describe("serialized", () => {
  it("runs calls one after another in call order, a failure rejecting only its own call", async () => {
    const log: string[] = [];
    const tick = () => new Promise((r) => setTimeout(r, 5));
    const f = serialized(async (name: string, fail = false) => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    });
    const results = await Promise.allSettled([f("a"), f("b", true), f("c")]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });
});
