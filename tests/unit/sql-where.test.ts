import { FilterError } from '../../core/errors';
import { loadRegistry } from '../../core/metadata/registry';
import { parseSqlOrderBy, parseSqlWhere } from '../../core/query/sql-where';

const registry = loadRegistry({ customDir: '/nonexistent' });
const accounts = registry.module('Accounts');

describe('v4_1 query parser', () => {
  it('maps the common SQL forms onto the filter language', () => {
    expect(parseSqlWhere(accounts, '')).toEqual([]);
    expect(parseSqlWhere(accounts, "accounts.name LIKE 'Acme%'")).toEqual([{ name: { $starts: 'Acme' } }]);
    expect(parseSqlWhere(accounts, "name LIKE '%corp'")).toEqual([{ name: { $ends: 'corp' } }]);
    expect(parseSqlWhere(accounts, "name like '%o''Brien%'")).toEqual([{ name: { $contains: "o'Brien" } }]);
    expect(parseSqlWhere(accounts, "accounts.industry = 'Banking' AND accounts.billing_address_city <> \"Boston\"")).toEqual([
      { $and: [{ industry: { $equals: 'Banking' } }, { billing_address_city: { $not_equals: 'Boston' } }] },
    ]);
    expect(parseSqlWhere(accounts, "(industry IN ('Retail','Media') OR parent_id IS NULL) AND deleted = 0")).toEqual([
      { $and: [{ $or: [{ industry: { $in: ['Retail', 'Media'] } }, { parent_id: { $is_null: '' } }] }, { deleted: { $equals: 0 } }] },
    ]);
    expect(parseSqlWhere(accounts, "date_entered >= '2026-01-01' and date_entered < '2026-02-01'")).toEqual([
      { $and: [{ date_entered: { $gte: '2026-01-01' } }, { date_entered: { $lt: '2026-02-01' } }] },
    ]);
    expect(parseSqlWhere(accounts, 'industry NOT IN (\'x\') OR website IS NOT NULL')).toEqual([{ $or: [{ industry: { $not_in: ['x'] } }, { website: { $not_null: '' } }] }]);
    expect(parseSqlWhere(accounts, "employees BETWEEN '10' AND '20'")).toEqual([{ employees: { $between: ['10', '20'] } }]);
    // A % inside is Sugar's wildcard; 'a%b' (no % at the end) starts with a…b and ends with b.
    expect(parseSqlWhere(accounts, "name LIKE '%Fi%ch%'")).toEqual([{ name: { $contains: 'Fi%ch' } }]);
    expect(parseSqlWhere(accounts, "name LIKE 'Bl%Bank'")).toEqual([{ $and: [{ name: { $starts: 'Bl%Bank' } }, { name: { $ends: 'Bank' } }] }]);
    expect(parseSqlOrderBy(accounts, 'accounts.name DESC, date_entered')).toEqual([{ field: 'name', direction: 'desc' }, { field: 'date_entered', direction: 'asc' }]);
  });

  it('refuses everything else, saying what and where', () => {
    const refuse = (sql: string) => {
      try { parseSqlWhere(accounts, sql); } catch (err) { expect(err).toBeInstanceOf(FilterError); return (err as Error).message; }
      return 'accepted';
    };
    expect(refuse("name = 'x'; DROP TABLE accounts")).toBe("query: ';' is not understood (only comparisons, LIKE, IN, IS NULL, BETWEEN, AND, OR and parentheses are accepted) at position 11");
    expect(refuse("name = 'x' -- comment")).toMatch(/^query: '-' is not understood/);
    expect(refuse('id IN (SELECT id FROM users)')).toBe('query: sub-queries are not accepted at position 8');
    expect(refuse("name = SLEEP(5)")).toBe("query: 'SLEEP' is not a value (comparing columns or calling functions is not accepted; quote text values) at position 8");
    expect(refuse("users.user_hash = 'x'")).toBe("query: table 'users' is not accounts at position 1");
    expect(refuse("nonexistent = 'x'")).toBe("query: 'nonexistent' is not a column of accounts at position 1");
    expect(refuse("name = 'unterminated")).toBe('query: unterminated string at position 8');
    expect(refuse("name = 'x' AND")).toBe('query: expected a column name at position 15');
    expect(refuse("name = name")).toMatch(/is not a value/);
    expect(refuse('1 = 1')).toBe('query: expected a column name at position 1');
  });
});
