import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: string };

/** Normalises a typed or stored phone number to E.164, using `region` for national formats. */
export function normalisePhone(raw: unknown, region: string): PhoneResult {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, reason: 'no phone number' };
  const text = raw.trim();
  if (text.length > 40) return { ok: false, reason: 'is longer than 40 characters' };
  const parsed = parsePhoneNumberFromString(text, region.toUpperCase() as CountryCode);
  if (!parsed) return { ok: false, reason: `'${text}' is not a phone number` };
  if (!parsed.isValid()) return { ok: false, reason: `'${text}' is not a valid number${parsed.country ? ` for ${parsed.country}` : ''}` };
  return { ok: true, e164: parsed.number };
}

/** E.164 or undefined, for indexing stored numbers where an invalid one is simply not indexed. */
export function e164OrUndefined(raw: unknown, region: string): string | undefined {
  const result = normalisePhone(raw, region);
  return result.ok ? result.e164 : undefined;
}
