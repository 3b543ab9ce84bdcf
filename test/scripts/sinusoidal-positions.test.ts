import { describe, expect, it } from "vitest";
import { sinusoidalRows } from "../../scripts/sinusoidal-positions.ts";

// docs/pretraining.md §8: the rows have the stated norm, and position p + k is the same linear map (a rotation in
// each frequency's plane) of position p for every p — checked against the angle-addition formulas.
describe("sinusoidalRows", () => {
  const P = 40;
  const H = 16;
  const rows = sinusoidalRows(P, H, 0.4);
  it("leaves rows 0 and 1 zero and gives every position row the requested norm", () => {
    for (let h = 0; h < 2 * H; h++) expect(rows[h]).toBe(0);
    for (let r = 2; r < P; r++) {
      let n2 = 0;
      for (let h = 0; h < H; h++) n2 += rows[r * H + h] ** 2;
      expect(Math.sqrt(n2)).toBeCloseTo(0.4, 6);
    }
  });
  it("maps position p to p + k by one rotation per frequency, the same for every p", () => {
    const k = 3;
    for (let i = 0; i < H / 2; i++) {
      const phi = k / 10000 ** ((2 * i) / H);
      const [c, s] = [Math.cos(phi), Math.sin(phi)];
      for (let r = 2; r + k < P; r++) {
        const [x, y] = [rows[r * H + 2 * i], rows[r * H + 2 * i + 1]];
        // sin(a + φ) = sin a cos φ + cos a sin φ; cos(a + φ) = cos a cos φ − sin a sin φ
        expect(rows[(r + k) * H + 2 * i]).toBeCloseTo(x * c + y * s, 6);
        expect(rows[(r + k) * H + 2 * i + 1]).toBeCloseTo(y * c - x * s, 6);
      }
    }
    expect(rows[2 * H]).toBe(0); // position 0: sin 0
  });
});
