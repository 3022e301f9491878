import { ConflictError, NotFoundError, ValidationError } from '../../core/errors';
import { admin, describeEachEngine, fixedClock } from '../helpers/engine';

const clock = fixedClock();

async function validationProblems(promise: Promise<unknown>) {
  const err = await promise.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).problems.map((p) => `${p.field}:${p.rule}`).sort();
}

describeEachEngine('record service', (get) => {
  it('creates, retrieves, updates, soft-deletes and restores with Sugar bookkeeping', async () => {
    const { records, db } = get();
    clock.set('2026-03-10T12:00:00Z');
    const created = await records.create(admin, 'Accounts', { name: 'Acme', industry: 'Banking', account_type: 'Customer' });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created).toMatchObject({ name: 'Acme', industry: 'Banking', deleted: false, created_by: '1', modified_user_id: '1', date_entered: '2026-03-10 12:00:00' });

    clock.advance(60);
    const updated = await records.update(admin, 'Accounts', created.id, { billing_address_city: 'Lisbon' });
    expect(updated.date_modified).toBe('2026-03-10 12:01:00');
    expect(updated.date_entered).toBe('2026-03-10 12:00:00');

    await records.delete(admin, 'Accounts', created.id);
    await expect(records.retrieve(admin, 'Accounts', created.id)).rejects.toBeInstanceOf(NotFoundError);
    const raw = await db.knex('accounts').where('id', created.id).first();
    expect(Number(raw.deleted)).toBe(1);
    expect((await records.retrieve(admin, 'Accounts', created.id, { deleted: true })).deleted).toBe(true);

    const restored = await records.restore(admin, 'Accounts', created.id);
    expect(restored.deleted).toBe(false);
    expect((await records.retrieve(admin, 'Accounts', created.id)).billing_address_city).toBe('Lisbon');
  });

  it('accepts a client-chosen id once', async () => {
    const { records } = get();
    await records.create(admin, 'Accounts', { id: 'seed_account_1', name: 'Seed' });
    expect(await validationProblems(records.create(admin, 'Accounts', { id: 'seed_account_1', name: 'Again' }))).toEqual(['id:unique']);
  });

  it('reports every failing field at once, with its rule, and writes nothing', async () => {
    const { records } = get();
    const before = await records.count(admin, 'Opportunities');
    const problems = await validationProblems(records.create(admin, 'Opportunities', {
      name: 'x'.repeat(51),
      sales_stage: 'Won-ish',
      probability: 140,
      date_closed: '2026-02-30',
      amount: 'lots',
      lead_source: 'Nope',
      no_such_field: 1,
    }));
    expect(problems).toEqual(['amount:decimal', 'date_closed:date', 'lead_source:enum', 'name:len', 'no_such_field:unknown', 'probability:range', 'sales_stage:enum']);
    expect(await records.count(admin, 'Opportunities')).toBe(before);
    expect(await validationProblems(records.create(admin, 'Contacts', { first_name: 'No last name' }))).toEqual(['last_name:required']);
    expect(await validationProblems(records.create(admin, 'Accounts', { name: 'Bad', website: 'not a url', phone_office: 'call me' }))).toEqual(['website:url']);
  });

  it('checks types: int, bool, datetime, multienum', async () => {
    const { records, db } = get();
    expect(await validationProblems(records.create(admin, 'Campaigns', { name: 'C', status: 'Active', campaign_type: 'SMS', end_date: '2026-04-01', impressions: 'many' }))).toEqual(['impressions:int']);
    expect(await validationProblems(records.create(admin, 'Contacts', { last_name: 'X', do_not_call: 'perhaps' }))).toEqual(['do_not_call:bool']);
    expect(await validationProblems(records.create(admin, 'Contacts', { last_name: 'X', lawful_basis: ['consent', 'because'] }))).toEqual(['lawful_basis:multienum']);
    const c = await records.create(admin, 'Contacts', { last_name: 'Multi', lawful_basis: ['consent', 'contract'], do_not_call: '1' });
    expect(c.lawful_basis).toEqual(['consent', 'contract']);
    expect(c.do_not_call).toBe(true);
    expect((await db.knex('contacts').where('id', c.id).first()).lawful_basis).toBe('^consent^,^contract^');
    const job = await records.create(admin, 'SchedulersJobs', { name: 'j', target: 'function::x', client: 'c', status: 'queued', resolution: 'queued', execute_time: '2026-03-10T14:30:00+02:00' });
    expect(job.execute_time).toBe('2026-03-10 12:30:00');
  });

  it('computes person names and sorts on them', async () => {
    const { records } = get();
    await records.create(admin, 'Leads', { first_name: 'Zoe', last_name: 'Adams', status: 'New' });
    const lead = await records.create(admin, 'Leads', { first_name: 'Amy', last_name: 'Zimmer', status: 'New' });
    expect(lead.name).toBe('Amy Zimmer');
    expect(lead.full_name).toBe('Amy Zimmer');
    const { records: sorted } = await records.list(admin, 'Leads', { orderBy: [{ field: 'name', direction: 'asc' }], fields: ['name'] });
    expect(sorted.map((r) => r.name)).toEqual(['Zoe Adams', 'Amy Zimmer']);
  });

  it('sets the probability from the sales stage unless the caller sets it', async () => {
    const { records } = get();
    const opp = await records.create(admin, 'Opportunities', { name: 'Deal', amount: '1500.5', date_closed: '2026-06-30', sales_stage: 'Prospecting' });
    expect(opp.probability).toBe(10);
    expect(opp.amount).toBe('1500.500000');
    expect((await records.update(admin, 'Opportunities', opp.id, { sales_stage: 'Negotiation/Review' })).probability).toBe(80);
    expect((await records.update(admin, 'Opportunities', opp.id, { sales_stage: 'Closed Won', probability: 95 })).probability).toBe(95);
    expect((await records.update(admin, 'Opportunities', opp.id, { next_step: 'Call' })).probability).toBe(95);
  });

  it('writes audit rows for changed audited fields in the same transaction', async () => {
    const { records, db } = get();
    const opp = await records.create(admin, 'Opportunities', { name: 'Audited', amount: 10, date_closed: '2026-06-30', sales_stage: 'Prospecting' });
    expect(await db.knex('opportunities_audit').where('parent_id', opp.id)).toHaveLength(0);
    clock.advance(5);
    await records.update({ type: 'user', id: 'u-2', isAdmin: false }, 'Opportunities', opp.id, { sales_stage: 'Qualification', next_step: 'not audited' });
    const log = await records.auditLog(admin, 'Opportunities', opp.id);
    expect(log.map((l) => [l.field_name, l.before_value, l.after_value, l.created_by]).sort()).toEqual([
      ['probability', '10', '20', 'u-2'],
      ['sales_stage', 'Prospecting', 'Qualification', 'u-2'],
    ]);
    const contact = await records.create(admin, 'Contacts', { last_name: 'Basis' });
    await records.update(admin, 'Contacts', contact.id, { lawful_basis: ['consent'] });
    const row = await db.knex('contacts_audit').where({ parent_id: contact.id, field_name: 'lawful_basis' }).first();
    expect(row.after_value_text).toBe('^consent^');
    expect(row.after_value_string).toBeNull();
  });

  it('leaves nothing half-written when the transaction fails', async () => {
    const { records, db } = get();
    const account = await records.create(admin, 'Accounts', { name: 'Before' });
    await db.knex.schema.renameTable('accounts_audit', 'accounts_audit_away');
    try {
      // Errors from the native SQLite driver come from another realm than jest's, so check the message.
      const outcome = await records.update(admin, 'Accounts', account.id, { name: 'After' }).then(() => 'saved', (e: Error) => e.message);
      expect(outcome).toMatch(/accounts_audit/);
    } finally {
      await db.knex.schema.renameTable('accounts_audit_away', 'accounts_audit');
    }
    expect((await records.retrieve(admin, 'Accounts', account.id)).name).toBe('Before');
  });

  it('refuses a stale update on modules with optimistic locking', async () => {
    const { records } = get();
    const account = await records.create(admin, 'Accounts', { name: 'Locked' });
    clock.advance(1);
    await records.update(admin, 'Accounts', account.id, { name: 'Changed by someone' });
    await expect(records.update(admin, 'Accounts', account.id, { name: 'Mine' }, { expectedDateModified: account.date_modified as string }))
      .rejects.toBeInstanceOf(ConflictError);
    const fresh = await records.retrieve(admin, 'Accounts', account.id);
    await expect(records.update(admin, 'Accounts', account.id, { name: 'Mine' }, { expectedDateModified: fresh.date_modified as string })).resolves.toMatchObject({ name: 'Mine' });
  });

  it('fills auto-increment tracker keys', async () => {
    const { records } = get();
    const a = await records.create(admin, 'Campaigns', { name: 'A', status: 'Planning', campaign_type: 'SMS', end_date: '2026-12-31' });
    const b = await records.create(admin, 'Campaigns', { name: 'B', status: 'Planning', campaign_type: 'SMS', end_date: '2026-12-31', tracker_key: 999 });
    expect(typeof a.tracker_key).toBe('number');
    expect(b.tracker_key).toBe((a.tracker_key as number) + 1);
  });

  it('never returns sensitive fields', async () => {
    const { records } = get();
    const user = await records.create(admin, 'Users', { user_name: 'jdoe', last_name: 'Doe', user_hash: 'secret', status: 'Active' });
    expect(user).not.toHaveProperty('user_hash');
    expect((await records.list(admin, 'Users', {})).records[0]).not.toHaveProperty('user_hash');
  });
}, { clock });
