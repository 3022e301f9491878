/** Dates as Sugar stores them: UTC 'Y-m-d H:i:s', 'Y-m-d', 'H:i:s'. */

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatDateTime(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function formatDate(d: Date): string {
  return formatDateTime(d).slice(0, 10);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DB_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2}))?$/;

function validCalendarDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function parseDate(value: string): string | undefined {
  const m = DATE.exec(value);
  if (!m || !validCalendarDate(+m[1], +m[2], +m[3])) return undefined;
  return value;
}

/** 'Y-m-d H:i:s' (UTC) or ISO-8601 with an optional offset -> 'Y-m-d H:i:s' in UTC. */
export function parseDateTime(value: string): string | undefined {
  const m = DB_DATETIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', zone] = m;
  if (!validCalendarDate(+y, +mo, +d) || +h > 23 || +mi > 59 || +s > 59) return undefined;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return formatDateTime(new Date(ms));
}

export function parseTime(value: string): string | undefined {
  const m = TIME.exec(value);
  if (!m || +m[1] > 23 || +m[2] > 59 || +(m[3] ?? 0) > 59) return undefined;
  return `${m[1]}:${m[2]}:${m[3] ?? '00'}`;
}

/** A stored 'Y-m-d H:i:s' (UTC, any fraction ignored) as a Date. */
export function dateFromDb(dbDateTime: string): Date {
  return new Date(`${dbDateTime.slice(0, 19).replace(' ', 'T')}Z`);
}

/** 'Y-m-d H:i:s' (UTC) -> ISO-8601 with offset, as REST v10 returns datetimes. */
export function toIso(dbDateTime: string): string {
  return `${dbDateTime.replace(' ', 'T')}+00:00`;
}

/** Whether a name is an IANA time zone this Node knows (America/New_York, Europe/Berlin, UTC). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
