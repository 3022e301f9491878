import { FilterError } from '../../core/errors';
import type { Filter } from '../../core/query/filter-to-knex';
import { admin, describeEachEngine, fixedClock } from '../helpers/engine';
import { createUser } from '../../core/security/users';

const clock = fixedClock('2026-03-15T10:00:00Z');
const owner = { type: 'user' as const, id: 'owner-1', isAdmin: false };

describeEachEngine('filters', (get) => {
  beforeAll(async () => {
    const { records } = get();
    // the owners the rows name (assigned users must exist)
    for (const [id, name] of [['owner-1', 'owner1'], ['someone', 'someone']]) await createUser(get(), { id, user_name: name, password: 'owner-password-1', last_name: name });
    const rows: Array<Record<string, unknown>> = [
      { name: 'Acme Corp', industry: 'Banking', billing_address_city: 'Boston', employees: '10', assigned_user_id: 'owner-1', annual_revenue: null },
      { name: 'acme labs', industry: 'Technology', billing_address_city: 'Berlin', employees: '250', assigned_user_id: 'someone' },
      { name: 'Beta 100% Ltd', industry: 'Technology', billing_address_city: null, employees: '5' },
      { name: 'Gamma_Co', industry: 'Retail', billing_address_city: 'Lisbon', employees: '42', assigned_user_id: 'owner-1' },
    ];
    for (const row of rows) await records.create(admin, 'Accounts', row);
    const days = ['2026-03-15', '2026-03-14', '2026-03-10', '2026-02-20', '2025-12-31', '2026-03-16'];
    for (const [i, date_closed] of days.entries()) {
      await records.create(admin, 'Opportunities', { name: `Opp ${i}`, amount: (i + 1) * 100, date_closed, sales_stage: i % 2 ? 'Closed Won' : 'Prospecting' });
    }
  });

  async function names(filter: Filter, module = 'Accounts', actor = admin) {
    const { records } = get();
    const { records: found } = await records.list(actor, module, { filter, orderBy: [{ field: 'name', direction: 'asc' }], fields: ['name'] });
    return found.map((r) => r.name);
  }

  it('compares text, case-insensitively like MySQL', async () => {
    expect(await names([{ name: 'acme corp' }])).toEqual(['Acme Corp']);
    expect(await names([{ name: { $starts: 'ACME' } }])).toEqual(['Acme Corp', 'acme labs']);
    expect(await names([{ name: { $ends: 'co' } }])).toEqual(['Gamma_Co']);
    expect(await names([{ name: { $contains: '100%' } }])).toEqual(['Beta 100% Ltd']);
    expect(await names([{ name: { $contains: '_' } }])).toEqual(['Gamma_Co']);
    expect(await names([{ name: { $not_contains: 'acme' } }])).toEqual(['Beta 100% Ltd', 'Gamma_Co']);
    expect(await names([{ industry: { $not_equals: 'Technology' } }])).toEqual(['Acme Corp', 'Gamma_Co']);
  });

  it('handles lists, nulls and combinations', async () => {
    expect(await names([{ industry: { $in: ['Retail', 'Banking'] } }])).toEqual(['Acme Corp', 'Gamma_Co']);
    expect(await names([{ industry: { $not_in: ['Technology'] } }])).toEqual(['Acme Corp', 'Gamma_Co']);
    expect(await names([{ billing_address_city: { $is_null: '' } }])).toEqual(['Beta 100% Ltd']);
    expect(await names([{ billing_address_city: { $not_null: '' } }, { industry: 'Technology' }])).toEqual(['acme labs']);
    expect(await names([{ $or: [{ billing_address_city: 'Lisbon' }, { name: { $starts: 'Beta' } }] }])).toEqual(['Beta 100% Ltd', 'Gamma_Co']);
    expect(await names([{ $and: [{ industry: 'Technology' }, { $or: [{ billing_address_city: 'Berlin' }, { billing_address_city: 'Paris' }] }] }])).toEqual(['acme labs']);
    expect(await names([{ $owner: '' }], 'Accounts', owner)).toEqual(['Acme Corp', 'Gamma_Co']);
  });

  it('compares numbers and dates, with ranges relative to the clock', async () => {
    expect(await names([{ amount: { $gte: 400 } }], 'Opportunities')).toEqual(['Opp 3', 'Opp 4', 'Opp 5']);
    expect(await names([{ amount: { $between: [200, 300] } }], 'Opportunities')).toEqual(['Opp 1', 'Opp 2']);
    expect(await names([{ date_closed: { $lt: '2026-03-01' } }], 'Opportunities')).toEqual(['Opp 3', 'Opp 4']);
    expect(await names([{ date_closed: { $dateRange: 'today' } }], 'Opportunities')).toEqual(['Opp 0']);
    expect(await names([{ date_closed: { $dateRange: 'yesterday' } }], 'Opportunities')).toEqual(['Opp 1']);
    expect(await names([{ date_closed: { $dateRange: 'tomorrow' } }], 'Opportunities')).toEqual(['Opp 5']);
    expect(await names([{ date_closed: { $dateRange: 'last_7_days' } }], 'Opportunities')).toEqual(['Opp 0', 'Opp 1', 'Opp 2']);
    expect(await names([{ date_closed: { $dateRange: 'this_month' } }], 'Opportunities')).toEqual(['Opp 0', 'Opp 1', 'Opp 2', 'Opp 5']);
    expect(await names([{ date_closed: { $dateRange: 'last_month' } }], 'Opportunities')).toEqual(['Opp 3']);
    expect(await names([{ date_closed: { $dateRange: 'last_year' } }], 'Opportunities')).toEqual(['Opp 4']);
    expect(await names([{ date_entered: { $dateRange: 'today' } }], 'Opportunities')).toHaveLength(6);
    expect(await names([{ sales_stage: 'Closed Won' }, { date_closed: { $dateRange: 'this_year' } }], 'Opportunities')).toEqual(['Opp 1', 'Opp 3', 'Opp 5']);
  });

  it('pages with next_offset and counts', async () => {
    const { records } = get();
    const first = await records.list(admin, 'Opportunities', { maxNum: 4, orderBy: [{ field: 'amount', direction: 'desc' }] });
    expect(first.records.map((r) => r.name)).toEqual(['Opp 5', 'Opp 4', 'Opp 3', 'Opp 2']);
    expect(first.nextOffset).toBe(4);
    const second = await records.list(admin, 'Opportunities', { maxNum: 4, offset: 4, orderBy: [{ field: 'amount', direction: 'desc' }] });
    expect(second.records.map((r) => r.name)).toEqual(['Opp 1', 'Opp 0']);
    expect(second.nextOffset).toBe(-1);
    expect(await records.count(admin, 'Opportunities', { filter: [{ sales_stage: 'Prospecting' }] })).toBe(3);
  });

  it('filters person names built from first and last name', async () => {
    const { records } = get();
    await records.create(admin, 'Contacts', { first_name: 'Maria', last_name: 'Silva' });
    await records.create(admin, 'Contacts', { first_name: 'Mario', last_name: 'Rossi' });
    expect(await names([{ name: { $starts: 'Mari' } }], 'Contacts')).toEqual(['Mario Rossi', 'Maria Silva']);
    expect(await names([{ name: 'maria silva' }], 'Contacts')).toEqual(['Maria Silva']);
  });

  it('binds hostile values instead of splicing them', async () => {
    const { records } = get();
    expect(await names([{ name: "x' OR '1'='1" }])).toEqual([]);
    expect(await names([{ name: { $starts: "%' OR 1=1 --" } }])).toEqual([]);
    expect(await records.count(admin, 'Accounts')).toBe(4);
  });

  it('names unknown fields, operators and bad values', async () => {
    const { records } = get();
    const attempt = (filter: unknown) => records.list(admin, 'Accounts', { filter: filter as Filter }).catch((e) => e);
    const unknownField = await attempt([{ nmae: 'x' }]);
    expect(unknownField).toBeInstanceOf(FilterError);
    expect(unknownField.message).toBe('Unknown field: nmae is not a field of Accounts');
    expect((await attempt([{ name: { $like: 'x' } }])).message).toBe('Did not recognize the operand: $like');
    expect((await attempt([{ $nor: [] }])).message).toBe('Did not recognize the operand: $nor');
    expect((await attempt([{ name: { $in: 'x' } }])).message).toBe('$in on name needs an array');
    expect((await attempt([{ date_entered: { $dateRange: 'someday' } }])).message).toMatch(/^\$dateRange on date_entered must be one of yesterday, today/);
    expect((await attempt([{ employees: { $between: [1] } }])).message).toBe('$between on employees needs an array of two values');
    expect((await attempt({ name: 'x' })).message).toBe('filter must be an array of filter objects');
    expect((await records.list(admin, 'Accounts', { orderBy: [{ field: 'bogus', direction: 'asc' }] }).catch((e) => e)).message).toBe('Unknown field in order_by: bogus is not a field of Accounts');
    expect((await records.list(admin, 'Users', { filter: [{ user_hash: 'x' }] }).catch((e) => e)).message).toBe('user_hash cannot be filtered');
  });
}, { clock });
