import { SYSTEM } from '../../core/records/actor';
import { postSignedForm } from '../helpers/fake-twilio';
import { pluginDir } from '../helpers/plugins';
import { describeSms, PUBLIC_URL } from '../helpers/sms';

// Records every event it receives as a Note-like Lead: "<event> <module> <id> <detail>".
const dir = pluginDir([{
  manifest: {
    id: 'test.listener',
    hooks: [
      { module: 'SMS', event: 'sms.status', handler: 'seen' },
      { module: 'SMS', event: 'sms.inbound', handler: 'seen' },
      { module: 'Campaigns', event: 'campaign.launch', handler: 'seen' },
      { module: 'Leads', event: 'lead.convert', handler: 'seen' },
      { module: 'Accounts', event: 'after_restore', handler: 'seen' },
      { module: 'Users', event: 'after_save', handler: 'seen' },
    ],
    permissions: ['write:Leads'],
  },
  code: `definePlugin({ hooks: { async seen(ctx) {
    const e = ctx.event;
    const detail = e.event === 'sms.status' ? e.changes.status.before + '>' + e.record.status
      : e.event === 'campaign.launch' ? e.record.members + ' members, job ' + (e.record.job_id ? 'queued' : 'missing')
      : e.event === 'lead.convert' ? 'contact ' + e.record.contact_id + ' account ' + e.record.account_id + ' by ' + e.actorId
      : e.event === 'after_save' ? 'keys ' + Object.keys(e.record).filter((k) => /hash/.test(k)).join(',') + ' actor ' + e.actorId
      : e.record.direction || e.record.deleted;
    await ctx.crm.records.create('Leads', { last_name: 'event', description: [e.event, e.module, e.id, detail].join(' ') });
  } } });`,
}]);

describeSms('plugin events beyond saves: sms.status, sms.inbound, campaign.launch, lead.convert, after_restore', (get) => {
  const seen = async () => (await get().crm.records.list(SYSTEM, 'Leads', { filter: [{ last_name: 'event' }], maxNum: 100 })).records.map((l) => String(l.description));
  const settle = async () => { for (let i = 0; i < 5; i++) await get().drain(); };

  test('a delivery callback reaches sms.status hooks with the status it left and reached', async () => {
    const res = await get().server.call('POST', '/rest/v10/SMS/send', { token: get().token, body: { to: '+14155550301', body: 'status events' } });
    const id = res.body.records[0].id;
    await settle();
    const sid = (await get().crm.engine.db.knex('sms').where('id', id).first()).provider_message_id;
    await postSignedForm(`${get().server.url}/webhooks/twilio/status`, { MessageSid: sid, MessageStatus: 'delivered' }, { publicUrl: `${PUBLIC_URL}/webhooks/twilio/status` });
    await settle();
    expect(await seen()).toEqual(expect.arrayContaining([`sms.status SMS ${id} accepted>delivered`]));
  });

  test('a received message reaches sms.inbound hooks', async () => {
    await postSignedForm(`${get().server.url}/webhooks/twilio/inbound`, { MessageSid: `SM${'9'.repeat(32)}`, From: '+14155550302', To: '+15005550006', Body: 'hello' }, { publicUrl: `${PUBLIC_URL}/webhooks/twilio/inbound` });
    await settle();
    const inbound = await get().crm.engine.db.knex('sms').where({ direction: 'inbound', from_number: '+14155550302' }).first();
    expect(await seen()).toContain(`sms.inbound SMS ${inbound.id} inbound`);
  });

  test('a campaign launch reaches campaign.launch hooks with its job', async () => {
    const { crm } = get();
    const template = await crm.records.create(SYSTEM, 'SMSTemplates', { name: 'Event test', body: 'Hi {{first_name}}', template_type: 'marketing' });
    const campaign = await crm.records.create(SYSTEM, 'Campaigns', { name: 'Event SMS', campaign_type: 'SMS', status: 'Active', end_date: '2026-12-31' });
    const list = await crm.records.create(SYSTEM, 'ProspectLists', { name: 'Event list', list_type: 'default' });
    const contact = await crm.records.create(SYSTEM, 'Contacts', { first_name: 'Eva', last_name: 'Events', phone_mobile: '+14155550303' });
    await crm.records.link(SYSTEM, 'Campaigns', campaign.id, 'prospectlists', list.id);
    await crm.records.link(SYSTEM, 'ProspectLists', list.id, 'contacts', contact.id);
    await crm.sms!.campaigns.launch({ type: 'user', id: '1', isAdmin: true }, campaign.id, { template_id: template.id });
    await settle();
    expect(await seen()).toContain(`campaign.launch Campaigns ${campaign.id} 1 members, job queued`);
  });

  test('a lead conversion reaches lead.convert hooks with the records it made', async () => {
    const { server, token } = get();
    const lead = (await server.call('POST', '/rest/v10/Leads', { token, body: { last_name: 'Convertible', account_name: 'Event Co' } })).body;
    const res = await server.call('POST', `/rest/v10/Leads/${lead.id}/convert`, { token, body: { modules: { Contacts: {}, Accounts: {} } } });
    expect(res.status).toBe(200);
    const made = Object.fromEntries(res.body.modules.map((r: { _module: string; id: string }) => [r._module, r.id]));
    await settle();
    expect(await seen()).toContain(`lead.convert Leads ${lead.id} contact ${made.Contacts} account ${made.Accounts} by 1`);
  });

  test('a restored record reaches after_restore hooks; user events never carry the password hash', async () => {
    const { crm } = get();
    const account = await crm.records.create(SYSTEM, 'Accounts', { name: 'Restored' });
    await crm.records.delete(SYSTEM, 'Accounts', account.id);
    await crm.records.restore(SYSTEM, 'Accounts', account.id);
    await crm.records.update(SYSTEM, 'Users', '1', { title: 'Boss' });
    await settle();
    const events = await seen();
    expect(events).toContain(`after_restore Accounts ${account.id} false`);
    expect(events).toContain('after_save Users 1 keys  actor 1');
  });
}, { plugins: { dirs: [{ dir, builtIn: false }] } });
