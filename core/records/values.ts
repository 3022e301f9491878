import type { FieldDef } from '../metadata/types';
import { valueKind } from '../metadata/field-types';
import { bad, describeInput, type Normalized as NormalizedAs } from './normalized';
import { decimalFromStorage, normalizeDecimal, normalizeFloat, normalizeInt, storesBinaryFloat } from './numeric-values';
import { parseDate, parseDateTime, parseTime } from './time';
import { storedText } from './stored-text';

/** The value of a field as the record service takes and returns it. */
export type FieldValue = string | number | boolean | string[] | null;

export type Normalized = NormalizedAs<FieldValue>;

const good = (value: FieldValue): Normalized => ({ ok: true, value });

/** Turns caller input into the service's representation, or says why it cannot. */
export function normalizeInput(field: FieldDef, raw: unknown): Normalized {
  const kind = valueKind(field);
  if (raw === undefined || raw === null) return good(null);
  switch (kind) {
    case 'bool': {
      if (typeof raw === 'boolean') return good(raw);
      if (raw === 1 || raw === '1' || raw === 'true' || raw === 'on' || raw === 'yes') return good(true);
      if (raw === 0 || raw === '0' || raw === 'false' || raw === 'off' || raw === 'no' || raw === '') return good(false);
      return bad('bool', `must be true or false, got ${describeInput(raw)}`);
    }
    case 'int': return normalizeInt(field, raw);
    case 'float': return normalizeFloat(field, raw);
    case 'decimal': return normalizeDecimal(field, raw);
    case 'date': {
      if (raw === '') return good(null);
      const v = typeof raw === 'string' ? parseDate(raw.trim()) : undefined;
      return v ? good(v) : bad('date', `must be a date as YYYY-MM-DD, got ${describeInput(raw)}`);
    }
    case 'datetime': {
      if (raw === '') return good(null);
      const v = raw instanceof Date ? parseDateTime(raw.toISOString()) : typeof raw === 'string' ? parseDateTime(raw) : undefined;
      return v ? good(v) : bad('datetime', `must be a date and time (YYYY-MM-DD HH:MM:SS in UTC, or ISO-8601), got ${describeInput(raw)}`);
    }
    case 'time': {
      if (raw === '') return good(null);
      const v = typeof raw === 'string' ? parseTime(raw.trim()) : undefined;
      return v ? good(v) : bad('time', `must be a time as HH:MM:SS, got ${describeInput(raw)}`);
    }
    case 'multienum': {
      if (Array.isArray(raw)) {
        if (!raw.every((v) => typeof v === 'string')) return bad('multienum', 'must be a list of option keys');
        return good((raw as string[]).map(storedText));
      }
      if (typeof raw === 'string') return good(decodeMultienum(storedText(raw)));
      return bad('multienum', `must be a list of option keys, got ${describeInput(raw)}`);
    }
    default: {
      if (typeof raw === 'string') return good(storedText(raw));
      if (typeof raw === 'number' && Number.isFinite(raw)) return good(String(raw));
      return bad('type', `must be text, got ${describeInput(raw)}`);
    }
  }
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
    case 'decimal': return storesBinaryFloat(field) ? Number(value) : value;
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
    case 'decimal': return decimalFromStorage(field, raw);
    case 'multienum': return decodeMultienum(String(raw));
    case 'date': return String(raw).slice(0, 10);
    case 'datetime': return String(raw).slice(0, 19);
    default: return typeof raw === 'string' ? raw : String(raw);
  }
}
