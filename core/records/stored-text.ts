/**
 * Text as the database keeps it. Both drivers encode strings as UTF-8, which turns a lone
 * surrogate into U+FFFD; normalising at the edge means what is validated, hashed, sent to hooks
 * and returned is exactly what is stored.
 */
export function storedText(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed();
}

/** The first `max` characters, counted in code points as MySQL counts VARCHAR length (never half a surrogate pair). */
export function truncateText(text: string, max: number): string {
  const chars = Array.from(storedText(text));
  return chars.length > max ? chars.slice(0, max).join('') : storedText(text);
}

/** A JSON-like value with every string normalised by storedText. */
export function storedTextDeep<T>(value: T): T {
  if (typeof value === 'string') return storedText(value) as T;
  if (Array.isArray(value)) return value.map((v) => storedTextDeep(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[storedText(k)] = storedTextDeep(v);
    return out as T;
  }
  return value;
}
