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
export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
// A halo in the panel's background colour behind value labels, so a label that crosses another series'
// line or a reference line stays readable.
const HALO = 'paint-order="stroke" stroke="#fafafa" stroke-width="3" stroke-linejoin="round"';
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
// Rough advance width of the 11px sans-serif legend text: only used to space legend items, so a generous
// estimate costs a little room and never overlaps.
const textWidth = (s: string, px = 11) => s.length * px * 0.6;

interface Frame {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  yMax: number;
  w: number;
  h: number;
  legendRows: number;
}

/** Legend items: one per series, then one per reference line (its label lives in the legend, where it
 *  cannot collide with a bar or a value). */
function legendItems(o: ChartOptions): string[] {
  return [...o.series.map((s) => s.name), ...(o.refs ?? []).map((r) => r.label)];
}

function legendLayout(o: ChartOptions, w: number): Array<{ x: number; row: number }> {
  const at: Array<{ x: number; row: number }> = [];
  let x = 16,
    row = 0;
  for (const name of legendItems(o)) {
    const need = 16 + textWidth(name) + 18;
    if (x + need > w - 8 && x > 16) {
      x = 16;
      row++;
    }
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
    const v = (f.yMax * i) / 4,
      y = yOf(f, v);
    out.push(`<line x1="${f.x0}" x2="${f.x1}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${f.x0 - 6}" y="${y + 4}" text-anchor="end" class="tick">${esc(fmt(v))}</text>`);
  }
  out.push(`<line x1="${f.x0}" x2="${f.x0}" y1="${f.y0}" y2="${f.y1}" stroke="#333"/>`);
  out.push(`<line x1="${f.x0}" x2="${f.x1}" y1="${f.y0}" y2="${f.y0}" stroke="#333"/>`);
  out.push(
    `<text transform="translate(14 ${(f.y0 + f.y1) / 2}) rotate(-90)" text-anchor="middle" ` +
      `class="axis-label">${esc(o.yLabel)}</text>`,
  );
  const legend = legendLayout(o, f.w);
  const rowY = (row: number) => f.h - 14 - 16 * (f.legendRows - 1 - row);
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!,
      { x, row } = legend[i]!,
      y = rowY(row);
    out.push(
      `<g class="legend-item" data-kind="${kind}"><rect x="${x}" y="${y - 10}" width="12" height="12" ` +
        `fill="${c}"/><text x="${x + 16}" y="${y}" class="legend">${esc(s.name)}</text></g>`,
    );
  });
  (o.refs ?? []).forEach((r, i) => {
    const { x, row } = legend[o.series.length + i]!,
      y = rowY(row);
    out.push(
      `<g class="legend-item ref-item"><line x1="${x}" x2="${x + 12}" y1="${y - 4}" y2="${y - 4}" stroke="#555" ` +
        `stroke-dasharray="3 2"/><text x="${x + 16}" y="${y}" class="ref-label">${esc(r.label)}</text></g>`,
    );
  });
  return out;
}

function svg(o: ChartOptions, f: Frame, body: string[], kind: string): string {
  // reference lines go on top of the bars, so that they stay visible; their labels are in the legend
  for (const r of o.refs ?? []) {
    const y = yOf(f, r.value);
    body.push(
      `<line x1="${f.x0}" x2="${f.x1}" y1="${y}" y2="${y}" stroke="#555" stroke-dasharray="5 4" class="ref" ` +
        `data-value="${r.value}"/>`,
    );
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-kind="${kind}" role="img" ` +
    `aria-label="${esc(o.title)}" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}">${body.join('')}</svg>`
  );
}

interface LabelAt {
  dx: number;
  y: number;
  anchor: 'middle' | 'start';
}

/** Where the value labels of one category go, so that no two overlap and none covers a point or runs into
 *  the x-axis ticks: the lowest point's label goes below it when another point sits close above and there
 *  is room before the axis, or to its right when there is no room; the others go above their points,
 *  pushed up as far as the label beneath needs. */
function labelPlaces(ys: Array<number | null>, axisY: number): Array<LabelAt | null> {
  const pts = ys
    .map((y, k) => ({ y, k }))
    .filter((p): p is { y: number; k: number } => p.y !== null)
    .sort((a, b) => b.y - a.y);
  const out: Array<LabelAt | null> = ys.map(() => null);
  // the highest label placed so far (smallest y): the next one goes at least 13px above (10px text)
  let floor = Infinity;
  pts.forEach((p, i) => {
    if (i === 0 && pts.length > 1 && p.y - pts[1]!.y < 24) {
      out[p.k] =
        p.y + 16 <= axisY - 4 ? { dx: 0, y: p.y + 16, anchor: 'middle' } : { dx: 7, y: p.y + 4, anchor: 'start' };
      if (out[p.k]!.anchor === 'start') floor = p.y + 6;
      return;
    }
    out[p.k] = { dx: 0, y: Math.min(p.y - 8, floor - 13), anchor: 'middle' };
    floor = out[p.k]!.y;
  });
  return out;
}

