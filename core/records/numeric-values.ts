import type { FieldDef } from '../metadata/types';
import { decimalShape, physicalType } from '../metadata/field-types';
import { bad, describeInput, type Normalized } from './normalized';
import { formatDecimal, fractionDigits, integerDigits, parseDecimal, roundDecimal } from './decimal-text';

/**
 * Significant digits a decimal may have: a double keeps every decimal of up to 15 digits exactly
 * (DBL_DIG). SuiteCRM stores amounts in double columns and SQLite stores every DECIMAL as one, so
 * this is what comes back unchanged on both databases.
 */
export const EXACT_DIGITS = 15;

const INTEGER = /^[-+]?\d+$/;
const FLOAT_MAX = 3.4028234663852886e38;

/** The values an integer column holds; JavaScript numbers stop being exact past 2^53. */
export function intRange(field: FieldDef): [min: number, max: number] {
  switch (physicalType(field)) {
    case 'tinyint': return [-128, 127];
    case 'short': return [-32768, 32767];
    case 'uint': return [0, 4294967295];
    case 'ulong': return [0, Number.MAX_SAFE_INTEGER];
    case 'long': case 'double': return [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    case 'float': return [-(2 ** 24), 2 ** 24];
    default: return [-2147483648, 2147483647];
  }
}

export function normalizeInt(field: FieldDef, raw: unknown): Normalized<number | null> {
  if (raw === '') return { ok: true, value: null };
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && INTEGER.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) && Math.abs(n) !== Infinity) return bad('int', `must be a whole number, got ${describeInput(raw)}`);
  const [min, max] = intRange(field);
  if (n < min || n > max) return bad('range', `must be between ${min} and ${max}, got ${describeInput(raw)}`);
  return { ok: true, value: n + 0 };
}

export function normalizeFloat(field: FieldDef, raw: unknown): Normalized<number | null> {
  if (raw === '') return { ok: true, value: null };
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && parseDecimal(raw.trim()) ? Number(raw.trim()) : NaN;
  if (Number.isNaN(n)) return bad('float', `must be a number, got ${describeInput(raw)}`);
  const limit = physicalType(field) === 'float' ? FLOAT_MAX : Number.MAX_VALUE;
  if (!(Math.abs(n) <= limit)) return bad('range', `is out of range: the column holds at most ${limit}, got ${describeInput(raw)}`);
  if (field.precision !== undefined && field.precision !== '') {
    const scale = parseInt(String(field.precision), 10);
    const needed = fractionDigits(parseDecimal(String(n))!);
    if (needed > scale) return bad('precision', `has ${countOf(needed)} digits after the decimal point; it keeps ${scale}`);
  }
  return { ok: true, value: n + 0 };
}

/**
 * Currency and decimal input as exact text with the field's scale ('1234.5' -> '1234.500000').
 * Nothing is rounded away: more places than the field keeps, more digits before the point than
 * its length allows, or more significant digits than come back exactly, are refused.
 */
export function normalizeDecimal(field: FieldDef, raw: unknown): Normalized<string | null> {
  if (raw === '') return { ok: true, value: null };
  if (raw === Infinity || raw === -Infinity) return bad('range', `is out of range: must be a finite number, got ${raw}`);
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined;
  const value = text === undefined ? undefined : parseDecimal(text);
  if (!value) return bad('decimal', `must be a decimal number, got ${describeInput(raw)}`);
  const [precision, scale] = decimalShape(field);
  if (integerDigits(value) > precision - scale) {
    return bad('range', `is out of range: at most ${precision - scale} digits before the decimal point, got ${describeInput(raw)}`);
  }
  const places = fractionDigits(value);
  if (places > scale) return bad('precision', `has ${countOf(places)} digits after the decimal point; it keeps ${scale}`);
  if (value.digits.length > EXACT_DIGITS) return bad('precision', `has ${value.digits.length} significant digits; it keeps ${EXACT_DIGITS} exactly`);
  return { ok: true, value: formatDecimal(value, scale) };
}

/**
 * A stored decimal as Sugar returns it: text with the field's scale. MariaDB gives DECIMAL as
 * text; doubles (and SQLite's DECIMAL) are read at the digits they keep exactly, so 0.1 stays 0.1.
 */
export function decimalFromStorage(field: FieldDef, raw: unknown): string {
  const [, scale] = decimalShape(field);
  const value = parseDecimal(typeof raw === 'number' ? raw.toPrecision(EXACT_DIGITS) : String(raw).trim());
  return value ? formatDecimal(roundDecimal(value, scale), scale) : String(raw);
}

/** The column takes a binary float, so bind a number rather than text for the driver to parse. */
export function storesBinaryFloat(field: FieldDef): boolean {
  const type = physicalType(field);
  return type === 'double' || type === 'float';
}

function countOf(n: number): string {
  return n > 999 ? 'over 999' : String(n);
}
