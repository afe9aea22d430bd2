// Inline SVG charts for the run report (report.html): a line chart (accuracy per model, one line per series)
// and a grouped bar chart (judge health per iteration), both as SVG strings built in TypeScript.
// Written by hand because the report must be one self-contained file that opens offline with no script:
// a charting library would either need a browser runtime and a bundled script (Chart.js, Vega) or bring a
// DOM emulation to render server-side (D3 + jsdom), for two chart kinds that need ~200 lines of string
// building. Every chart has a <title>, role="img" and an aria-label, labelled axes and a legend; values are
// printed next to points and bars (and carried in data-value), so nothing depends on hovering.

export interface Series {
  name: string;
  /** One value per category (null: no value there; a line breaks, a bar is left out). */
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
  /** Dashed horizontal reference lines (e.g. 50%: no position bias). */
  refs?: Array<{ value: number; label: string }>;
  /** Formats a value for point labels and ticks (default: percent). */
  format?: (v: number) => string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
// Rough advance width of the 11px sans-serif legend text: only used to space legend items, so a generous
// estimate costs a little room and never overlaps.
const textWidth = (s: string, px = 11) => s.length * px * 0.6;

interface Frame { x0: number; x1: number; y0: number; y1: number; yMax: number; w: number; h: number; legendRows: number }

function legendLayout(o: ChartOptions, w: number): Array<{ x: number; row: number }> {
  const at: Array<{ x: number; row: number }> = [];
  let x = 16, row = 0;
  for (const s of o.series) {
    const need = 16 + textWidth(s.name) + 18;
    if (x + need > w - 8 && x > 16) { x = 16; row++; }
    at.push({ x, row });
    x += need;
  }
  return at;
}

function frame(o: ChartOptions): Frame {
  const w = o.width ?? 560;
  const legendRows = 1 + Math.max(0, ...legendLayout(o, w).map((l) => l.row));
  const h = (o.height ?? 300) + 16 * (legendRows - 1);
  return { x0: 64, x1: w - 16, y0: h - 40 - 16 * legendRows, y1: 40, yMax: o.yMax ?? 1, w, h, legendRows };
}

const yOf = (f: Frame, v: number) => f.y0 - (Math.max(0, Math.min(v, f.yMax)) / f.yMax) * (f.y0 - f.y1);

/** Axes, grid, ticks, title, axis label, reference lines and legend shared by both chart kinds. */
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
  const legend = legendLayout(o, f.w);
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!, { x, row } = legend[i]!;
    const y = f.h - 14 - 16 * (f.legendRows - 1 - row);
    out.push(`<g class="legend-item" data-kind="${kind}"><rect x="${x}" y="${y - 10}" width="12" height="12" fill="${c}"/><text x="${x + 16}" y="${y}" class="legend">${esc(s.name)}</text></g>`);
  });
  return out;
}

function svg(o: ChartOptions, f: Frame, body: string[], kind: string): string {
  // reference lines go on top of the data, their labels with a halo so they read over a bar
  for (const r of o.refs ?? []) {
    const y = yOf(f, r.value);
    body.push(`<g class="ref" data-value="${r.value}"><line x1="${f.x0}" x2="${f.x1}" y1="${y}" y2="${y}" stroke="#555" stroke-dasharray="5 4"/><text x="${f.x1 - 2}" y="${y - 4}" text-anchor="end" class="ref-label" paint-order="stroke" stroke="#fafafa" stroke-width="3">${esc(r.label)}</text></g>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-kind="${kind}" role="img" aria-label="${esc(o.title)}" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}">${body.join('')}</svg>`;
}

/** Label heights for the points of one category, so that no two labels of a category overlap and none
 *  runs into the x-axis ticks: the lowest point's label goes below it when there is room above the axis,
 *  the others above their points, pushed up as far as the label beneath needs. */
function labelYs(ys: Array<number | null>, axisY: number): Array<number | null> {
  const pts = ys.map((y, k) => ({ y, k })).filter((p): p is { y: number; k: number } => p.y !== null).sort((a, b) => b.y - a.y);
  const out: Array<number | null> = ys.map(() => null);
  let floor = Infinity; // the highest label placed so far (smallest y): the next one goes at least 13px above (10px text)
  pts.forEach((p, i) => {
    if (i === 0 && pts.length > 1 && p.y + 16 <= axisY - 4 && p.y - pts[1]!.y < 24) {
      out[p.k] = p.y + 16;
      return;
    }
    out[p.k] = Math.min(p.y - 8, floor - 13);
    floor = out[p.k]!;
  });
  return out;
}

/** Lines over categories, one per series, with a labelled point per value. */
export function lineChart(o: ChartOptions): string {
  const f = frame(o), fmt = o.format ?? pct;
  const n = Math.max(1, o.categories.length);
  const xOf = (i: number) => (n === 1 ? (f.x0 + f.x1) / 2 : f.x0 + 24 + (i * (f.x1 - f.x0 - 48)) / (n - 1));
  const out = chrome(o, f, 'line');
  o.categories.forEach((c, i) => out.push(`<text x="${xOf(i)}" y="${f.y0 + 18}" text-anchor="middle" class="tick">${esc(c)}</text>`));
  const labels = o.categories.map((_, i) => labelYs(o.series.map((s) => (isNum(s.values[i]) ? yOf(f, s.values[i]!) : null)), f.y0));
  o.series.forEach((s, k) => {
    const col = COLORS[k % COLORS.length]!;
    let d = '', open = false;
    s.values.forEach((v, i) => {
      if (!isNum(v)) { open = false; return; }
      d += `${open ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(f, v).toFixed(1)}`;
      open = true;
    });
    out.push(`<path d="${d}" fill="none" stroke="${col}" stroke-width="2" class="series" data-series="${esc(s.name)}"/>`);
    s.values.forEach((v, i) => {
      if (!isNum(v)) return;
      const x = xOf(i).toFixed(1), y = yOf(f, v).toFixed(1);
      out.push(`<circle cx="${x}" cy="${y}" r="4" fill="${col}" class="point" data-series="${esc(s.name)}" data-value="${v}"><title>${esc(`${s.name} ${o.categories[i]}: ${fmt(v)}`)}</title></circle>`);
      out.push(`<text x="${x}" y="${labels[i]![k]!.toFixed(1)}" text-anchor="middle" class="value" fill="${col}">${esc(fmt(v))}</text>`);
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
      if (!isNum(v)) return;
      const x = f.x0 + gw * i + (gw - bw * m) / 2 + bw * k, y = yOf(f, v);
      out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(f.y0 - y).toFixed(1)}" fill="${col}" class="bar" data-series="${esc(s.name)}" data-value="${v}"><title>${esc(`${s.name} ${o.categories[i]}: ${fmt(v)}`)}</title></rect>`);
      out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value small">${esc(fmt(v))}</text>`);
    });
  });
  return svg(o, f, out, 'bar');
}

/** A panel saying why a chart has no data (never a made-up series); each line of `why` is one text line. */
export function emptyChart(title: string, why: string | string[]): string {
  const lines = typeof why === 'string' ? [why] : why;
  const h = 80 + 18 * lines.length;
  const text = lines.map((l, i) => `<text x="280" y="${62 + 18 * i}" text-anchor="middle" class="note">${esc(l)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" data-kind="empty" role="img" aria-label="${esc(title)}" width="560" height="${h}" viewBox="0 0 560 ${h}"><title>${esc(title)}</title><text x="280" y="24" text-anchor="middle" class="chart-title">${esc(title)}</text>${text}</svg>`;
}
