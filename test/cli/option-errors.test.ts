import { describe, expect, it } from "vitest";
import { cliMessage, flagName, flagParser } from "../../src/cli/option-errors.ts";
import { parseBytes } from "../../src/kernels/plan.ts";
import { checkSolveOptions } from "../../src/solvers/solve.ts";
import { OptionError } from "../../src/util/errors.ts";

describe("option errors: library names in, CLI flags out", () => {
  it("maps library option names to flags", () => {
    expect(flagName("memory")).toBe("--memory");
    expect(flagName("selectOn")).toBe("--select-on");
    expect(flagName("f0Scaling")).toBe("--f0-scaling");
    expect(flagName("adjustForInit")).toBe("--adjust-for-init");
    expect(flagName("gammaGrid")).toBe("--gamma");
    expect(flagName("tokenizerDir")).toBe("--tokenizer");
    expect(flagName("ENTK_CACHE_MAX")).toBe("ENTK_CACHE_MAX");
  });

  it("renders one message in library terms and in flags", () => {
    let err: unknown;
    try {
      checkSolveOptions({ formula: "sgd", solver: "lstsq", regGrid: [0, 1], gammaGrid: [1] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptionError);
    expect((err as Error).message).toBe("gammaGrid and lambdaGrid apply to the asym solver only");
    expect(cliMessage(err)).toBe("--gamma and --lambda apply to the asym solver only");
    expect(cliMessage(new Error("plain"))).toBe("plain");
  });

  it("flag parsers report what was expected, without the option's name (commander prints the flag)", () => {
    expect(() => flagParser(parseBytes)("lots")).toThrow(/^expected a size like 8GB or 512MB, got "lots"$/);
    expect(flagParser(parseBytes)("2k")).toBe(2048);
  });
});