/** Lines over categories, one per series, with a labelled point per value. */
export function lineChart(o: ChartOptions): string {
  const f = frame(o),
    fmt = o.format ?? pct;
  const n = Math.max(1, o.categories.length);
  const xOf = (i: number) => (n === 1 ? (f.x0 + f.x1) / 2 : f.x0 + 24 + (i * (f.x1 - f.x0 - 48)) / (n - 1));
  const out = chrome(o, f, 'line');
  o.categories.forEach((c, i) =>
    out.push(`<text x="${xOf(i)}" y="${f.y0 + 18}" text-anchor="middle" class="tick">${esc(c)}</text>`),
  );
  const places = o.categories.map((_, i) =>
    labelPlaces(
      o.series.map((s) => (isNum(s.values[i]) ? yOf(f, s.values[i]!) : null)),
      f.y0,
    ),
  );
  const labels: string[] = []; // drawn after every line and point, so that no line crosses a label
  o.series.forEach((s, k) => {
    const col = COLORS[k % COLORS.length]!;
    let d = '',
      open = false;
    s.values.forEach((v, i) => {
      if (!isNum(v)) {
        open = false;
        return;
      }
      d += `${open ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(f, v).toFixed(1)}`;
      open = true;
    });
    out.push(
      `<path d="${d}" fill="none" stroke="${col}" stroke-width="2" class="series" data-series="${esc(s.name)}"/>`,
    );
    s.values.forEach((v, i) => {
      if (!isNum(v)) return;
      const x = xOf(i),
        y = yOf(f, v),
        at = places[i]![k]!;
      out.push(
        `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${col}" class="point" ` +
          `data-series="${esc(s.name)}" ` +
          `data-value="${v}"><title>${esc(`${s.name} ${o.categories[i]}: ${fmt(v)}`)}</title></circle>`,
      );
      labels.push(
        `<text x="${(x + at.dx).toFixed(1)}" y="${at.y.toFixed(1)}" text-anchor="${at.anchor}" class="value" ` +
          `fill="${col}" ${HALO}>${esc(fmt(v))}</text>`,
      );
    });
  });
  return svg(o, f, [...out, ...labels], 'line');
}

/** Bars grouped by category, one bar per series in each group. */
export function barChart(o: ChartOptions): string {
  const f = frame(o),
    fmt = o.format ?? pct;
  const n = Math.max(1, o.categories.length),
    m = Math.max(1, o.series.length);
  const gw = (f.x1 - f.x0) / n,
    bw = Math.min(36, (gw - 16) / m);
  const out = chrome(o, f, 'bar');
  o.categories.forEach((c, i) =>
    out.push(`<text x="${f.x0 + gw * (i + 0.5)}" y="${f.y0 + 18}" text-anchor="middle" class="tick">${esc(c)}</text>`),
  );
  o.series.forEach((s, k) => {
    const col = COLORS[k % COLORS.length]!;
    s.values.forEach((v, i) => {
      if (!isNum(v)) return;
      const x = f.x0 + gw * i + (gw - bw * m) / 2 + bw * k,
        y = yOf(f, v);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" ` +
          `height="${(f.y0 - y).toFixed(1)}" fill="${col}" class="bar" data-series="${esc(s.name)}" ` +
          `data-value="${v}"><title>${esc(`${s.name} ${o.categories[i]}: ${fmt(v)}`)}</title></rect>`,
      );
      out.push(
        `<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value ` +
          `small" ${HALO}>${esc(fmt(v))}</text>`,
      );
    });
  });
  return svg(o, f, out, 'bar');
}

/** A panel saying why a chart has no data (never a made-up series); each line of `why` is one text line. */
export function emptyChart(title: string, why: string | string[]): string {
  const lines = typeof why === 'string' ? [why] : why;
  const h = 80 + 18 * lines.length;
  const text = lines
    .map((l, i) => `<text x="280" y="${62 + 18 * i}" text-anchor="middle" class="note">${esc(l)}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" data-kind="empty" role="img" ` +
    `aria-label="${esc(title)}" width="560" height="${h}" viewBox="0 0 ` +
    `560 ${h}"><title>${esc(title)}</title><text x="280" y="24" text-anchor="middle" ` +
    `class="chart-title">${esc(title)}</text>${text}</svg>`
  );
}
