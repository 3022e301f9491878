import { serialize } from 'php-serialize';
import { createCrm, type Crm } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { openDatabase } from '../../core/db/connection';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases';
import { fixedClock } from '../helpers/engine';

const suite = (value: unknown) => Buffer.from(serialize(value), 'utf8').toString('base64');

for (const kind of databaseKinds) {
  describe(`a workflow Delay survives a restart [${kind}]`, () => {
    let database: TestDatabase;
    let crm: Crm | undefined;
    const clock = fixedClock('2026-11-02T09:00:00Z');
    const open = () => createCrm({ databaseUrl: database.url, customDir: '/nonexistent', logger: silentLogger, clock, adminPassword: 'secret-admin', secret: 'test-secret', sms: false, plugins: { installedDir: '/nonexistent' } });
    beforeAll(async () => { database = await createTestDatabase(kind); });
    afterAll(async () => {
      await crm?.close();
      await database?.cleanup();
    });

    const settle = async (c: Crm) => { for (let i = 0; i < 4; i++) await c.plugins!.drain(); };
    const resume = async (c: Crm) => {
      await c.plugins!.fireSchedule(c.plugins!.hook('org.cane.workflows', 'schedule.resumeDelayed')!, clock());
      await settle(c);
    };

    it('runs the actions after the delay once the clock has moved, in a new process', async () => {
      crm = await open();
      const flow = await crm.records.create(SYSTEM, 'AOW_WorkFlow', { name: 'Follow up tomorrow', flow_module: 'Leads', status: 'Active', run_when: 'On_Save', flow_run_on: 'New_Records' });
      const action = (order: number, name: string, parameters: unknown) => crm!.records.create(SYSTEM, 'AOW_Actions', { aow_workflow_id: flow.id, action_order: order, action: name, parameters: suite(parameters) });
      await action(1, 'ModifyRecord', { field: ['title'], value: ['Step 1'], value_type: ['Value'] });
      await action(2, 'Delay', { amount: '1', unit: 'day' });
      await action(3, 'ModifyRecord', { field: ['title'], value: ['Step 2'], value_type: ['Value'] });
      clock.advance(60);
      const lead = await crm.records.create(SYSTEM, 'Leads', { last_name: 'Patient' });
      await settle(crm);
      expect((await crm.records.retrieve(SYSTEM, 'Leads', lead.id)).title).toBe('Step 1');
      const [run] = (await crm.records.list(SYSTEM, 'AOW_Processed', { filter: [{ aow_workflow_id: flow.id }] })).records;
      expect(run).toMatchObject({ status: 'Pending', resume_at: '2026-11-03 09:01:00', resume_from: 3 });

      // a save while the run waits does not start a second run
      await crm.records.update(SYSTEM, 'Leads', lead.id, { description: 'touched' });
      await settle(crm);
      clock.advance(3600);
      await resume(crm);
      expect((await crm.records.retrieve(SYSTEM, 'Leads', lead.id)).title).toBe('Step 1');

      // restart: a new Cane on the same database, a day later
      await crm.close();
      crm = await open();
      clock.advance(86400);
      await resume(crm);
      expect((await crm.records.retrieve(SYSTEM, 'Leads', lead.id)).title).toBe('Step 2');
      const runs = (await crm.records.list(SYSTEM, 'AOW_Processed', { filter: [{ aow_workflow_id: flow.id }] })).records;
      expect(runs.map((r) => [r.status, r.resume_at ?? null])).toEqual([['Complete', null]]);
      const db = openDatabase(database.url);
      try {
        expect(await db.knex('cane_plugin_state').where({ plugin_id: 'org.cane.workflows' }).where('total_faults', '>', 0)).toEqual([]);
      } finally {
        await db.close();
      }
    }, 60_000);

    it('counts a delay in business hours (Monday to Friday, 09:00-17:00 by default): Friday 16:00 plus 2 is Monday 10:00', async () => {
      clock.set('2026-11-06T16:00:00Z'); // a Friday
      crm ??= await open();
      const flow = await crm.records.create(SYSTEM, 'AOW_WorkFlow', { name: 'Two working hours later', flow_module: 'Contacts', status: 'Active', run_when: 'On_Save', flow_run_on: 'All_Records' });
      await crm.records.create(SYSTEM, 'AOW_Actions', { aow_workflow_id: flow.id, action_order: 1, action: 'Delay', parameters: suite({ amount: '2', unit: 'business_hours' }) });
      await crm.records.create(SYSTEM, 'AOW_Actions', { aow_workflow_id: flow.id, action_order: 2, action: 'ModifyRecord', parameters: suite({ field: ['title'], value: ['Called back'], value_type: ['Value'] }) });
      const contact = await crm.records.create(SYSTEM, 'Contacts', { last_name: 'Weekend' });
      await settle(crm);
      const [run] = (await crm.records.list(SYSTEM, 'AOW_Processed', { filter: [{ aow_workflow_id: flow.id }] })).records;
      expect(run).toMatchObject({ status: 'Pending', resume_at: '2026-11-09 10:00:00' });
      clock.set('2026-11-09T10:00:30Z');
      await resume(crm);
      expect((await crm.records.retrieve(SYSTEM, 'Contacts', contact.id)).title).toBe('Called back');
    }, 60_000);
  });
}
