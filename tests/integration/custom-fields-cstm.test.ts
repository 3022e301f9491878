import path from 'node:path';
import { createCrm } from '../../core/app/create-crm';
import { createEngine } from '../../core/app/engine';
import { syncSchema } from '../../core/db/sync';
import { silentLogger } from '../../core/logger';
import { md5Hex } from '../../core/security/passwords';
import type { Database } from '../../core/db/connection';
import { client, startServer, type TestServer } from '../helpers/crm';
import { describeEachDatabase, describeEachKind } from '../helpers/databases';
import { PhoneIndex } from '../../core/sms/phone-index';
import { admin, describeEachEngine } from '../helpers/engine';

// The overlay declares Accounts.rating_c (int, audited); Sugar's Studio would keep it in accounts_cstm.
const customDir = path.join(__dirname, '..', 'fixtures', 'custom-cstm');

describeEachEngine('custom fields on a fresh database', (get) => {
  it('creates <table>_cstm keyed by id_c and a fields_meta_data row per custom field', async () => {
    const { db, registry, records } = get();
    const accounts = registry.module('Accounts');
    expect(accounts.fields.rating_c.source).toBe('custom_fields');
    expect(accounts.customTable).toBe('accounts_cstm');
    expect((await db.dialect.columns(db.knex, 'accounts')).has('rating_c')).toBe(false);
    expect([...(await db.dialect.columns(db.knex, 'accounts_cstm')).keys()].sort()).toEqual(['id_c', 'rating_c']);
    const meta = await db.knex('fields_meta_data').where({ custom_module: 'Accounts', deleted: 0 });
    expect(meta).toEqual([expect.objectContaining({ id: 'Accountsrating_c', name: 'rating_c', vname: 'LBL_RATING', type: 'int', len: 11 })]);
    expect(Number(meta[0].audited)).toBe(1);

    const account = await records.create(admin, 'Accounts', { name: 'Fresh Co', rating_c: 4 });
    expect(account.rating_c).toBe(4);
    expect(await db.knex('accounts_cstm').where('id_c', account.id)).toEqual([{ id_c: account.id, rating_c: 4 }]);
    await records.update(admin, 'Accounts', account.id, { rating_c: 5 });
    expect((await records.retrieve(admin, 'Accounts', account.id)).rating_c).toBe(5);
    expect((await records.auditLog(admin, 'Accounts', account.id)).map((e) => [e.field_name, e.before_value, e.after_value])).toEqual([['rating_c', '4', '5']]);

    expect((await syncSchema(db, registry)).steps).toEqual([]);
  });

  it('a list of a few fields reads only their columns, and answers them as a full read does (names, relate names, custom fields, filters on unread custom fields)', async () => {
    const { records } = get();
    const account = await records.create(admin, 'Accounts', { name: 'Narrow Co', rating_c: 3, industry: 'Energy' });
    await records.create(admin, 'Contacts', { first_name: 'Nia', last_name: 'Narrow', account_id: account.id, backup_phone_c: '+1 415 555 0101', phone_mobile: '+1 415 555 0199' });
    const same = async (module: string, filter: Array<Record<string, unknown>>, fields: string[]) => {
      const narrow = (await records.list(admin, module, { filter, fields })).records;
      const full = (await records.list(admin, module, { filter })).records;
      expect(full).toHaveLength(1);
      expect(narrow).toEqual(full.map((r) => Object.fromEntries(['id', ...fields].map((f) => [f, r[f]]))));
      return narrow[0];
    };
    expect(await same('Contacts', [{ backup_phone_c: '+1 415 555 0101' }], ['name', 'assigned_user_name', 'account_name', 'phone_mobile', 'email1'])).toMatchObject({ name: 'Nia Narrow', account_name: 'Narrow Co', phone_mobile: '+1 415 555 0199' });
    expect(await same('Accounts', [{ rating_c: 3 }, { name: 'Narrow Co' }], ['rating_c', 'industry'])).toEqual({ id: account.id, rating_c: 3, industry: 'Energy' });
  });

  it('indexes custom phone fields for SMS from the custom table', async () => {
    const { db, registry, records } = get();
    const contact = await records.create(admin, 'Contacts', { last_name: 'Backup', backup_phone_c: '+1 415 555 0100' });
    expect(await new PhoneIndex(db, registry, 'US').rebuild(registry)).toBeGreaterThan(0);
    expect(await db.knex('sms_phone_index').where({ record_id: contact.id }).select('field', 'phone_e164')).toEqual([{ field: 'backup_phone_c', phone_e164: '+14155550100' }]);
  });
}, { customDir });

