import { NotFoundError, ValidationError } from '../../core/errors';
import { admin, describeEachEngine } from '../helpers/engine';

describeEachEngine('relationships', (get) => {
  it('links many-to-many with relationship fields, lists both sides, unlinks softly', async () => {
    const { records, db } = get();
    const opp = await records.create(admin, 'Opportunities', { name: 'Deal', amount: 1, date_closed: '2026-06-30', sales_stage: 'Prospecting' });
    const jane = await records.create(admin, 'Contacts', { first_name: 'Jane', last_name: 'Roe' });
    const john = await records.create(admin, 'Contacts', { first_name: 'John', last_name: 'Poe' });
    await records.link(admin, 'Opportunities', opp.id, 'contacts', jane.id, { contact_role: 'Influencer' });
    await records.link(admin, 'Contacts', john.id, 'opportunities', opp.id);
    const page = await records.listRelated(admin, 'Opportunities', opp.id, 'contacts', { orderBy: [{ field: 'last_name', direction: 'asc' }] });
    expect(page.records.map((r) => [r.name, r.contact_role])).toEqual([['John Poe', null], ['Jane Roe', 'Influencer']]);
    // linking again updates the relationship field instead of adding a row
    await records.link(admin, 'Opportunities', opp.id, 'contacts', jane.id, { contact_role: 'Executive Sponsor' });
    expect(await db.knex('opportunities_contacts').where({ opportunity_id: opp.id, contact_id: jane.id })).toHaveLength(1);
    const err = await records.link(admin, 'Opportunities', opp.id, 'contacts', jane.id, { contact_role: 'Boss' }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    await records.unlink(admin, 'Opportunities', opp.id, 'contacts', jane.id);
    expect((await records.listRelated(admin, 'Contacts', jane.id, 'opportunities')).records).toHaveLength(0);
    const row = await db.knex('opportunities_contacts').where({ opportunity_id: opp.id, contact_id: jane.id }).first();
    expect(Number(row.deleted)).toBe(1);
  });

  it('keeps one account per contact (link_type one) and resolves account_name', async () => {
    const { records } = get();
    const a = await records.create(admin, 'Accounts', { name: 'Alpha' });
    const b = await records.create(admin, 'Accounts', { name: 'Beta' });
    const c = await records.create(admin, 'Contacts', { last_name: 'Moves', account_id: a.id });
    expect(c.account_name).toBe('Alpha');
    await records.link(admin, 'Accounts', b.id, 'contacts', c.id);
    const moved = await records.retrieve(admin, 'Contacts', c.id);
    expect([moved.account_id, moved.account_name]).toEqual([b.id, 'Beta']);
    expect((await records.listRelated(admin, 'Accounts', a.id, 'contacts')).records).toHaveLength(0);
    const cleared = await records.update(admin, 'Contacts', c.id, { account_id: '' });
    expect(cleared.account_name).toBeNull();
    const bad = await records.update(admin, 'Contacts', c.id, { account_id: 'missing' }).catch((e) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).problems[0]).toMatchObject({ field: 'account_id', rule: 'relate' });
  });

  it('relates one-to-many through the child key (member_of / members), with audit of parent_id', async () => {
    const { records } = get();
    const parent = await records.create(admin, 'Accounts', { name: 'Holding' });
    const child = await records.create(admin, 'Accounts', { name: 'Subsidiary' });
    await records.link(admin, 'Accounts', parent.id, 'members', child.id);
    const reloaded = await records.retrieve(admin, 'Accounts', child.id);
    expect([reloaded.parent_id, reloaded.parent_name]).toEqual([parent.id, 'Holding']);
    expect((await records.listRelated(admin, 'Accounts', child.id, 'member_of')).records.map((r) => r.id)).toEqual([parent.id]);
    expect((await records.auditLog(admin, 'Accounts', child.id)).map((l) => l.field_name)).toEqual(['parent_id']);
    await records.unlink(admin, 'Accounts', child.id, 'member_of', parent.id);
    expect((await records.listRelated(admin, 'Accounts', parent.id, 'members')).records).toHaveLength(0);
  });

  it('stores target list members of every kind in one table with related_type', async () => {
    const { records, db } = get();
    const list = await records.create(admin, 'ProspectLists', { name: 'Spring', list_type: 'default' });
    const contact = await records.create(admin, 'Contacts', { last_name: 'Member' });
    const lead = await records.create(admin, 'Leads', { last_name: 'Member' });
    const target = await records.create(admin, 'Prospects', { last_name: 'Member' });
    await records.link(admin, 'ProspectLists', list.id, 'contacts', contact.id);
    await records.link(admin, 'ProspectLists', list.id, 'leads', lead.id);
    await records.link(admin, 'Prospects', target.id, 'prospect_lists', list.id);
    const rows = await db.knex('prospect_lists_prospects').where({ prospect_list_id: list.id, deleted: 0 }).orderBy('related_type');
    expect(rows.map((r) => r.related_type)).toEqual(['Contacts', 'Leads', 'Prospects']);
    expect((await records.listRelated(admin, 'ProspectLists', list.id, 'contacts')).records.map((r) => r.id)).toEqual([contact.id]);
    expect((await records.listRelated(admin, 'ProspectLists', list.id, 'prospects')).records.map((r) => r.id)).toEqual([target.id]);
  });

  it('relates SMS to any parent through parent_type/parent_id', async () => {
    const { records } = get();
    const lead = await records.create(admin, 'Leads', { first_name: 'Text', last_name: 'Me' });
    const sms = await records.create(admin, 'SMS', { body: 'Hello', to_number: '+14155550100', parent_type: 'Leads', parent_id: lead.id });
    expect(sms.parent_name).toBe('Text Me');
    expect((await records.listRelated(admin, 'Leads', lead.id, 'sms')).records.map((r) => r.id)).toEqual([sms.id]);
    expect((await records.listRelated(admin, 'Contacts', lead.id, 'sms').catch((e) => e))).toBeInstanceOf(NotFoundError);
  });

  it('removes join rows on delete and brings them back on restore', async () => {
    const { records } = get();
    const a = await records.create(admin, 'Accounts', { name: 'Gone' });
    const c = await records.create(admin, 'Contacts', { last_name: 'Stays', account_id: a.id });
    await records.delete(admin, 'Accounts', a.id);
    expect((await records.retrieve(admin, 'Contacts', c.id)).account_id).toBeNull();
    await records.restore(admin, 'Accounts', a.id);
    expect((await records.retrieve(admin, 'Contacts', c.id)).account_name).toBe('Gone');
  });

  it('names an unknown link', async () => {
    const { records } = get();
    const a = await records.create(admin, 'Accounts', { name: 'L' });
    await expect(records.listRelated(admin, 'Accounts', a.id, 'nope')).rejects.toThrow('Could not find a relationship named: nope');
  });
});
