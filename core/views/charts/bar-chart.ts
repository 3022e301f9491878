import { dataTable } from './data-table';
import { escapeXml, niceScale, px, shorten } from './svg-text';

export interface Bar {
  label: string;
  value: number;
  /** What is written at the end of the bar (default: the formatted value). */
  text?: string;
  /** Colour slot 0..5 (the theme's .chart-series-N); default 0. */
  series?: number;
}

export interface BarChartInput {
  /** Unique on the page: the <title>/<desc> ids derive from it. */
  id: string;
  title: string;
  description: string;
  bars: Bar[];
  format?: (n: number) => string;
  /** The screen-reader table; default: label and formatted value. */
  table?: { head: string[]; rows: string[][] };
  /** Counts: axis steps of at least 1. */
  whole?: boolean;
  /** Shown in place of bars when there are none. */
  emptyText?: string;
}

const WIDTH = 640;
const LABEL_W = 170;
const TEXT_W = 140;
const ROW = 28;
const BAR = 18;
const TOP = 8;
const AXIS = 24;

/** A horizontal bar chart as an SVG string: one bar per label, scaled to a round maximum, with its numbers in text. */
export function barChart(input: BarChartInput): string {
  const format = input.format ?? ((n: number) => n.toLocaleString('en-US'));
  const id = escapeXml(input.id);
  const head = `<title id="${id}-title">${escapeXml(input.title)}</title><desc id="${id}-desc">${escapeXml(input.description)}</desc>`;
  const open = (height: number) => `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bars" role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}">`;
  if (!input.bars.length) {
    return `<figure class="chart-figure">${open(48)}${head}<text class="chart-empty" x="${WIDTH / 2}" y="28" text-anchor="middle">${escapeXml(input.emptyText ?? 'Nothing to show yet')}</text></svg></figure>`;
  }
  const plotW = WIDTH - LABEL_W - TEXT_W;
  const scale = niceScale(Math.max(...input.bars.map((b) => Math.max(0, b.value))), 4, input.whole);
  const height = TOP + input.bars.length * ROW + AXIS;
  const axisY = TOP + input.bars.length * ROW;
  const parts: string[] = [open(height), head];
  for (let v = 0; v <= scale.max + scale.step / 2; v += scale.step) {
    const x = LABEL_W + (v / scale.max) * plotW;
    parts.push(`<line class="chart-grid" x1="${px(x)}" x2="${px(x)}" y1="${TOP}" y2="${axisY}"/>`);
    parts.push(`<text class="chart-tick" x="${px(x)}" y="${axisY + 16}" text-anchor="middle">${escapeXml(compact(v))}</text>`);
  }
  input.bars.forEach((bar, i) => {
    const y = TOP + i * ROW + (ROW - BAR) / 2;
    const w = (Math.max(0, bar.value) / scale.max) * plotW;
    const text = bar.text ?? format(bar.value);
    parts.push(`<text class="chart-label" x="${LABEL_W - 8}" y="${px(y + BAR / 2 + 4)}" text-anchor="end">${escapeXml(shorten(bar.label, 24))}</text>`);
    parts.push(`<rect class="chart-bar chart-series-${(bar.series ?? 0) % 6}" x="${LABEL_W}" y="${px(y)}" width="${px(w)}" height="${BAR}"><title>${escapeXml(`${bar.label}: ${text}`)}</title></rect>`);
    parts.push(`<text class="chart-value" x="${px(LABEL_W + w + 6)}" y="${px(y + BAR / 2 + 4)}">${escapeXml(text)}</text>`);
  });
  parts.push(`<line class="chart-axis" x1="${LABEL_W}" x2="${LABEL_W}" y1="${TOP}" y2="${axisY}"/>`);
  parts.push('</svg>');
  const table = input.table ?? { head: ['', 'Value'], rows: input.bars.map((b) => [b.label, b.text ?? format(b.value)]) };
  return `<figure class="chart-figure">${parts.join('')}${dataTable(input.title, table.head, table.rows)}</figure>`;
}

/** Tick labels: 12,500 -> 12.5k, 2,000,000 -> 2M. */
export function compact(n: number): string {
  const round = (x: number) => String(Math.round(x * 10) / 10);
  if (Math.abs(n) >= 1e6) return `${round(n / 1e6)}M`;
  if (Math.abs(n) >= 1e3) return `${round(n / 1e3)}k`;
  return round(n);
}
