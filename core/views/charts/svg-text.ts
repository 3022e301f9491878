/** Escapes text for SVG/HTML element content and attribute values. */
export function escapeXml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A round upper bound for an axis and its tick step: 0, 2, 4 … 10 rather than 0, 1.7, 3.4 … 8.5; `whole` for counts (steps of at least 1). */
export function niceScale(max: number, ticks = 4, whole = false): { max: number; step: number } {
  if (!Number.isFinite(max) || max <= 0) return whole ? { max: ticks, step: 1 } : { max: 1, step: 1 / ticks };
  const rough = whole ? Math.max(1, max / ticks) : max / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  return { max: step * Math.ceil(max / step), step };
}

/** Coordinates kept to one decimal so the SVG stays small and stable. */
export function px(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** A label cut to fit a column, with an ellipsis; the full text stays in the <title> and the data table. */
export function shorten(label: string, max: number): string {
  return label.length > max ? `${label.slice(0, Math.max(1, max - 1))}…` : label;
}
