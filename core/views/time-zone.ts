import { dateFromDb, isTimeZone } from '../records/time';

/** Display and input of UTC datetimes in the user's IANA time zone. */

function parts(date: Date, timeZone: string) {
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const p = Object.fromEntries(fmt.formatToParts(date).map((x) => [x.type, x.value]));
  return { y: p.year, m: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second };
}

export { isTimeZone };

/** 'Y-m-d H:i:s' UTC -> 'YYYY-MM-DD HH:MM' in the zone. */
export function utcToZoned(dbDateTime: string, timeZone: string): string {
  const p = parts(dateFromDb(dbDateTime), timeZone);
  return `${p.y}-${p.m}-${p.d} ${p.h}:${p.mi}`;
}

/** 'YYYY-MM-DDTHH:MM' (a datetime-local input) in the zone -> 'Y-m-d H:i:s' UTC. */
export function zonedToUtc(local: string, timeZone: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local.trim());
  if (!m) return undefined;
  const wanted = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  // Find the instant whose wall time in the zone is the wanted one (two passes settle DST offsets).
  let guess = wanted;
  for (let i = 0; i < 2; i++) {
    const p = parts(new Date(guess), timeZone);
    const wall = Date.UTC(+p.y, +p.m - 1, +p.d, +p.h, +p.mi, +p.s);
    guess += wanted - wall;
  }
  return new Date(guess).toISOString().slice(0, 19).replace('T', ' ');
}
