/** Plain-object deep merge used for overlays: objects merge key by key, anything else is replaced. */
export function deepMerge<T>(base: T, overlay: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return structuredClone(overlay) as T;
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overlay)) {
    result[key] = key in result ? deepMerge(result[key], value) : structuredClone(value);
  }
  return result as T;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PHP array_merge on string-keyed arrays: keys keep their first position, later values win. */
export function arrayMerge<V>(first: Record<string, V>, second: Record<string, V>): Record<string, V> {
  const result: Record<string, V> = { ...first };
  for (const [key, value] of Object.entries(second)) result[key] = value;
  return result;
}
