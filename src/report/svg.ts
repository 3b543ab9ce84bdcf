/** The report's grouped bar chart (hand-written SVG on the primitives of src/util/svg.ts). */
import { close, color, escapeXml, f1, frame, yAxisTitle } from "../util/svg.ts";

export interface BarSeries {
  label: string;
  /** One value per category, in [0, 100]; undefined = no bar. */
  values: (number | undefined)[];
  errors?: (number | undefined)[];
  /** Reference values drawn as a short black tick over the bar (e.g. the paper's numbers). */
  markers?: (number | undefined)[];
}

/** A grouped bar chart: one group per category, one bar per series, y from 0 to 100 with error bars. */
export function groupedBarChart(opts: {
  title: string;
  yLabel: string;
  categories: string[];
  series: BarSeries[];
}): string {
  const { categories, series } = opts;
  const barW = 14;
  const gap = 18;
  const groupW = Math.max(series.length * barW, 30) + gap;
  const left = 56;
  const top = 40;
  const plotH = 240;
  const legendW = 190;
  const plotW = Math.max(categories.length * groupW, 120);
  const width = left + plotW + 16 + legendW;
  const height = top + plotH + 36;
  const y = (v: number) => top + plotH - (Math.min(Math.max(v, 0), 100) / 100) * plotH;
  const out = frame(opts.title, width, height, left);
  for (let t = 0; t <= 100; t += 20) {
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${f1(y(t))}" y2="${f1(y(t))}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${f1(y(t)) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  out.push(yAxisTitle(opts.yLabel, top + plotH / 2));
  categories.forEach((cat, ci) => {
    const x0 = left + ci * groupW + gap / 2;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined) return;
      const x = x0 + si * barW;
      const c = color(si);
      out.push(
        `<rect class="bar" x="${f1(x)}" y="${f1(y(v))}" width="${barW - 2}" height="${f1(y(0) - y(v))}" fill="${c}"><title>${escapeXml(`${s.label} · ${cat}: ${v.toFixed(1)}`)}</title></rect>`,
      );
      const e = s.errors?.[ci];
      if (e !== undefined && e > 0) {
        const cx = f1(x + (barW - 2) / 2);
        out.push(`<line x1="${cx}" x2="${cx}" y1="${f1(y(v + e))}" y2="${f1(y(v - e))}" stroke="#333"/>`);
      }
      const m = s.markers?.[ci];
      if (m !== undefined)
        out.push(
          `<line class="marker" x1="${f1(x - 1)}" x2="${f1(x + barW - 1)}" y1="${f1(y(m))}" y2="${f1(y(m))}" stroke="black" stroke-width="2"/>`,
        );
    });
    out.push(
      `<text x="${f1(x0 + (series.length * barW) / 2)}" y="${top + plotH + 16}" text-anchor="middle">${escapeXml(cat)}</text>`,
    );
  });
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  const lx = left + plotW + 16;
  series.forEach((s, si) => {
    const ly = top + si * 18;
    out.push(
      `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${color(si)}"/>`,
      `<text x="${lx + 18}" y="${ly + 10}">${escapeXml(s.label)}</text>`,
    );
  });
  if (series.some((s) => s.markers?.some((m) => m !== undefined))) {
    const ly = top + series.length * 18 + 6;
    out.push(
      `<line x1="${lx}" x2="${lx + 12}" y1="${ly + 6}" y2="${ly + 6}" stroke="black" stroke-width="2"/>`,
      `<text x="${lx + 18}" y="${ly + 10}">paper</text>`,
    );
  }
  return close(out);
}