/** What SuiteCRM leaves behind after Studio added Accounts.region_c: a fields_meta_data row and an accounts_cstm column. */
async function studioLeftovers(db: Database): Promise<void> {
  const { knex } = db;
  await knex.schema.createTable('fields_meta_data', (t) => {
    t.string('id', 255).primary();
    for (const name of ['name', 'vname', 'comments', 'help', 'custom_module', 'type']) t.string(name, 255);
    t.integer('len');
    t.boolean('required').defaultTo(false);
    t.string('default_value', 255);
    t.dateTime('date_modified');
    t.boolean('deleted').defaultTo(false);
    t.boolean('audited').defaultTo(false);
    t.boolean('massupdate').defaultTo(false);
    t.smallint('duplicate_merge').defaultTo(0);
    t.boolean('reportable').defaultTo(true);
    t.string('importable', 255);
    for (const name of ['ext1', 'ext2', 'ext3']) t.string(name, 255).defaultTo('');
    t.text('ext4');
  });
  await knex('fields_meta_data').insert([
    { id: 'Accountsregion_c', name: 'region_c', vname: 'LBL_REGION', custom_module: 'Accounts', type: 'varchar', len: 100, required: 0, default_value: null, date_modified: '2026-01-01 00:00:00', deleted: 0, audited: 0, massupdate: 0, duplicate_merge: 0, reportable: 1, importable: 'true' },
    { id: 'Accountsold_c', name: 'old_c', vname: 'LBL_OLD', custom_module: 'Accounts', type: 'varchar', len: 10, deleted: 1 },
  ]);
  await knex.schema.createTable('accounts_cstm', (t) => {
    t.specificType('id_c', 'char(36)').primary();
    t.string('region_c', 100).nullable();
  });
}

