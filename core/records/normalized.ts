/** The outcome of turning caller input into a field value: the value, or the rule it breaks and why. */
export type Normalized<T> = { ok: true; value: T } | { ok: false; rule: string; message: string };

export const bad = (rule: string, message: string): { ok: false; rule: string; message: string } => ({ ok: false, rule, message });

/** Caller input quoted for an error message, cut short when long. */
export function describeInput(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `'${value.slice(0, 40)}…'` : `'${value}'`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
