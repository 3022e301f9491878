import knexFactory from 'knex';
import { FilterError } from '../../core/errors';
import { loadRegistry } from '../../core/metadata/registry';
import { applyFilter, type Filter } from '../../core/query/filter-to-knex';
import { sqliteDialect } from '../../core/db/dialects/sqlite';
import { mysqlDialect } from '../../core/db/dialects/mysql';
import { dateRange } from '../../core/query/date-ranges';

const registry = loadRegistry({ customDir: '/nonexistent' });
const knex = knexFactory({ client: 'mysql2' });
const accounts = registry.module('Accounts');

function compile(filter: unknown, module = accounts) {
  const q = knex(module.table).select('id');
  applyFilter(q, filter, { knex, module, dialect: mysqlDialect, alias: module.table, userId: 'u1', now: new Date('2026-02-10T08:00:00Z') });
  return q.toSQL().toNative();
}

describe('filter compiler', () => {
  it('compiles operators to bound SQL', () => {
    const { sql, bindings } = compile([{ name: { $starts: 'Ac%' } }, { $or: [{ industry: 'Banking' }, { industry: { $in: ['Retail', 'Media'] } }] }, { $owner: '' }]);
    expect(sql).toBe("select `id` from `accounts` where (`accounts`.`name` LIKE ? ESCAPE '!') and (((`accounts`.`industry` = ?) or (`accounts`.`industry` in (?, ?)))) and (`accounts`.`assigned_user_id` = ?)");
    expect(bindings).toEqual(['Ac%', 'Banking', 'Retail', 'Media', 'u1']);
  });

  it('converts values to their stored form', () => {
    expect(compile([{ deleted: { $equals: true } }]).bindings).toEqual([1]);
    expect(compile([{ date_entered: { $gte: '2026-01-01T00:00:00+02:00' } }]).bindings).toEqual(['2025-12-31 22:00:00']);
    expect(compile([{ date_entered: { $dateRange: 'this_month' } }]).bindings).toEqual(['2026-02-01 00:00:00', '2026-02-28 23:59:59']);
  });

  it('uses concatenated names for person modules', () => {
    const { sql } = compile([{ name: { $contains: 'ann' } }], registry.module('Contacts'));
    expect(sql).toContain("TRIM(CONCAT_WS(' ', `contacts`.`first_name`, `contacts`.`last_name`)) LIKE ?");
  });

  it('refuses what it does not know', () => {
    const bad = (filter: unknown) => { try { compile(filter); } catch (e) { expect(e).toBeInstanceOf(FilterError); return (e as Error).message; } return 'compiled'; };
    expect(bad([{ 'name; DROP TABLE accounts': 'x' }])).toBe('Unknown field: name; DROP TABLE accounts is not a field of Accounts');
    expect(bad([{ name: { $regex: '.*' } }])).toBe('Did not recognize the operand: $regex');
    expect(bad([{ contacts: 'x' }])).toBe('contacts is not stored and cannot be filtered');
    expect(bad([{ employees: { $gt: { nested: true } } }])).toBe('$gt on employees needs a value');
    expect(bad([{ date_entered: { $gt: 'yesterday-ish' } }])).toMatch(/^\$gt on date_entered: value must be a date and time/);
    expect(bad([{ $and: [] }])).toBe('$and needs a non-empty array of filter objects');
    expect(bad([{}])).toBe('empty filter object');
  });

  it('knows Sugar\'s date ranges', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    expect(dateRange('yesterday', now)).toEqual(['2026-02-28', '2026-02-28']);
    expect(dateRange('last_30_days', now)).toEqual(['2026-01-31', '2026-03-01']);
    expect(dateRange('next_month', now)).toEqual(['2026-04-01', '2026-04-30']);
    expect(dateRange('last_month', now)).toEqual(['2026-02-01', '2026-02-28']);
  });

  it('keeps SQLite and MySQL differences in the dialects', () => {
    expect(sqliteDialect.concat(['first_name', 'last_name'])).toBe(`(TRIM(COALESCE("first_name", '') || ' ' || COALESCE("last_name", '')) COLLATE NOCASE)`);
    expect(mysqlDialect.columnType({ name: 'amount', type: 'currency' })).toBe('decimal(26,6)');
    expect(mysqlDialect.columnType({ name: 'lawful_basis', type: 'multienum', len: 100 })).toBe('text(100)');
    expect(mysqlDialect.createTable({ name: 't', kind: 'module', file: '', fields: [{ name: 'id', type: 'id' }, { name: 'n', type: 'int', auto_increment: true }], indices: [{ name: 'tpk', type: 'primary', fields: ['id'] }, { name: 'idx_n', type: 'index', fields: ['n'] }] })[0])
      .toBe('CREATE TABLE `t` (\n  `id` char(36) NOT NULL,\n  `n` int(11) NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`id`),\n  KEY `idx_n` (`n`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci');
  });
});
