import { describe, expect, it } from "vitest";
import { heatmap, lineChart, scatterPlot, shade } from "../../src/util/plots.ts";
import { axes, escapeXml, scales } from "../../src/util/svg.ts";

const attrs = (svg: string, tag: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<${tag} class="${cls}"([^>]*)>`, "g"))].map((m) => m[1]);

describe("svg primitives", () => {
  it("scales map the area's corners to its pixel corners and clamp outside values", () => {
    const a = { left: 10, top: 20, w: 100, h: 50, xMin: -1, xMax: 3, yMin: 2, yMax: 4 };
    const { X, Y } = scales(a);
    expect([X(-1), X(3), X(1)]).toEqual([10, 110, 60]);
    expect([Y(2), Y(4), Y(3)]).toEqual([70, 20, 45]);
    expect([X(-5), X(9), Y(0), Y(10)]).toEqual([10, 110, 70, 20]);
  });

  it("axes label evenly spaced ticks from min to max on both axes", () => {
    const a = { left: 50, top: 30, w: 200, h: 100, xMin: 0, xMax: 10, yMin: -1, yMax: 1 };
    const svg = axes(a, "x <a>", "y").join("\n");
    const labels = [...svg.matchAll(/text-anchor="(middle|end)">([^<]*)</g)].map((m) => m[2]);
    expect(labels).toEqual(["0", "-1", "2.5", "-0.5", "5", "0", "7.5", "0.5", "10", "1", "x &lt;a&gt;", "y"]);
    expect(escapeXml(`a<b>&"'`)).toBe("a&lt;b&gt;&amp;&quot;&apos;");
  });
});

describe("charts", () => {
  it("scatterPlot puts each point where its value is on [0, xMax] × [0, yMax]", () => {
    const svg = scatterPlot({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      xMax: 1,
      yMax: 2,
      series: [
        { label: "a", points: [{ x: 0.5, y: 2 }] },
        { label: "b", points: [{ x: 0, y: 0 }] },
      ],
    });
    // Area: left 56, top 36, 300 × 300.
    expect(attrs(svg, "circle", "point").map((s) => s.match(/cx="([^"]+)" cy="([^"]+)"/)?.slice(1))).toEqual([
      ["206", "36"],
      ["56", "336"],
    ]);
  });

  it("lineChart draws the series over the data range from 0", () => {
    const svg = lineChart({
      title: "t",
      xLabel: "step",
      yLabel: "loss",
      series: [
        { label: "a", x: [0, 5, 10], y: [4, 2, 1] },
        { label: "b", x: [0, 10], y: [0, 4], dashed: true },
      ],
    });
    // Area: left 60, top 36, 420 × 260, x over [0, 10], y over [0, 4].
    const pts = attrs(svg, "polyline", "series").map((s) => s.match(/points="([^"]+)"/)?.[1]);
    expect(pts).toEqual(["60,36 270,166 480,231", "60,296 480,36"]);
    expect(attrs(svg, "polyline", "series")[1]).toContain('stroke-dasharray="5 3"');
  });

  it("heatmap has one cell per value, white at the minimum and blue at the maximum", () => {
    const values = [
      [0, 1, 2],
      [2, 1, 0],
    ];
    const svg = heatmap({ title: "ξ", xLabel: "a", yLabel: "b", xTicks: [0, 1, 2], yTicks: [0, 1], values });
    const fills = attrs(svg, "rect", "cell").map((s) => s.match(/fill="([^"]+)"/)?.[1]);
    expect(fills).toEqual(values.flat().map((v) => shade(v, 0, 2)));
    expect(fills[0]).toBe("rgb(255,255,255)");
    expect(fills[2]).toBe("rgb(33,102,172)");
    expect(fills[1]).toBe(`rgb(${Math.round(255 - 222 / 2)},${Math.round(255 - 153 / 2)},${Math.round(255 - 83 / 2)})`);
  });
});
