import { unserialize } from 'php-serialize';

/**
 * A value SuiteCRM stores with PHP's serialize, usually base64-encoded (aow_actions.parameters,
 * aow_conditions.module_path, date and multi condition values). Objects are refused, never
 * instantiated. Answers undefined when the text is not such a value.
 */
export function decodePhpValue(text: unknown): unknown {
  if (typeof text !== 'string' || !text.trim()) return undefined;
  const trimmed = text.trim();
  const serialized = /^(?:[aisbdO]:|N;)/.test(trimmed) ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8');
  try {
    return unserialize(serialized, {}, { strict: true });
  } catch {
    return undefined;
  }
}

/** A PHP array as a list of its values (SuiteCRM writes lists with explicit keys). */
export function phpList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') return Object.values(value);
  return [];
}
