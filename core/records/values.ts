import type { FieldDef } from '../metadata/types';
import { decimalShape, physicalType, valueKind } from '../metadata/field-types';
import { parseDate, parseDateTime, parseTime } from './time';
import { storedText } from './stored-text';

/** The value of a field as the record service takes and returns it. */
export type FieldValue = string | number | boolean | string[] | null;

export type Normalized = { ok: true; value: FieldValue } | { ok: false; rule: string; message: string };

const bad = (rule: string, message: string): Normalized => ({ ok: false, rule, message });
const good = (value: FieldValue): Normalized => ({ ok: true, value });

const INTEGER = /^[-+]?\d+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** Turns caller input into the service's representation, or says why it cannot. */
export function normalizeInput(field: FieldDef, raw: unknown): Normalized {
  const kind = valueKind(field);
  if (raw === undefined || raw === null) return good(null);
  switch (kind) {
    case 'bool': {
      if (typeof raw === 'boolean') return good(raw);
      if (raw === 1 || raw === '1' || raw === 'true' || raw === 'on' || raw === 'yes') return good(true);
      if (raw === 0 || raw === '0' || raw === 'false' || raw === 'off' || raw === 'no' || raw === '') return good(false);
      return bad('bool', `must be true or false, got ${describe(raw)}`);
    }
    case 'int': {
      if (raw === '') return good(null);
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && INTEGER.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (!Number.isInteger(n)) return bad('int', `must be a whole number, got ${describe(raw)}`);
      const limit = intLimit(field);
      if (Math.abs(n) > limit) return bad('int', `must be between -${limit} and ${limit}`);
      return good(n);
    }
    case 'float': {
      if (raw === '') return good(null);
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && NUMBER.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (!Number.isFinite(n)) return bad('float', `must be a number, got ${describe(raw)}`);
      return good(n);
    }
    case 'decimal': {
      if (raw === '') return good(null);
      const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
      if (!NUMBER.test(text)) return bad('decimal', `must be a decimal number, got ${describe(raw)}`);
      return canonicalDecimal(field, text);
    }
    case 'date': {
      if (raw === '') return good(null);
      const v = typeof raw === 'string' ? parseDate(raw.trim()) : undefined;
      return v ? good(v) : bad('date', `must be a date as YYYY-MM-DD, got ${describe(raw)}`);
    }
    case 'datetime': {
      if (raw === '') return good(null);
      const v = raw instanceof Date ? parseDateTime(raw.toISOString()) : typeof raw === 'string' ? parseDateTime(raw) : undefined;
      return v ? good(v) : bad('datetime', `must be a date and time (YYYY-MM-DD HH:MM:SS in UTC, or ISO-8601), got ${describe(raw)}`);
    }
    case 'time': {
      if (raw === '') return good(null);
      const v = typeof raw === 'string' ? parseTime(raw.trim()) : undefined;
      return v ? good(v) : bad('time', `must be a time as HH:MM:SS, got ${describe(raw)}`);
    }
    case 'multienum': {
      if (Array.isArray(raw)) {
        if (!raw.every((v) => typeof v === 'string')) return bad('multienum', 'must be a list of option keys');
        return good((raw as string[]).map(storedText));
      }
      if (typeof raw === 'string') return good(decodeMultienum(storedText(raw)));
      return bad('multienum', `must be a list of option keys, got ${describe(raw)}`);
    }
    default: {
      if (typeof raw === 'string') return good(storedText(raw));
      if (typeof raw === 'number' && Number.isFinite(raw)) return good(String(raw));
      return bad('type', `must be text, got ${describe(raw)}`);
    }
  }
}

function intLimit(field: FieldDef): number {
  switch (physicalType(field)) {
    case 'tinyint': return 127;
    case 'short': return 32767;
    case 'long': case 'ulong': return Number.MAX_SAFE_INTEGER;
    case 'double': case 'float': return Number.MAX_SAFE_INTEGER;
    default: return 2147483647;
  }
}

function canonicalDecimal(field: FieldDef, text: string): Normalized {
  const [precision, scale] = decimalShape(field);
  const n = Number(text);
  if (!Number.isFinite(n)) return bad('decimal', 'must be a finite number');
  if (physicalType(field) === 'double') return good(n.toFixed(scale === 0 ? 0 : 6));
  // Exact decimal: keep the digits as written, padded or rounded to the scale.
  const negative = text.startsWith('-');
  const unsigned = text.replace(/^[-+]/, '');
  if (/e/i.test(unsigned)) return good(n.toFixed(scale));
  const [intPart, fracPart = ''] = unsigned.split('.');
  const digitsBefore = intPart.replace(/^0+(?=\d)/, '');
  if (digitsBefore.length > precision - scale) return bad('decimal', `has more than ${precision - scale} digits before the decimal point`);
  const fixed = fracPart.length > scale ? n.toFixed(scale).replace(/^-/, '') : `${digitsBefore || '0'}${scale ? `.${fracPart.padEnd(scale, '0')}` : ''}`;
  return good(`${negative && Number(fixed) !== 0 ? '-' : ''}${fixed}`);
}

export function decodeMultienum(stored: string): string[] {
  if (stored === '') return [];
  if (stored.startsWith('^')) return stored.replace(/^\^|\^$/g, '').split('^,^').filter((v) => v !== '');
  return stored.split(',').map((v) => v.trim()).filter((v) => v !== '');
}

export function encodeMultienum(values: string[]): string {
  return values.length ? `^${values.join('^,^')}^` : '';
}

/** Service value -> column value. */
export function toStorage(field: FieldDef, value: FieldValue): unknown {
  if (value === null) return null;
  switch (valueKind(field)) {
    case 'bool': return value ? 1 : 0;
    case 'multienum': return encodeMultienum(value as string[]);
    default: return value;
  }
}

/** Column value -> service value. */
export function fromStorage(field: FieldDef, raw: unknown): FieldValue {
  if (raw === null || raw === undefined) return null;
  switch (valueKind(field)) {
    case 'bool': return raw === 1 || raw === '1' || raw === true;
    case 'int': return typeof raw === 'number' ? Math.round(raw) : Number(raw);
    case 'float': return Number(raw);
    case 'decimal': {
      const [, scale] = decimalShape(field);
      const n = Number(raw);
      if (typeof raw === 'string' && physicalType(field) !== 'double') return raw;
      return n.toFixed(physicalType(field) === 'double' ? 6 : scale);
    }
    case 'multienum': return decodeMultienum(String(raw));
    case 'date': return String(raw).slice(0, 10);
    case 'datetime': return String(raw).slice(0, 19);
    default: return typeof raw === 'string' ? raw : String(raw);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `'${value.slice(0, 40)}…'` : `'${value}'`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
