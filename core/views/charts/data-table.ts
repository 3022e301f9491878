import { escapeXml } from './svg-text';

/** The chart's numbers as a table only screen readers see (the theme's .visually-hidden). */
export function dataTable(caption: string, head: string[], rows: Array<Array<string>>): string {
  const th = head.map((h) => `<th scope="col">${escapeXml(h)}</th>`).join('');
  const body = rows.map(([first, ...rest]) => `<tr><th scope="row">${escapeXml(first)}</th>${rest.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('');
  return `<table class="visually-hidden"><caption>${escapeXml(caption)}</caption><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}
