import ct from 'countries-and-timezones';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** The hours in which campaign and workflow messages may go out, in each recipient's time zone. */
export interface SendingHours {
  /** Minutes after local midnight: from `start` (inclusive) to `end` (exclusive); a window past midnight wraps. */
  start: number;
  end: number;
  /** The zone of recipients whose own zone is not known (IANA name). */
  defaultZone: string;
}

/** 'HH:MM-HH:MM' → minutes, or why not. */
export function parseSendingHours(raw: string): { start: number; end: number } | string {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(raw);
  if (!m) return `must look like '08:00-21:00', not '${raw}'`;
  const [h1, m1, h2, m2] = m.slice(1).map(Number);
  if (h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || (h2 === 24 && m2 > 0)) return `'${raw}' is not a pair of times of day`;
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  if (start === end) return `'${raw}' is an empty window`;
  return { start, end };
}

const COUNTRY_ALIASES: Record<string, string> = { USA: 'US', 'UNITED STATES': 'US', UK: 'GB', 'UNITED KINGDOM': 'GB', ENGLAND: 'GB' };

/** An address's country as an ISO code: the code itself, the country's name, or a common alias. */
export function countryCode(text: string | null | undefined): string | undefined {
  const t = String(text ?? '').trim().toUpperCase();
  if (!t) return undefined;
  if (/^[A-Z]{2}$/.test(t) && ct.getCountry(t as never)) return t;
  if (COUNTRY_ALIASES[t]) return COUNTRY_ALIASES[t];
  return Object.values(ct.getAllCountries()).find((c) => c.name.toUpperCase() === t)?.id;
}

/**
 * A recipient's time zone from the record's address country, else the phone number's country: the default zone when it is one of the
 * country's (a US sender's zone for US numbers), else the country's first zone (exact for the
 * many one-zone countries); the default zone when the country is unknown.
 */
export function recipientZone(phone: string, defaultZone: string, addressCountry?: string | null): string {
  const country = countryCode(addressCountry) ?? parsePhoneNumberFromString(phone)?.country;
  const zones: string[] = country ? [...(ct.getCountry(country as never)?.timezones ?? [])] : [];
  if (!zones.length || zones.includes(defaultZone)) return defaultZone;
  return zones[0];
}

function localMinutes(at: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/** Undefined when a message may go out now; else when the recipient's window next opens. */
export function nextSendingTime(hours: SendingHours, phone: string, now: Date, addressCountry?: string | null): { at: Date; zone: string } | undefined {
  const zone = recipientZone(phone, hours.defaultZone, addressCountry);
  const minute = localMinutes(now, zone);
  const inside = hours.start < hours.end ? minute >= hours.start && minute < hours.end : minute >= hours.start || minute < hours.end;
  if (inside) return undefined;
  const wait = (hours.start - minute + 1440) % 1440;
  // Whole minutes from now: the check runs again then (a daylight-saving change is caught at that point).
  return { at: new Date(Math.floor(now.getTime() / 60000) * 60000 + wait * 60000), zone };
}
