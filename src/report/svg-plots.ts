/** Scatter plots and heatmaps for the analyses (hand-written SVG like svg.ts, no dependency). */
import { escapeXml } from "./svg.ts";

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];
const f1 = (x: number) => Number(x.toFixed(1));

export function frame(title: string, width: number, height: number): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="12" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

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
  const xMax = opts.xMax ?? Math.max(1e-12, ...all.map((p) => p.x));
  const yMax = opts.yMax ?? Math.max(1e-12, ...all.map((p) => p.y));
  const left = 56;
  const top = 36;
  const size = 300;
  const width = left + size + 200;
  const height = top + size + 44;
  const X = (v: number) => left + (Math.min(Math.max(v, 0), xMax) / xMax) * size;
  const Y = (v: number) => top + size - (Math.min(Math.max(v, 0), yMax) / yMax) * size;
  const out = frame(opts.title, width, height);
  for (let t = 0; t <= 4; t++) {
    const xv = (xMax * t) / 4;
    const yv = (yMax * t) / 4;
    out.push(
      `<line x1="${f1(X(xv))}" x2="${f1(X(xv))}" y1="${top}" y2="${top + size}" stroke="#eee"/>`,
      `<line x1="${left}" x2="${left + size}" y1="${f1(Y(yv))}" y2="${f1(Y(yv))}" stroke="#eee"/>`,
      `<text x="${f1(X(xv))}" y="${top + size + 14}" text-anchor="middle">${Number(xv.toPrecision(3))}</text>`,
      `<text x="${left - 6}" y="${f1(Y(yv)) + 4}" text-anchor="end">${Number(yv.toPrecision(3))}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#333"/>`,
    `<text x="${left + size / 2}" y="${top + size + 32}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    `<text transform="translate(14 ${top + size / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`,
  );
  opts.series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length];
    if (opts.connect && s.points.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${s.points.map((p) => `${f1(X(p.x))},${f1(Y(p.y))}`).join(" ")}"/>`,
      );
    for (const p of s.points)
      out.push(
        `<circle class="point" cx="${f1(X(p.x))}" cy="${f1(Y(p.y))}" r="3.5" fill="${color}" fill-opacity="0.75"><title>${escapeXml(p.tip ?? `${s.label}: (${p.x}, ${p.y})`)}</title></circle>`,
      );
    const ly = top + si * 18;
    out.push(
      `<circle cx="${left + size + 22}" cy="${ly + 6}" r="4" fill="${color}"/>`,
      `<text x="${left + size + 32}" y="${ly + 10}">${escapeXml(s.label)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
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
  const width = left + cols * cell + 120;
  const height = top + rows * cell + 48;
  const out = frame(opts.title, width, height);
  const shade = (v: number) => {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0;
    const c = (a: number, b: number) => Math.round(a + (b - a) * Math.min(Math.max(t, 0), 1));
    return `rgb(${c(255, 33)},${c(255, 102)},${c(255, 172)})`;
  };
  opts.values.forEach((row, r) => {
    row.forEach((v, c) => {
      const tip = `${opts.yLabel} ${opts.yTicks[r]}, ${opts.xLabel} ${opts.xTicks[c]}: ${Number(v.toPrecision(4))}`;
      out.push(
        `<rect class="cell" x="${left + c * cell}" y="${top + r * cell}" width="${cell}" height="${cell}" fill="${shade(v)}"><title>${escapeXml(tip)}</title></rect>`,
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
    `<text transform="translate(14 ${top + (rows * cell) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`,
    `<text x="${left + cols * cell + 12}" y="${top + 12}">${Number(lo.toPrecision(3))} (white)</text>`,
    `<text x="${left + cols * cell + 12}" y="${top + 28}">${Number(hi.toPrecision(3))} (blue)</text>`,
  );
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
