import { formatDateTime, parseDateTime } from './time';

/**
 * A record's version is its date_modified, kept strictly increasing: a write in the same second as
 * the previous one stamps the next second. Sugar's one-second date_modified check then tells every
 * write apart, and the ETag needs no column beyond SuiteCRM's own.
 */
export function nextDateModified(now: Date, previous: unknown): string {
  const stamp = formatDateTime(now);
  const before = typeof previous === 'string' ? parseDateTime(previous) : undefined;
  if (!before || before < stamp) return stamp;
  return formatDateTime(new Date(Date.parse(before.replace(' ', 'T') + 'Z') + 1000));
}

/** The strong ETag of a record as stored: its date_modified without punctuation ("0" when it has none). */
export function recordETag(dateModified: unknown): string {
  const digits = typeof dateModified === 'string' ? dateModified.replace(/\D/g, '') : '';
  return `"${digits || '0'}"`;
}

/** Whether an If-Match header names the record's current ETag ('*' matches any existing record). */
export function ifMatchAccepts(header: string, current: string): boolean {
  return header.split(',').map((tag) => tag.trim()).some((tag) => tag === '*' || tag === current);
}
