import { normalizeInput, fromStorage, toStorage, decodeMultienum, encodeMultienum } from '../../core/records/values';
import { parseDateTime, toIso } from '../../core/records/time';
import type { FieldDef } from '../../core/metadata/types';

const f = (type: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name: 'x', type, ...extra });

describe('field values', () => {
  it('normalizes each type or names the rule it breaks', () => {
    expect(normalizeInput(f('int'), '42')).toEqual({ ok: true, value: 42 });
    expect(normalizeInput(f('int'), 4.5)).toMatchObject({ ok: false, rule: 'int' });
    expect(normalizeInput(f('int'), 2 ** 40)).toMatchObject({ ok: false, rule: 'int' });
    expect(normalizeInput(f('bool'), '0')).toEqual({ ok: true, value: false });
    expect(normalizeInput(f('bool'), 'maybe')).toMatchObject({ ok: false, rule: 'bool' });
    expect(normalizeInput(f('currency'), '12.5')).toEqual({ ok: true, value: '12.500000' });
    expect(normalizeInput(f('currency'), '-0.0000001')).toEqual({ ok: true, value: '0.000000' });
    expect(normalizeInput(f('decimal', { len: '5,2' }), '1234.5')).toMatchObject({ ok: false, rule: 'decimal' });
    expect(normalizeInput(f('decimal', { len: '5,2' }), '123.456')).toEqual({ ok: true, value: '123.46' });
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
    expect(fromStorage(f('datetime'), '2026-01-01 04:30:00')).toBe('2026-01-01 04:30:00');
  });

  it('converts between Sugar DB datetimes and ISO-8601', () => {
    expect(parseDateTime('2026-06-01T23:30:00+01:00')).toBe('2026-06-01 22:30:00');
    expect(parseDateTime('2026-06-01T23:30:00.123Z')).toBe('2026-06-01 23:30:00');
    expect(toIso('2026-06-01 22:30:00')).toBe('2026-06-01T22:30:00+00:00');
  });
});
