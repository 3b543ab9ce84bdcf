/** Line charts for the analyses (hand-written SVG like svg.ts): y over x per series, solid or dashed. */

import { escapeXml } from "./svg.ts";
import { frame } from "./svg-plots.ts";

export interface LineSeries {
  label: string;
  x: number[];
  y: number[];
  dashed?: boolean;
  /** Index into the palette (series that belong together share a color). */
  color?: number;
}

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"];
const f1 = (x: number) => Number(x.toFixed(1));

/** Lines over [xMin, xMax] × [yMin, yMax] (default: the data's range, y from 0) with a legend on the right. */
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
  const xMax = Math.max(xMin + 1e-12, ...xs);
  const yMin = opts.yMin ?? Math.min(0, ...ys);
  const yMax = opts.yMax ?? Math.max(yMin + 1e-12, ...ys);
  const left = 60;
  const top = 36;
  const w = 420;
  const h = 260;
  const out = frame(opts.title, left + w + 220, top + h + 48);
  const X = (v: number) => left + ((v - xMin) / (xMax - xMin)) * w;
  const Y = (v: number) => top + h - ((Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * h;
  for (let t = 0; t <= 4; t++) {
    const xv = xMin + ((xMax - xMin) * t) / 4;
    const yv = yMin + ((yMax - yMin) * t) / 4;
    out.push(
      `<line x1="${f1(X(xv))}" x2="${f1(X(xv))}" y1="${top}" y2="${top + h}" stroke="#eee"/>`,
      `<line x1="${left}" x2="${left + w}" y1="${f1(Y(yv))}" y2="${f1(Y(yv))}" stroke="#eee"/>`,
      `<text x="${f1(X(xv))}" y="${top + h + 14}" text-anchor="middle">${Number(xv.toPrecision(3))}</text>`,
      `<text x="${left - 6}" y="${f1(Y(yv)) + 4}" text-anchor="end">${Number(yv.toPrecision(3))}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`,
    `<text x="${left + w / 2}" y="${top + h + 32}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    `<text transform="translate(14 ${top + h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`,
  );
  opts.series.forEach((s, si) => {
    const color = PALETTE[(s.color ?? si) % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : "";
    const pts = s.x.map((x, i) => `${f1(X(x))},${f1(Y(s.y[i]))}`).join(" ");
    out.push(
      `<polyline class="series" points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dash}><title>${escapeXml(s.label)}</title></polyline>`,
    );
    const ly = top + si * 18;
    out.push(
      `<line x1="${left + w + 14}" x2="${left + w + 38}" y1="${ly + 6}" y2="${ly + 6}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${left + w + 44}" y="${ly + 10}">${escapeXml(s.label)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
