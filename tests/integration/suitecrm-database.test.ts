import { createCrm, type Crm } from '../../core/app/create-crm';
import { openDatabase } from '../../core/db/connection';
import { silentLogger } from '../../core/logger';
import { md5Hex } from '../../core/security/passwords';
import { client, startServer, type TestServer } from '../helpers/crm';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import suite from '../fixtures/suitecrm-7.14-columns.json';

/**
 * Issue 13: Cane on a database SuiteCRM created. The tables are made from SuiteCRM 7.14's column
 * definitions (the compatibility fixture) before Cane starts; Cane only adds its own tables and
 * reads and writes records, links and e-mail addresses in SuiteCRM's rows.
 */
for (const kind of databaseKinds) {
  describe(`Cane on a SuiteCRM 7.14 database [${kind}]`, () => {
    let scratch: TestDatabase;
    let crm: Crm;
    let server: TestServer;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      scratch = await createTestDatabase(kind);
      const db = openDatabase(scratch.url);
      for (const [table, columns] of Object.entries(suite.tables)) {
        const defs = columns.map((c) => {
          // SQLite (which SuiteCRM never runs on) cannot number a column that is not the key: Cane numbers it there
          const autoIncrement = c.autoIncrement && kind === 'mysql' ? ' AUTO_INCREMENT UNIQUE' : '';
          const notNull = c.notNull && !(c.autoIncrement && kind === 'sqlite');
          return `${c.name} ${c.type}${notNull ? ' NOT NULL' : ''}${c.default !== null ? ` DEFAULT '${c.default}'` : ''}${autoIncrement}`;
        });
        await db.knex.raw(`CREATE TABLE ${table} (${defs.join(', ')}, PRIMARY KEY (id))`);
      }
      await db.knex.raw('CREATE TABLE upgrade_history (id char(36) NOT NULL, filename varchar(255), PRIMARY KEY (id))');
      await db.close();
      crm = await createCrm({ databaseUrl: scratch.url, customDir: '/nonexistent', logger: silentLogger, adminPassword: 'suite-admin', secret: 'test-secret', plugins: false, sms: false });
      const listening = await startServer(crm);
      server = client(crm, listening.url);
      stop = async () => { await listening.close(); await crm.close(); };
    });
    afterAll(async () => {
      await stop?.();
      await scratch?.cleanup();
    });

    it('adds only its own tables and the nullable columns it documents, never changes SuiteCRM\'s', () => {
      // (this fixture has SuiteCRM's columns but not its indexes, which Cane adds)
      const steps = crm.engine.syncPlan!.steps.filter((s) => s.action !== 'add index');
      const touched = steps.filter((s) => s.table in suite.tables);
      expect(touched.map((s) => `${s.table}: ${s.action} ${s.detail ?? ''}`.trim())).toEqual([
        'aow_processed: add column resume_at datetime',
        'aow_processed: add column resume_from int(11)',
        'prospect_lists: add column dynamic_filter longtext',
      ]);
      expect(crm.engine.jobs.table).toBe('cane_job_queue');
    });

    it('writes records, links and e-mail addresses into SuiteCRM\'s rows and reads them back on every API', async () => {
      const token = await server.login('admin', 'suite-admin');
      const account = await server.call('POST', '/rest/v10/Accounts', { token, body: { name: 'Shared Co', email1: 'office@shared.example' } });
      expect(account.status).toBe(200);
      const contact = await server.call('POST', '/rest/v10/Contacts', { token, body: { last_name: 'Shared', account_id: account.body.id, email1: 'person@shared.example' } });
      expect(contact.status).toBe(200);
      const deal = await server.call('POST', '/rest/v10/Opportunities', { token, body: { name: 'Shared deal', amount: '100', date_closed: '2026-12-31', sales_stage: 'Prospecting', account_id: account.body.id } });
      expect(deal.status).toBe(200);
      const campaign = await server.call('POST', '/rest/v10/Campaigns', { token, body: { name: 'Shared campaign', status: 'Planning', campaign_type: 'SMS', end_date: '2026-12-31', frequency: 'Weekly' } });
      expect(campaign.status).toBe(200);
      const knex = crm.engine.db.knex;
      // as SuiteCRM's Campaign save writes them: the system currency, and no frequency unless a newsletter
      expect(await knex('campaigns').where('id', campaign.body.id).first('currency_id', 'frequency')).toEqual({ currency_id: '-99', frequency: '' });
      expect(await knex('accounts_contacts').where({ account_id: account.body.id, contact_id: contact.body.id, deleted: 0 }).first()).toBeTruthy();
      expect(await knex('opportunities').where('id', deal.body.id).first('currency_id', 'amount_usdollar')).toMatchObject({ currency_id: '-99' });
      const rel = await knex('email_addr_bean_rel').where({ bean_id: contact.body.id, bean_module: 'Contacts' }).first();
      expect(await knex('email_addresses').where('id', rel.email_address_id).first('email_address_caps')).toEqual({ email_address_caps: 'PERSON@SHARED.EXAMPLE' });
      const session = (await server.v4('login', { user_auth: { user_name: 'admin', password: md5Hex('suite-admin') }, application_name: 't' })).id;
      const entry = await server.v4('get_entry', { session, module_name: 'Contacts', id: contact.body.id, select_fields: ['last_name', 'account_name', 'email1'] });
      expect(entry.entry_list[0].name_value_list).toMatchObject({ account_name: { value: 'Shared Co' }, email1: { value: 'person@shared.example' } });
    });
  });
}