describeEachKind('custom fields in a database SuiteCRM\'s Studio extended', async (db) => {
  await studioLeftovers(db);
  const crm = await createCrm({ database: db, customDir, logger: silentLogger, adminPassword: 'secret-admin', secret: 'test-secret', plugins: false });
  const listening = await startServer(crm);
  return { value: client(crm, listening.url), stop: async () => { await listening.close(); await crm.close(); } };
}, (get: () => TestServer) => {
  let token = '';
  let session = '';
  const api = (method: string, url: string, body?: unknown) => get().call(method, `/rest/v10${url}`, { token, body });
  const v4 = (method: string, data: unknown) => get().v4(method, data);

  beforeAll(async () => {
    token = await get().login('admin', 'secret-admin');
    session = (await v4('login', { user_auth: { user_name: 'admin', password: md5Hex('secret-admin') }, application_name: 'tests' })).id;
  });

  it('adds the Studio field to the module and keeps rows and columns SuiteCRM made', async () => {
    const { engine } = get().crm;
    const accounts = engine.registry.module('Accounts');
    expect(accounts.fields.region_c).toMatchObject({ type: 'varchar', len: 100, source: 'custom_fields', vname: 'LBL_REGION' });
    expect(accounts.fields.old_c).toBeUndefined();
    expect([...(await engine.db.dialect.columns(engine.db.knex, 'accounts_cstm')).keys()].sort()).toEqual(['id_c', 'rating_c', 'region_c']);
    const meta = await engine.db.knex('fields_meta_data').where('custom_module', 'Accounts').orderBy('id').select('id', 'custom_module', 'type', 'deleted');
    expect(meta.map((r) => [r.id, r.custom_module, r.type, Number(r.deleted)])).toEqual([
      ['Accountsold_c', 'Accounts', 'varchar', 1], ['Accountsrating_c', 'Accounts', 'int', 0], ['Accountsregion_c', 'Accounts', 'varchar', 0],
    ]);
  });

  it('creates, updates and reads custom fields through v10 and v4_1, stored in accounts_cstm', async () => {
    const { knex } = get().crm.engine.db;
    const created = await api('POST', '/Accounts', { name: 'Cstm Alpha', rating_c: 3, region_c: 'North' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'Cstm Alpha', rating_c: 3, region_c: 'North' });
    expect(await knex('accounts_cstm').where('id_c', created.body.id).first()).toEqual({ id_c: created.body.id, rating_c: 3, region_c: 'North' });

    const updated = await api('PUT', `/Accounts/${created.body.id}`, { region_c: 'South' });
    expect(updated.body).toMatchObject({ rating_c: 3, region_c: 'South' });

    const legacy = await v4('set_entry', { session, module_name: 'Accounts', name_value_list: [{ name: 'name', value: 'Cstm Beta' }, { name: 'rating_c', value: '7' }, { name: 'region_c', value: 'East' }] });
    await v4('set_entry', { session, module_name: 'Accounts', name_value_list: { id: legacy.id, rating_c: '1' } });
    const entry = await v4('get_entry', { session, module_name: 'Accounts', id: legacy.id, select_fields: ['name', 'rating_c', 'region_c'] });
    expect(entry.entry_list[0].name_value_list).toMatchObject({ rating_c: { value: '1' }, region_c: { value: 'East' } });
    expect((await api('GET', `/Accounts/${legacy.id}`)).body).toMatchObject({ rating_c: 1, region_c: 'East' });
    expect(await knex('accounts_cstm').where('id_c', legacy.id).first()).toEqual({ id_c: legacy.id, rating_c: 1, region_c: 'East' });
  });

  it('filters and sorts on custom fields with v10 filters and v4_1 queries on accounts_cstm', async () => {
    await api('POST', '/Accounts', { name: 'Cstm Gamma', rating_c: 9, region_c: 'North' });
    const filtered = await api('POST', '/Accounts/filter', { filter: [{ name: { $starts: 'Cstm' } }, { rating_c: { $gte: 2 } }], order_by: 'rating_c:desc', fields: 'name,rating_c' });
    expect(filtered.body.records.map((r: { name: string }) => r.name)).toEqual(['Cstm Gamma', 'Cstm Alpha']);
    const byRegion = await api('GET', `/Accounts?filter[0][region_c]=North&order_by=name:asc&fields=name`);
    expect(byRegion.body.records.map((r: { name: string }) => r.name)).toEqual(['Cstm Gamma']);

    const list = await v4('get_entry_list', { session, module_name: 'Accounts', query: "accounts.name LIKE 'Cstm%' AND accounts_cstm.rating_c > 0", order_by: 'accounts_cstm.rating_c ASC', offset: 0, select_fields: ['name', 'rating_c'], max_results: 10 });
    expect(list.entry_list.map((e: { name_value_list: { name: { value: string } } }) => e.name_value_list.name.value)).toEqual(['Cstm Beta', 'Cstm Alpha', 'Cstm Gamma']);
    const count = await v4('get_entries_count', { session, module_name: 'Accounts', query: "accounts_cstm.region_c = 'North'", deleted: 0 });
    expect(count.result_count).toBe('1');
  });

  it('reads nulls for a record without a _cstm row (written by SuiteCRM before the field existed) and adds the row on update', async () => {
    const { knex } = get().crm.engine.db;
    const created = await api('POST', '/Accounts', { name: 'No Cstm Row' });
    await knex('accounts_cstm').where('id_c', created.body.id).delete();
    const read = await api('GET', `/Accounts/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ name: 'No Cstm Row', rating_c: null, region_c: null });
    const related = await api('GET', `/Accounts?filter[0][name]=No Cstm Row&fields=name,rating_c`);
    expect(related.body.records).toEqual([expect.objectContaining({ rating_c: null })]);
    await api('PUT', `/Accounts/${created.body.id}`, { region_c: 'West' });
    expect(await knex('accounts_cstm').where('id_c', created.body.id).first()).toEqual({ id_c: created.body.id, rating_c: null, region_c: 'West' });
  });

  it('brings custom values back with a restored record and through links', async () => {
    const created = await api('POST', '/Accounts', { name: 'Cstm Restore', rating_c: 2 });
    const contact = await api('POST', '/Contacts', { last_name: 'Linked', account_id: created.body.id });
    const linked = await api('GET', `/Contacts/${contact.body.id}/link/accounts?fields=name,rating_c`);
    expect(linked.body.records).toEqual([expect.objectContaining({ name: 'Cstm Restore', rating_c: 2 })]);
    const { records } = get().crm.engine;
    await records.delete(admin, 'Accounts', created.body.id);
    expect((await records.restore(admin, 'Accounts', created.body.id)).rating_c).toBe(2);
  });
});

describeEachDatabase('custom fields an older Cane kept in the module table', (get) => {
  it('starts accounts_cstm with the values found in accounts', async () => {
    const { db } = get();
    await (await createEngine({ database: db, customDir: '/nonexistent', logger: silentLogger })).close();
    await db.knex.schema.alterTable('accounts', (t) => { t.integer('rating_c'); });
    await db.knex('accounts').insert({ id: 'older-cane-1', name: 'Older Co', deleted: 0, rating_c: 8 });
    const engine = await createEngine({ database: db, customDir, logger: silentLogger });
    try {
      expect(engine.syncPlan?.steps.filter((s) => s.action === 'copy custom values').map((s) => s.detail)).toEqual(['rating_c from accounts']);
      expect((await engine.records.retrieve(admin, 'Accounts', 'older-cane-1')).rating_c).toBe(8);
    } finally {
      await engine.close();
    }
  });
});
