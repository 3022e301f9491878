import { PluginTestKit } from '../../core/plugins/test-kit';
import { pluginDir } from '../helpers/plugins';

const dir = pluginDir([{
  manifest: { id: 'test.kit-subject', hooks: [{ module: 'Leads', event: 'after_save', handler: 'welcome' }], permissions: ['send:sms', 'read:Leads'] },
  code: `definePlugin({ hooks: { async welcome(ctx) {
    if (ctx.event.isUpdate) return;
    await ctx.crm.sms.send({ to: ctx.event.record.phone_mobile, body: 'Welcome ' + ctx.event.record.last_name + ' at ' + ctx.now().toISOString() });
    await ctx.crm.records.find('Accounts', {});
  } } });`,
}]);

describe('plugin test kit', () => {
  it('runs a plugin on the real runtime with an SMS spy, a fixed clock and the host calls it made', async () => {
    const kit = await PluginTestKit.create(`${dir}/test.kit-subject`, { now: '2026-05-05T05:05:05Z' });
    try {
      const { record } = await kit.save('Leads', { last_name: 'Kit', phone_mobile: '+14155550123' });
      expect(record?.last_name).toBe('Kit');
      expect(await kit.runJobs()).toBe(1);
      expect(kit.smsSent).toEqual([{ to: '+14155550123', body: 'Welcome Kit at 2026-05-05T05:05:05.000Z' }]);
      expect((await kit.hostCalls()).map((c) => `${c.capability}:${c.outcome}`)).toEqual(['sms.send:ok', 'records.find:denied']);
      expect((await kit.denied())[0].message).toBe("permission 'read:Accounts' is not in the manifest of test.kit-subject");
    } finally {
      await kit.close();
    }
  }, 30_000);
});

const scheduled = pluginDir([
  {
    manifest: { id: 'test.nightly', schedules: [{ handler: 'tidy', cron: '0 3 * * *' }], permissions: ['schedule', 'write:Leads'] },
    code: `definePlugin({ hooks: { async tidy(ctx) { await ctx.crm.records.create('Leads', { last_name: 'Nightly ' + ctx.event.record.fired_at }); } } });`,
  },
  { manifest: { id: 'test.unscheduled', schedules: [{ handler: 'tidy', cron: '0 3 * * *' }] }, code: 'definePlugin({ hooks: { tidy() {} } });' },
]);

describe('plugin schedules', () => {
  it('queue one job per firing minute and run the handler with the scheduled limits', async () => {
    const kit = await PluginTestKit.create(`${scheduled}/test.nightly`);
    try {
      const hook = kit.host.hook('test.nightly', 'schedule.tidy')!;
      const at = new Date('2026-05-06T03:00:00Z');
      const [a, b] = await Promise.all([kit.host.fireSchedule(hook, at), kit.host.fireSchedule(hook, at)]);
      expect(a).toBe(b);
      expect(await kit.runJobs()).toBe(1);
      expect((await kit.records.list('Leads')).map((l) => l.last_name)).toEqual(['Nightly 2026-05-06 03:00:00']);
    } finally {
      await kit.close();
    }
  }, 30_000);

  it('refuses schedules without the schedule permission', async () => {
    await expect(PluginTestKit.create(`${scheduled}/test.unscheduled`)).rejects.toThrow("plugin refused: it declares schedules but not the 'schedule' permission");
  }, 30_000);
});

const listing = pluginDir([{
  manifest: {
    id: 'test.lister', hooks: [{ module: 'Contacts', event: 'after_save', handler: 'enrol' }], permissions: ['lists:write', 'read:ProspectLists'],
    settings: { properties: { list_name: { type: 'string', default: 'Newsletter' }, api_key: { type: 'string', secret: true } }, required: ['api_key'] },
  },
  code: `definePlugin({ hooks: { async enrol(ctx) {
    if (ctx.settings.api_key !== undefined) throw new Error('a secret setting reached the isolate');
    const [list] = await ctx.crm.records.find('ProspectLists', { filter: [{ name: ctx.settings.list_name }] });
    await ctx.crm.lists.addMembers(list.id, [{ module: 'Contacts', id: ctx.event.id }]);
    return ctx.crm.templates.render('Hello {{name}}', { name: 'there' });
  } } });`,
}]);

describe('plugin settings and lists', () => {
  it('checks settings against the manifest schema, keeps secrets out and adds list members', async () => {
    await expect(PluginTestKit.create(`${listing}/test.lister`)).rejects.toThrow("plugin refused: settings: 'api_key' is required");
    const kit = await PluginTestKit.create(`${listing}/test.lister`, { settings: { api_key: 'secret-value' } });
    try {
      const list = await kit.records.create('ProspectLists', { name: 'Newsletter', list_type: 'default' });
      const { record } = await kit.save('Contacts', { last_name: 'Subscriber' });
      expect(await kit.runJobs()).toBe(1);
      expect(await kit.faults()).toEqual([]);
      const members = await kit.engine.records.listRelated({ type: 'system', id: '1' }, 'ProspectLists', list.id, 'contacts');
      expect(members.records.map((m) => m.id)).toEqual([record!.id]);
    } finally {
      await kit.close();
    }
  }, 30_000);
});
