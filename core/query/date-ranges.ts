import { formatDate } from '../records/time';

/** Sugar's $dateRange names (TimeDate::parseDateRange) -> [first day, last day], in UTC days. */
export const DATE_RANGES = [
  'yesterday', 'today', 'tomorrow', 'last_7_days', 'next_7_days', 'last_30_days', 'next_30_days',
  'last_month', 'this_month', 'next_month', 'last_year', 'this_year', 'next_year',
] as const;

export type DateRangeName = (typeof DATE_RANGES)[number];

export function dateRange(name: DateRangeName, now: Date): [string, string] {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  const day = (offset: number) => formatDate(new Date(Date.UTC(y, m, d + offset)));
  const month = (offset: number): [string, string] => [
    formatDate(new Date(Date.UTC(y, m + offset, 1))),
    formatDate(new Date(Date.UTC(y, m + offset + 1, 0))),
  ];
  switch (name) {
    case 'yesterday': return [day(-1), day(-1)];
    case 'today': return [day(0), day(0)];
    case 'tomorrow': return [day(1), day(1)];
    case 'last_7_days': return [day(-6), day(0)];
    case 'next_7_days': return [day(0), day(6)];
    case 'last_30_days': return [day(-29), day(0)];
    case 'next_30_days': return [day(0), day(29)];
    case 'last_month': return month(-1);
    case 'this_month': return month(0);
    case 'next_month': return month(1);
    case 'last_year': return [`${y - 1}-01-01`, `${y - 1}-12-31`];
    case 'this_year': return [`${y}-01-01`, `${y}-12-31`];
    case 'next_year': return [`${y + 1}-01-01`, `${y + 1}-12-31`];
  }
}
