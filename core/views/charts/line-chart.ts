import { compact } from './bar-chart';
import { dataTable } from './data-table';
import { escapeXml, niceScale, px } from './svg-text';

export interface LineChartInput {
  /** Unique on the page: the <title>/<desc> ids derive from it. */
  id: string;
  title: string;
  description: string;
  /** The x axis, in order (for example days). */
  labels: string[];
  series: Array<{ name: string; values: number[] }>;
  /** Show every n-th x label (default: about eight labels in all). */
  labelEvery?: number;
}

const WIDTH = 640;
const HEIGHT = 240;
const LEFT = 48;
const RIGHT = 24;
const TOP = 32;
const BOTTOM = 28;

/** A line chart of counts as an SVG string: one line per series over shared x labels, a legend, points with their numbers. */
export function lineChart(input: LineChartInput): string {
  const id = escapeXml(input.id);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-lines" role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}">`,
    `<title id="${id}-title">${escapeXml(input.title)}</title><desc id="${id}-desc">${escapeXml(input.description)}</desc>`,
  ];
  const n = input.labels.length;
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const all = input.series.flatMap((s) => s.values.map((v) => Math.max(0, v)));
  const scale = niceScale(all.length ? Math.max(...all) : 0, 4, true);
  const x = (i: number) => LEFT + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => TOP + plotH - (Math.max(0, v) / scale.max) * plotH;
  for (let v = 0; v <= scale.max + scale.step / 2; v += scale.step) {
    parts.push(`<line class="chart-grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${px(y(v))}" y2="${px(y(v))}"/>`);
    parts.push(`<text class="chart-tick" x="${LEFT - 6}" y="${px(y(v) + 4)}" text-anchor="end">${escapeXml(compact(v))}</text>`);
  }
  parts.push(`<line class="chart-axis" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${TOP + plotH}" y2="${TOP + plotH}"/>`);
  const every = input.labelEvery ?? Math.max(1, Math.ceil(n / 8));
  input.labels.forEach((label, i) => {
    // Counted from the end so the last label (today) is always shown and never crowded.
    if ((n - 1 - i) % every === 0) parts.push(`<text class="chart-tick" x="${px(x(i))}" y="${HEIGHT - 8}" text-anchor="middle">${escapeXml(label)}</text>`);
  });
  input.series.forEach((s, si) => {
    const cls = `chart-series-${si % 6}`;
    parts.push(`<rect class="chart-swatch ${cls}" x="${LEFT + si * 140}" y="8" width="12" height="12"/><text class="chart-legend" x="${LEFT + si * 140 + 18}" y="18">${escapeXml(s.name)}</text>`);
    if (n > 1) parts.push(`<polyline class="chart-line ${cls}" points="${s.values.map((v, i) => `${px(x(i))},${px(y(v))}`).join(' ')}"/>`);
    s.values.forEach((v, i) => parts.push(`<circle class="chart-point ${cls}" cx="${px(x(i))}" cy="${px(y(v))}" r="3"><title>${escapeXml(`${input.labels[i]}: ${v} ${s.name.toLowerCase()}`)}</title></circle>`));
  });
  parts.push('</svg>');
  const rows = input.labels.map((label, i) => [label, ...input.series.map((s) => String(s.values[i] ?? 0))]);
  return `<figure class="chart-figure">${parts.join('')}${dataTable(input.title, ['', ...input.series.map((s) => s.name)], rows)}</figure>`;
}
