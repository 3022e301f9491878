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
