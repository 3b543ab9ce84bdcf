/**
 * x–y charts in hand-written SVG (no dependency), built on the primitives of ./svg.ts: scatter plots, line charts
 * and heatmaps. Used by the analyses (src/analyses) and scripts; the report's bar chart lives in src/report/svg.ts.
 */
import { type Area, axes, close, color, escapeXml, f1, frame, scales, yAxisTitle } from "./svg.ts";

export interface ScatterSeries {
  label: string;
  points: { x: number; y: number; tip?: string }[];
}

/** A scatter plot over [0, xMax] × [0, yMax] with a legend; points clamp to the axes. */
export function scatterPlot(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ScatterSeries[];
  xMax?: number;
  yMax?: number;
  /** Join each series' points in order with a line (a curve). */
  connect?: boolean;
}): string {
  const all = opts.series.flatMap((s) => s.points);
  const size = 300;
  const a: Area = {
    left: 56,
    top: 36,
    w: size,
    h: size,
    xMin: 0,
    xMax: opts.xMax ?? Math.max(1e-12, ...all.map((p) => p.x)),
    yMin: 0,
    yMax: opts.yMax ?? Math.max(1e-12, ...all.map((p) => p.y)),
  };
  const { X, Y } = scales(a);
  const out = [...frame(opts.title, a.left + size + 200, a.top + size + 44), ...axes(a, opts.xLabel, opts.yLabel)];
  opts.series.forEach((s, si) => {
    const c = color(si);
    if (opts.connect && s.points.length > 1)
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${s.points.map((p) => `${f1(X(p.x))},${f1(Y(p.y))}`).join(" ")}"/>`,
      );
    for (const p of s.points)
      out.push(
        `<circle class="point" cx="${f1(X(p.x))}" cy="${f1(Y(p.y))}" r="3.5" fill="${c}" fill-opacity="0.75"><title>${escapeXml(p.tip ?? `${s.label}: (${p.x}, ${p.y})`)}</title></circle>`,
      );
    const ly = a.top + si * 18;
    out.push(
      `<circle cx="${a.left + size + 22}" cy="${ly + 6}" r="4" fill="${c}"/>`,
      `<text x="${a.left + size + 32}" y="${ly + 10}">${escapeXml(s.label)}</text>`,
    );
  });
  return close(out);
}

export interface LineSeries {
  label: string;
  x: number[];
  y: number[];
  dashed?: boolean;
  /** Index into the palette (series that belong together share a color). */
  color?: number;
}

/** Lines over [xMin, xMax] × [yMin, yMax] (default: the data's range, both from 0) with a legend on the right. */
export function lineChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  yMin?: number;
  yMax?: number;
}): string {
  const xs = opts.series.flatMap((s) => s.x);
  const ys = opts.series.flatMap((s) => s.y).filter(Number.isFinite);
  const xMin = Math.min(0, ...xs);
  const yMin = opts.yMin ?? Math.min(0, ...ys);
  const a: Area = {
    left: 60,
    top: 36,
    w: 420,
    h: 260,
    xMin,
    xMax: Math.max(xMin + 1e-12, ...xs),
    yMin,
    yMax: opts.yMax ?? Math.max(yMin + 1e-12, ...ys),
  };
  const { X, Y } = scales(a);
  const out = [...frame(opts.title, a.left + a.w + 220, a.top + a.h + 48), ...axes(a, opts.xLabel, opts.yLabel)];
  opts.series.forEach((s, si) => {
    const c = color(s.color ?? si);
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : "";
    const pts = s.x.map((x, i) => `${f1(X(x))},${f1(Y(s.y[i]))}`).join(" ");
    out.push(
      `<polyline class="series" points="${pts}" fill="none" stroke="${c}" stroke-width="2"${dash}><title>${escapeXml(s.label)}</title></polyline>`,
    );
    const ly = a.top + si * 18;
    const lx = a.left + a.w;
    out.push(
      `<line x1="${lx + 14}" x2="${lx + 38}" y1="${ly + 6}" y2="${ly + 6}" stroke="${c}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 44}" y="${ly + 10}">${escapeXml(s.label)}</text>`,
    );
  });
  return close(out);
}

/** The heatmap's color of `v` on a white (lo) → blue (hi) scale, clamped. */
export function shade(v: number, lo: number, hi: number): string {
  const t = hi > lo ? Math.min(Math.max((v - lo) / (hi - lo), 0), 1) : 0;
  const c = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${c(255, 33)},${c(255, 102)},${c(255, 172)})`;
}

/** A heatmap of `values[row][col]` (row 0 at the top) on a white → blue scale from `min` to `max`. */
export function heatmap(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  xTicks: number[];
  yTicks: number[];
  values: number[][];
  min?: number;
  max?: number;
}): string {
  const rows = opts.values.length;
  const cols = rows ? opts.values[0].length : 0;
  const flat = opts.values.flat();
  const lo = opts.min ?? Math.min(...flat);
  const hi = opts.max ?? Math.max(...flat);
  const cell = Math.max(8, Math.min(28, Math.floor(320 / Math.max(rows, cols, 1))));
  const left = 64;
  const top = 36;
  const out = frame(opts.title, left + cols * cell + 120, top + rows * cell + 48);
  opts.values.forEach((row, r) => {
    row.forEach((v, c) => {
      const tip = `${opts.yLabel} ${opts.yTicks[r]}, ${opts.xLabel} ${opts.xTicks[c]}: ${Number(v.toPrecision(4))}`;
      out.push(
        `<rect class="cell" x="${left + c * cell}" y="${top + r * cell}" width="${cell}" height="${cell}" fill="${shade(v, lo, hi)}"><title>${escapeXml(tip)}</title></rect>`,
      );
    });
  });
  const every = Math.max(1, Math.ceil(Math.max(rows, cols) / 7));
  opts.xTicks.forEach((t, c) => {
    if (c % every === 0 || c === cols - 1)
      out.push(
        `<text x="${left + c * cell + cell / 2}" y="${top + rows * cell + 14}" text-anchor="middle">${Number(t.toPrecision(3))}</text>`,
      );
  });
  opts.yTicks.forEach((t, r) => {
    if (r % every === 0 || r === rows - 1)
      out.push(
        `<text x="${left - 6}" y="${top + r * cell + cell / 2 + 4}" text-anchor="end">${Number(t.toPrecision(3))}</text>`,
      );
  });
  out.push(
    `<text x="${left + (cols * cell) / 2}" y="${top + rows * cell + 32}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    yAxisTitle(opts.yLabel, top + (rows * cell) / 2),
    `<text x="${left + cols * cell + 12}" y="${top + 12}">${Number(lo.toPrecision(3))} (white)</text>`,
    `<text x="${left + cols * cell + 12}" y="${top + 28}">${Number(hi.toPrecision(3))} (blue)</text>`,
  );
  return close(out);
}
