// Inline SVG charts for the run report (report.html): a line chart (accuracy per model, one line per series)
// and a grouped bar chart (judge health per iteration). Written by hand because the report must be one
// self-contained file that opens offline: a charting library would either need a browser runtime and a
// bundled script (Chart.js, Vega) or bring a DOM emulation to render server-side; the two chart kinds here
// need ~150 lines of string building. Every chart has a <title> and a role/aria-label, labelled axes and a
// legend; values are also printed as point labels, so nothing depends on hovering.

export interface Series {
  name: string;
  /** One value per category (null: no value there, the line breaks). */
  values: Array<number | null>;
}

export interface ChartOptions {
  title: string;
  /** Category labels along the x axis (M1, M2, … or iteration numbers). */
  categories: string[];
  series: Series[];
  yLabel: string;
  /** Upper end of the y axis (default: 1, for shares). */
  yMax?: number;
  /** Formats a value for point labels and ticks (default: percent). */
  format?: (v: number) => string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

interface Frame { x0: number; x1: number; y0: number; y1: number; yMax: number; w: number; h: number }

function frame(o: ChartOptions): Frame {
  const w = o.width ?? 640, h = o.height ?? 320;
  return { x0: 64, x1: w - 16, y0: h - 72, y1: 36, yMax: o.yMax ?? 1, w, h };
}

const yOf = (f: Frame, v: number) => f.y0 - (Math.max(0, Math.min(v, f.yMax)) / f.yMax) * (f.y0 - f.y1);

/** Axes, grid, ticks, title, axis label and legend shared by both chart kinds. */
function chrome(o: ChartOptions, f: Frame, kind: string): string[] {
  const fmt = o.format ?? pct;
  const out: string[] = [];
  out.push(`<title>${esc(o.title)}</title>`);
  out.push(`<text x="${f.w / 2}" y="20" text-anchor="middle" class="chart-title">${esc(o.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (f.yMax * i) / 4, y = yOf(f, v);
    out.push(`<line x1="${f.x0}" x2="${f.x1}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${f.x0 - 6}" y="${y + 4}" text-anchor="end" class="tick">${esc(fmt(v))}</text>`);
  }
  out.push(`<line x1="${f.x0}" x2="${f.x0}" y1="${f.y0}" y2="${f.y1}" stroke="#333"/>`);
  out.push(`<line x1="${f.x0}" x2="${f.x1}" y1="${f.y0}" y2="${f.y0}" stroke="#333"/>`);
  out.push(`<text transform="translate(14 ${(f.y0 + f.y1) / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${esc(o.yLabel)}</text>`);
  // legend below the axis labels
  let lx = f.x0;
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    out.push(`<g class="legend-item" data-kind="${kind}"><rect x="${lx}" y="${f.h - 22}" width="12" height="12" fill="${c}"/><text x="${lx + 16}" y="${f.h - 12}" class="legend">${esc(s.name)}</text></g>`);
    lx += 24 + 7.5 * s.name.length;
  });
  return out;
}

function svg(o: ChartOptions, f: Frame, body: string[], kind: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-kind="${kind}" role="img" aria-label="${esc(o.title)}" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}">${body.join('')}</svg>`;
}

/** Lines over categories, one per series, with a labelled point per value. */
export function lineChart(o: ChartOptions): string {
  const f = frame(o), fmt = o.format ?? pct;
  const n = Math.max(1, o.categories.length);
  const xOf = (i: number) => (n === 1 ? (f.x0 + f.x1) / 2 : f.x0 + 24 + (i * (f.x1 - f.x0 - 48)) / (n - 1));
  const out = chrome(o, f, 'line');
  o.categories.forEach((c, i) => out.push(`<text x="${xOf(i)}" y="${f.y0 + 18}" text-anchor="middle" class="tick">${esc(c)}</text>`));
  o.series.forEach((s, k) => {
    const col = COLORS[k % COLORS.length]!;
    let d = '', open = false;
    s.values.forEach((v, i) => {
      if (v === null) { open = false; return; }
      d += `${open ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(f, v).toFixed(1)}`;
      open = true;
    });
    out.push(`<path d="${d}" fill="none" stroke="${col}" stroke-width="2" class="series" data-series="${esc(s.name)}"/>`);
    s.values.forEach((v, i) => {
      if (v === null) return;
      out.push(`<circle cx="${xOf(i)}" cy="${yOf(f, v)}" r="4" fill="${col}" class="point" data-series="${esc(s.name)}"><title>${esc(`${s.name} ${o.categories[i]}: ${fmt(v)}`)}</title></circle>`);
      out.push(`<text x="${xOf(i)}" y="${yOf(f, v) - 8 - 10 * k}" text-anchor="middle" class="value" fill="${col}">${esc(fmt(v))}</text>`);
    });
  });
  return svg(o, f, out, 'line');
}

/** Bars grouped by category, one bar per series in each group. */
export function barChart(o: ChartOptions): string {
  const f = frame(o), fmt = o.format ?? pct;
  const n = Math.max(1, o.categories.length), m = Math.max(1, o.series.length);
  const gw = (f.x1 - f.x0) / n, bw = Math.min(36, (gw - 16) / m);
  const out = chrome(o, f, 'bar');
  o.categories.forEach((c, i) => out.push(`<text x="${f.x0 + gw * (i + 0.5)}" y="${f.y0 + 18}" text-anchor="middle" class="tick">${esc(c)}</text>`));
  o.series.forEach((s, k) => {
    const col = COLORS[k % COLORS.length]!;
    s.values.forEach((v, i) => {
      if (v === null) return;
      const x = f.x0 + gw * i + (gw - bw * m) / 2 + bw * k, y = yOf(f, v);
      out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(f.y0 - y).toFixed(1)}" fill="${col}" class="bar" data-series="${esc(s.name)}"><title>${esc(`${s.name} ${o.categories[i]}: ${fmt(v)}`)}</title></rect>`);
      out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value small">${esc(fmt(v))}</text>`);
    });
  });
  return svg(o, f, out, 'bar');
}

/** A placeholder panel saying why a chart has no data (never a made-up series). */
export function emptyChart(title: string, why: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" data-kind="empty" role="img" aria-label="${esc(title)}" width="640" height="120" viewBox="0 0 640 120"><title>${esc(title)}</title><text x="320" y="24" text-anchor="middle" class="chart-title">${esc(title)}</text><text x="320" y="70" text-anchor="middle" class="note">${esc(why)}</text></svg>`;
}
