import { normalizeInput, fromStorage, toStorage, decodeMultienum, encodeMultienum } from '../../core/records/values';
import { parseDateTime, toIso } from '../../core/records/time';
import type { FieldDef } from '../../core/metadata/types';

const f = (type: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name: 'x', type, ...extra });

describe('field values', () => {
  it('normalizes each type or names the rule it breaks', () => {
    expect(normalizeInput(f('int'), '42')).toEqual({ ok: true, value: 42 });
    expect(normalizeInput(f('int'), 4.5)).toMatchObject({ ok: false, rule: 'int' });
    expect(normalizeInput(f('int'), 2 ** 40)).toMatchObject({ ok: false, rule: 'range' });
    expect(normalizeInput(f('uint'), -1)).toMatchObject({ ok: false, rule: 'range', message: 'must be between 0 and 4294967295, got -1' });
    expect(normalizeInput(f('tinyint'), '-128')).toEqual({ ok: true, value: -128 });
    expect(normalizeInput(f('bool'), '0')).toEqual({ ok: true, value: false });
    expect(normalizeInput(f('bool'), 'maybe')).toMatchObject({ ok: false, rule: 'bool' });
    expect(normalizeInput(f('currency'), '12.5')).toEqual({ ok: true, value: '12.500000' });
    expect(normalizeInput(f('currency'), '-0.0000001')).toMatchObject({ ok: false, rule: 'precision' });
    expect(normalizeInput(f('decimal', { len: '5,2' }), '1234.5')).toMatchObject({ ok: false, rule: 'range' });
    expect(normalizeInput(f('decimal', { len: '5,2' }), '123.456')).toMatchObject({ ok: false, rule: 'precision', message: 'has 3 digits after the decimal point; it keeps 2' });
    expect(normalizeInput(f('decimal', { len: '5,2' }), '-123.450')).toEqual({ ok: true, value: '-123.45' });
    expect(normalizeInput(f('decimal', { len: 10, precision: 0 }), '1e-99999999999999999999')).toMatchObject({ ok: false, rule: 'precision', message: 'has over 999 digits after the decimal point; it keeps 0' });
    expect(normalizeInput(f('currency'), 'e5')).toMatchObject({ ok: false, rule: 'decimal' });
    expect(normalizeInput(f('float', { precision: 2 }), '1.005')).toMatchObject({ ok: false, rule: 'precision' });
    expect(normalizeInput(f('float'), '1e400')).toMatchObject({ ok: false, rule: 'range' });
    expect(normalizeInput(f('float', { dbType: 'float' }), 1e39)).toMatchObject({ ok: false, rule: 'range' });
    expect(normalizeInput(f('currency', { dbType: 'double' }), 3)).toEqual({ ok: true, value: '3.000000' });
    expect(normalizeInput(f('date'), '2024-02-29')).toEqual({ ok: true, value: '2024-02-29' });
    expect(normalizeInput(f('date'), '2023-02-29')).toMatchObject({ ok: false, rule: 'date' });
    expect(normalizeInput(f('datetime'), '2026-01-01T01:30:00-03:00')).toEqual({ ok: true, value: '2026-01-01 04:30:00' });
    expect(normalizeInput(f('datetime'), '2026-01-01 25:00:00')).toMatchObject({ ok: false, rule: 'datetime' });
    expect(normalizeInput(f('time'), '9:00')).toMatchObject({ ok: false, rule: 'time' });
    expect(normalizeInput(f('time'), '09:00')).toEqual({ ok: true, value: '09:00:00' });
    expect(normalizeInput(f('varchar'), { a: 1 })).toMatchObject({ ok: false, rule: 'type' });
    expect(normalizeInput(f('multienum'), '^a^,^b^')).toEqual({ ok: true, value: ['a', 'b'] });
  });

  it('stores multienum and bool as Sugar does', () => {
    expect(encodeMultienum(['a', 'b c'])).toBe('^a^,^b c^');
    expect(decodeMultienum('^a^,^b c^')).toEqual(['a', 'b c']);
    expect(decodeMultienum('')).toEqual([]);
    expect(toStorage(f('bool'), true)).toBe(1);
    expect(fromStorage(f('bool'), 0)).toBe(false);
    expect(fromStorage(f('currency', { dbType: 'double' }), 2.5)).toBe('2.500000');
    expect(fromStorage(f('currency', { dbType: 'double' }), 0.1 + 0.2)).toBe('0.300000');
    expect(fromStorage(f('currency', { dbType: 'double' }), 1234567890123450000)).toBe('1234567890123450000.000000');
    expect(fromStorage(f('currency', { dbType: 'double' }), 0.0000005)).toBe('0.000001');
    expect(fromStorage(f('currency', { dbType: 'double' }), -0.0000005)).toBe('-0.000001');
    expect(fromStorage(f('currency', { dbType: 'double' }), 999999.9999996)).toBe('1000000.000000');
    expect(fromStorage(f('decimal', { len: '12,5' }), '0.00750')).toBe('0.00750');
    expect(fromStorage(f('decimal', { len: '12,5' }), 0.0075)).toBe('0.00750');
    expect(toStorage(f('currency', { dbType: 'double' }), '12.500000')).toBe(12.5);
    expect(toStorage(f('currency'), '12.500000')).toBe('12.500000');
    expect(fromStorage(f('datetime'), '2026-01-01 04:30:00')).toBe('2026-01-01 04:30:00');
  });

  it('converts between Sugar DB datetimes and ISO-8601', () => {
    expect(parseDateTime('2026-06-01T23:30:00+01:00')).toBe('2026-06-01 22:30:00');
    expect(parseDateTime('2026-06-01T23:30:00.123Z')).toBe('2026-06-01 23:30:00');
    expect(toIso('2026-06-01 22:30:00')).toBe('2026-06-01T22:30:00+00:00');
  });
});
