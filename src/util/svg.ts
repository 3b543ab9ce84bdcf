/**
 * Primitives of entk's hand-written SVG charts (no dependency): escaping, the palette, the page frame, and the
 * framed plot area with gridlines, tick labels and axis titles that every x–y chart shares (src/util/plots.ts).
 */

export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#76b7b2",
  "#edc948",
  "#b07aa1",
  "#9c755f",
  "#bab0ac",
];

/** The palette's color for series `i` (cycling). */
export const color = (i: number): string => PALETTE[i % PALETTE.length];

/** A coordinate rounded to 0.1 px (shorter files, stable output). */
export const f1 = (x: number): number => Number(x.toFixed(1));

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string,
  );
}

/** The opening of an SVG document of `width` × `height`: white background and a bold title at the top left. */
export function frame(title: string, width: number, height: number, titleX = 12): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${titleX}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

/** Closes a document opened by {@link frame}. */
export const close = (out: string[]): string => `${[...out, "</svg>"].join("\n")}\n`;

/** A plot area at (left, top) of w × h pixels showing [xMin, xMax] × [yMin, yMax]. */
export interface Area {
  left: number;
  top: number;
  w: number;
  h: number;
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/** Data → pixel maps of an area; values outside the range are clamped to its border. */
export function scales(a: Area): { X: (v: number) => number; Y: (v: number) => number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  return {
    X: (v) => a.left + ((clamp(v, a.xMin, a.xMax) - a.xMin) / (a.xMax - a.xMin)) * a.w,
    Y: (v) => a.top + a.h - ((clamp(v, a.yMin, a.yMax) - a.yMin) / (a.yMax - a.yMin)) * a.h,
  };
}

/** Gridlines and tick labels at `ticks` + 1 evenly spaced values per axis, the area's border and both axis titles. */
export function axes(a: Area, xLabel: string, yLabel: string, ticks = 4): string[] {
  const { X, Y } = scales(a);
  const out: string[] = [];
  for (let t = 0; t <= ticks; t++) {
    const xv = a.xMin + ((a.xMax - a.xMin) * t) / ticks;
    const yv = a.yMin + ((a.yMax - a.yMin) * t) / ticks;
    out.push(
      `<line x1="${f1(X(xv))}" x2="${f1(X(xv))}" y1="${a.top}" y2="${a.top + a.h}" stroke="#eee"/>`,
      `<line x1="${a.left}" x2="${a.left + a.w}" y1="${f1(Y(yv))}" y2="${f1(Y(yv))}" stroke="#eee"/>`,
      `<text x="${f1(X(xv))}" y="${a.top + a.h + 14}" text-anchor="middle">${Number(xv.toPrecision(3))}</text>`,
      `<text x="${a.left - 6}" y="${f1(Y(yv)) + 4}" text-anchor="end">${Number(yv.toPrecision(3))}</text>`,
    );
  }
  out.push(
    `<rect x="${a.left}" y="${a.top}" width="${a.w}" height="${a.h}" fill="none" stroke="#333"/>`,
    `<text x="${a.left + a.w / 2}" y="${a.top + a.h + 32}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    yAxisTitle(yLabel, a.top + a.h / 2),
  );
  return out;
}

/** A y-axis title written bottom to top along the left edge, centered at height `y`. */
export const yAxisTitle = (label: string, y: number): string =>
  `<text transform="translate(14 ${y}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`;
