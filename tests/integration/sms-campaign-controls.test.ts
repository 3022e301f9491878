import { SYSTEM } from '../../core/records/actor';
import { fixedClock } from '../helpers/engine';
import { describeSms } from '../helpers/sms';
import { session } from '../helpers/ui-session';

const clock = fixedClock('2026-12-01T15:00:00Z');

describeSms('SMS campaign controls: scheduled launch, pause, resume, cancel, status', (get) => {
  // The clock moves by hours here, so each test signs in afresh.
  let token = '';
  beforeEach(async () => { token = await get().server.login('admin', 'secret-admin'); });
  const api = async (method: string, path: string, body?: unknown) => get().server.call(method, `/rest/v10${path}`, { token, body });
  const records = () => get().crm.records;
  const status = async (id: string) => (await records().retrieve(SYSTEM, 'Campaigns', id)).status;
  const sent = (prefix: string) => get().fake.messages.filter((m) => m.body.startsWith(prefix)).length;

  /** Runs jobs one at a time until the campaign's messages are queued (the campaign job), before any is dispatched. */
  async function queueMessages(campaign: string) {
    for (let i = 0; i < 50; i++) {
      if (await get().crm.engine.db.knex('sms').where({ campaign_id: campaign }).first('id')) return;
      await get().crm.engine.jobs.runOnce(1);
    }
    throw new Error('the campaign job did not queue its messages');
  }

  async function campaignTo(name: string, people: number): Promise<{ campaign: string; template: string }> {
    const template = (await records().create(SYSTEM, 'SMSTemplates', { name, body: `${name}: hello {{last_name}}`, template_type: 'marketing' })).id;
    const campaign = (await records().create(SYSTEM, 'Campaigns', { name, campaign_type: 'SMS', status: 'Planning', end_date: '2027-12-31' })).id;
    const list = (await records().create(SYSTEM, 'ProspectLists', { name: `${name} list`, list_type: 'default' })).id;
    await records().link(SYSTEM, 'Campaigns', campaign, 'prospectlists', list);
    for (let i = 0; i < people; i++) {
      const c = await records().create(SYSTEM, 'Contacts', { last_name: `${name} ${i}`, phone_mobile: `+1415556${name.length}${String(i).padStart(3, '0')}` });
      await records().link(SYSTEM, 'ProspectLists', list, 'contacts', c.id);
    }
    return { campaign, template };
  }

  test('a campaign scheduled for later waits, In Queue, and sends when its time has come, then is Complete', async () => {
    const { campaign, template } = await campaignTo('Later', 3);
    const at = new Date(clock().getTime() + 2 * 3600e3);
    const launched = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template, send_at: at.toISOString() });
    expect(launched).toMatchObject({ status: 202, body: { members: 3, send_at: at.toISOString().replace('T', ' ').slice(0, 19) } });
    expect(await status(campaign)).toBe('In Queue');
    await get().drain();
    expect(sent('Later:')).toBe(0);
    clock.advance(2 * 3600 + 60);
    await get().drain();
    expect(sent('Later:')).toBe(3);
    expect(await status(campaign)).toBe('Complete');
  });

  test('a paused campaign holds its queued messages; resumed, they go out', async () => {
    const { campaign, template } = await campaignTo('Paused', 4);
    await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template });
    expect(await status(campaign)).toBe('Sending');
    // the campaign job queues the messages; pause before they are dispatched
    await queueMessages(campaign);
    expect((await api('POST', `/Campaigns/${campaign}/sms/pause`)).body).toEqual({ state: 'paused' });
    expect(await status(campaign)).toBe('Inactive');
    await get().drain();
    expect(sent('Paused:')).toBe(0);
    expect((await api('POST', `/Campaigns/${campaign}/sms/pause`)).body.error_message).toMatch(/send is paused; only a send that is scheduled or sending can be paused/);
    expect((await api('POST', `/Campaigns/${campaign}/sms/resume`)).body).toMatchObject({ state: 'sending' });
    clock.advance(61);
    await get().drain();
    expect(sent('Paused:')).toBe(4);
    expect(await status(campaign)).toBe('Complete');
  });

  test('a cancelled campaign cancels what it has not sent; sent messages stay', async () => {
    const { campaign, template } = await campaignTo('Cancel', 3);
    await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template });
    await queueMessages(campaign);
    const ids = (await get().crm.engine.db.knex('sms').where({ campaign_id: campaign }).orderBy('id').select('id')).map((r: { id: string }) => r.id);
    await get().crm.sms!.dispatcher.run({ id: ids[0] }); // one goes out before the cancel
    const res = await api('POST', `/Campaigns/${campaign}/sms/cancel`);
    expect(res.body).toEqual({ state: 'cancelled', cancelled: 2 });
    await get().drain();
    const rows = await get().crm.engine.db.knex('sms').where({ campaign_id: campaign });
    expect(rows.map((r: { status: string }) => r.status).sort()).toEqual(['accepted', 'canceled', 'canceled']);
    expect(sent('Cancel:')).toBe(1);
    expect(await status(campaign)).toBe('Inactive');
    // a cancelled campaign can be launched again: only members not reached yet get a message
    await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template });
    await get().drain();
    expect(await status(campaign)).toBe('Complete');
  });

  test('bad schedules and controls are refused naming the field', async () => {
    const { campaign, template } = await campaignTo('Bad', 1);
    const past = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template, send_at: '2020-01-01 00:00:00' });
    expect(past.status).toBe(422);
    expect(past.body.fields).toMatchObject([{ field: 'send_at', rule: 'future' }]);
    const garbage = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template, send_at: 'tomorrow-ish' });
    expect(garbage.body.fields).toMatchObject([{ field: 'send_at', rule: 'datetime' }]);
    const far = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template, send_at: '2030-01-01 00:00:00' });
    expect(far.body.fields).toMatchObject([{ field: 'send_at', rule: 'range' }]);
    expect((await api('POST', `/Campaigns/${campaign}/sms/resume`)).body.error_message).toMatch(/send is not started; only a send that is paused can be resumed/);
    await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template, send_at: new Date(clock().getTime() + 86400e3).toISOString() });
    const twice = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template });
    expect(twice.body.fields).toMatchObject([{ field: 'status', rule: 'running' }]);
  });

  test('the campaign page confirms a send with its reach and offers pause, resume and cancel', async () => {
    const { campaign, template } = await campaignTo('Page', 2);
    const ui = session(get().server.url);
    const csrf = await ui.login('admin', 'secret-admin');
    const confirm = await ui.request('POST', `/ui/Campaigns/${campaign}/sms/launch`, { csrf, template_id: template, test: '0' });
    expect(confirm.status).toBe(200);
    expect(confirm.text).toMatch(/It goes to <strong>2<\/strong> members/);
    expect(await status(campaign)).toBe('Planning'); // nothing launched before the confirmation
    const at = new Date(clock().getTime() + 3600e3).toISOString().slice(0, 16);
    const launched = await ui.request('POST', `/ui/Campaigns/${campaign}/sms/launch`, { csrf, template_id: template, test: '0', confirmed: '1', send_at: at });
    expect(launched.status).toBe(302);
    expect(decodeURIComponent(launched.location)).toMatch(/Campaign queued for 2 members to start at .* UTC/);
    const page = await ui.request('GET', `/ui/Campaigns/${campaign}/sms`);
    expect(page.text).toMatch(/data-campaign-run>scheduled for/);
    const paused = await ui.request('POST', `/ui/Campaigns/${campaign}/sms/pause`, { csrf });
    expect(decodeURIComponent(paused.location)).toMatch(/The campaign's send is paused\./);
    const cancelled = await ui.request('POST', `/ui/Campaigns/${campaign}/sms/cancel`, { csrf });
    expect(decodeURIComponent(cancelled.location)).toMatch(/The campaign's send is cancelled\. 0 unsent messages cancelled\./);
    const refused = await ui.request('POST', `/ui/Campaigns/${campaign}/sms/resume`, { csrf });
    expect(refused.status).toBe(422);
    expect(refused.text).toMatch(/only a send that is paused can be resumed/);
  });
}, { clock });
