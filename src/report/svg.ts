/** Hand-written SVG charts (no dependency). */

export interface BarSeries {
  label: string;
  /** One value per category, in [0, 100]; undefined = no bar. */
  values: (number | undefined)[];
  errors?: (number | undefined)[];
  /** Reference values drawn as a short black tick over the bar (e.g. the paper's numbers). */
  markers?: (number | undefined)[];
}

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac"];

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string,
  );
}

const f1 = (x: number) => Number(x.toFixed(1));

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
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`,
  ];
  for (let t = 0; t <= 100; t += 20) {
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${f1(y(t))}" y2="${f1(y(t))}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${f1(y(t)) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  out.push(
    `<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`,
  );
  categories.forEach((cat, ci) => {
    const x0 = left + ci * groupW + gap / 2;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined) return;
      const x = x0 + si * barW;
      const color = PALETTE[si % PALETTE.length];
      out.push(
        `<rect class="bar" x="${f1(x)}" y="${f1(y(v))}" width="${barW - 2}" height="${f1(y(0) - y(v))}" fill="${color}"><title>${escapeXml(`${s.label} · ${cat}: ${v.toFixed(1)}`)}</title></rect>`,
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
      `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${PALETTE[si % PALETTE.length]}"/>`,
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
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
