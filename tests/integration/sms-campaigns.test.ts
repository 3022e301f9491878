import { loginWithRole } from '../helpers/crm';
import { postSignedForm } from '../helpers/fake-twilio';
import { describeSms, PUBLIC_URL } from '../helpers/sms';

describeSms('SMS campaigns to target lists', (get) => {
  const api = async (method: string, path: string, body?: unknown) => get().server.call(method, `/rest/v10${path}`, { token: get().token, body });
  const create = async (module: string, fields: Record<string, unknown>) => {
    const res = await api('POST', `/${module}`, fields);
    expect({ module, status: res.status, body: res.status === 200 ? undefined : res.body }).toEqual({ module, status: 200, body: undefined });
    return res.body.id as string;
  };
  const link = async (module: string, id: string, linkName: string, related: string) => expect((await api('POST', `/${module}/${id}/link/${linkName}/${related}`)).status).toBe(200);
  const status = (sid: string, MessageStatus: string, ErrorCode?: string) =>
    postSignedForm(`${get().server.url}/webhooks/twilio/status`, { MessageSid: sid, MessageStatus, ...(ErrorCode ? { ErrorCode } : {}) }, { publicUrl: `${PUBLIC_URL}/webhooks/twilio/status` });
  const inbound = (From: string, Body: string) =>
    postSignedForm(`${get().server.url}/webhooks/twilio/inbound`, { MessageSid: `SM${From.replace(/\D/g, '').padEnd(32, '7')}`, From, To: '+15005550006', Body }, { publicUrl: `${PUBLIC_URL}/webhooks/twilio/inbound` });

  let campaign: string;
  let template: string;
  const people: Record<string, string> = {};

  beforeAll(async () => {
    template = await create('SMSTemplates', { name: 'Spring offer', body: 'Hi {{first_name}}, spring offer from {{assigned_user.first_name}}: 20% off. Reply STOP to opt out.', template_type: 'marketing' });
    campaign = await create('Campaigns', { name: 'Spring SMS', campaign_type: 'SMS', status: 'Active', end_date: '2026-12-31' });
    const customers = await create('ProspectLists', { name: 'Customers', list_type: 'default' });
    const staff = await create('ProspectLists', { name: 'Staff seed', list_type: 'seed' });
    const exempt = await create('ProspectLists', { name: 'Do not market', list_type: 'exempt' });
    const testers = await create('ProspectLists', { name: 'Testers', list_type: 'test' });
    const unused = await create('ProspectLists', { name: 'Not linked', list_type: 'default' });
    for (const list of [customers, staff, exempt, testers]) await link('Campaigns', campaign, 'prospectlists', list);
    const person = async (key: string, module: string, phone: string | null, lists: string[]) => {
      people[key] = await create(module, { first_name: key, last_name: 'Campaign', phone_mobile: phone });
      for (const list of lists) await link('ProspectLists', list, module.toLowerCase(), people[key]);
    };
    await person('Ann', 'Contacts', '+14155550201', [customers, staff]); // in two lists: one message
    await person('Ben', 'Contacts', '(415) 555-0202', [customers]);
    await person('Cat', 'Leads', '+14155550203', [customers]);
    await person('Dan', 'Prospects', '+14155550204', [staff]);
    await person('Eve', 'Contacts', null, [customers]); // no mobile number
    await person('Fay', 'Leads', '+14155550201', [customers]); // Ann's number: a duplicate
    await person('Gus', 'Contacts', '+14155550207', [customers, exempt]); // exempt
    await person('Hal', 'Contacts', '+14155550208', [customers]); // opted out
    await person('Ivy', 'Contacts', '+14155550209', [testers]);
    await person('Joe', 'Contacts', '+14155550210', [unused]);
    expect((await api('POST', '/SMS/consent', { number: '+14155550208', state: 'opted_out', note: 'asked by phone' })).status).toBe(200);
  });

  test('the overview shows the lists, the members to reach and the text for the first one', async () => {
    const unchosen = await api('GET', `/Campaigns/${campaign}/sms`);
    expect(unchosen.body).toMatchObject({ template: null, preview: null, problems: [{ field: 'template_id', rule: 'required' }] });
    expect(unchosen.body.templates).toEqual(expect.arrayContaining([{ id: template, name: 'Spring offer', template_type: 'marketing' }]));
    const res = await api('GET', `/Campaigns/${campaign}/sms?template_id=${template}`);
    expect(res.status).toBe(200);
    expect(res.body.campaign).toMatchObject({ name: 'Spring SMS', campaign_type: 'SMS' });
    expect(res.body.template).toMatchObject({ id: template, name: 'Spring offer' });
    expect(res.body.lists.map((l: { name: string; list_type: string; members: number }) => [l.name, l.list_type, l.members])).toEqual([
      ['Customers', 'default', 7], ['Do not market', 'exempt', 1], ['Staff seed', 'seed', 2], ['Testers', 'test', 1],
    ]);
    // Ann once, Gus exempt: Ann, Ben, Cat, Dan, Eve, Fay, Hal.
    expect(res.body.members).toBe(7);
    expect(res.body.test_members).toBe(1);
    expect(res.body.problems).toEqual([]);
    expect(res.body.preview.body).toMatch(/^Hi \w+, spring offer from \w*: 20% off\. Reply STOP to opt out\.$/);
    expect(res.body.results).toMatchObject({ messages: 0, delivery_rate: null });
  });

  test('a launch that cannot work is refused naming the field', async () => {
    const bare = await create('Campaigns', { name: 'Radio spot', campaign_type: 'Radio', status: 'Planning', end_date: '2026-12-31' });
    const res = await api('POST', `/Campaigns/${bare}/sms/launch`, {});
    expect(res.status).toBe(422);
    expect(res.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['campaign_type', 'prospectlists', 'template_id']);
    const unknown = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: 'no-such-template' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.fields).toEqual([expect.objectContaining({ field: 'template_id', rule: 'exists' })]);
    const bad = await api('POST', `/Campaigns/${campaign}/sms/launch`, { test: 'yes', when: 'now' });
    expect(bad.status).toBe(422);
    expect(bad.body.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['test']));
    expect((await api('POST', `/Campaigns/nope/sms/launch`, {})).status).toBe(404);
  });

  test('a test send reaches only the test lists, every time, and stays out of the results', async () => {
    const { fake, drain } = get();
    for (let i = 0; i < 2; i++) {
      const res = await api('POST', `/Campaigns/${campaign}/sms/launch`, { test: true, template_id: template });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ members: 1, test: true });
      await drain();
    }
    expect(fake.messages.map((m) => m.to)).toEqual(['+14155550209', '+14155550209']);
    expect(fake.messages[0].body).toBe(`Hi Ivy, spring offer from ${fake.messages[0].body.split('from ')[1].split(':')[0]}: 20% off. Reply STOP to opt out.`);
    expect((await api('GET', `/Campaigns/${campaign}/sms`)).body.results.messages).toBe(0);
  });

  test('the launch reaches each number once, logs every target, and a relaunch sends nothing again', async () => {
    const { fake, drain, crm } = get();
    const before = fake.messages.length;
    const res = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ members: 7, test: false });
    await drain();
    const sent = fake.messages.slice(before);
    expect(sent.map((m) => m.to).sort()).toEqual(['+14155550201', '+14155550202', '+14155550203', '+14155550204']);
    expect(sent.find((m) => m.to === '+14155550204')!.body).toMatch(/^Hi Dan,/);

    const log = await crm.engine.db.knex('campaign_log').where('campaign_id', campaign).orderBy('target_id');
    const byPerson = Object.fromEntries(Object.entries(people).map(([name, id]) => [name, log.filter((r: { target_id: string }) => r.target_id === id).map((r: { activity_type: string; more_information: string }) => `${r.activity_type}:${r.more_information}`)]));
    expect(byPerson).toEqual({
      Ann: ['targeted:+14155550201'], Ben: ['targeted:+14155550202'], Cat: ['targeted:+14155550203'], Dan: ['targeted:+14155550204'],
      Eve: ['invalid number:no_number'], Fay: ['blocked:duplicate'], Gus: [], Hal: ['blocked:opted_out'], Ivy: [], Joe: [],
    });
    const annRow = log.find((r: { target_id: string }) => r.target_id === people.Ann);
    expect(annRow).toMatchObject({ related_type: 'SMS', target_type: 'Contacts' });
    expect(annRow.list_id).toBeTruthy();
    // The same rows are each target's campaign log through SuiteCRM's links (contact_campaign_log …).
    const campaignLogOf = async (module: string, id: string) => (await api('GET', `/${module}/${id}/link/campaigns`)).body.records.map((r: { activity_type: string }) => r.activity_type);
    expect(await campaignLogOf('Contacts', people.Ann)).toEqual(['targeted']);
    expect(await campaignLogOf('Leads', people.Cat)).toEqual(['targeted']);
    expect(await campaignLogOf('Prospects', people.Dan)).toEqual(['targeted']);
    expect(await campaignLogOf('Leads', people.Fay)).toEqual(['blocked']);

    const again = await api('POST', `/Campaigns/${campaign}/sms/launch`, { template_id: template });
    expect(again.status).toBe(202);
    await drain();
    expect(fake.messages.length).toBe(before + 4);
    expect(await crm.engine.db.knex('campaign_log').where('campaign_id', campaign).count({ n: '*' }).first()).toMatchObject({ n: log.length });

    const overview = (await api('GET', `/Campaigns/${campaign}/sms`)).body;
    expect(overview.template).toMatchObject({ id: template }); // the template it last sent
    const results = overview.results;
    expect(results).toMatchObject({ messages: 4, status: { accepted: 4 }, segments: 4, refused: { no_number: 1, duplicate: 1, opted_out: 1 } });
  });

  test('results come from delivery receipts, opt-outs and replies', async () => {
    const { fake } = get();
    const sid = (to: string) => fake.messages.filter((m) => m.to === to).at(-1)!.sid;
    expect((await status(sid('+14155550201'), 'delivered')).status).toBe(200);
    expect((await status(sid('+14155550202'), 'delivered')).status).toBe(200);
    expect((await status(sid('+14155550203'), 'undelivered', '30003')).status).toBe(200);
    expect((await status(sid('+14155550204'), 'sent')).status).toBe(200);
    expect((await inbound('+14155550202', 'STOP')).status).toBe(200);
    expect((await inbound('+14155550201', 'Sounds good, call me')).status).toBe(200);
    const results = (await api('GET', `/Campaigns/${campaign}/sms`)).body.results;
    // Cat's undelivered (30003) message is sent again later: her latest attempt is queued.
    expect(results).toMatchObject({ messages: 4, retries: 1, status: { delivered: 2, sent: 1, queued: 1 }, segments: 5, delivery_rate: 100 });
    const { crm } = get();
    await crm.engine.db.knex('sms').where({ campaign_id: campaign, to_number: '+14155550203', status: 'queued' }).update({ status: 'failed' });
    expect((await api('GET', `/Campaigns/${campaign}/sms`)).body.results).toMatchObject({ status: { delivered: 2, sent: 1, failed: 1 }, delivery_rate: 66.7 });
    expect(results.opted_out_after).toBe(1);
    expect(results.replies).toBe(2);
  });

  test('launching needs the right to edit the campaign and to send in bulk', async () => {
    const { server } = get();
    const tokens = [
      await loginWithRole(server, { name: 'marketer', password: 'marketer-pw' }, 'Campaigns without bulk SMS', [['SMS', 'massupdate', 'none']]),
      await loginWithRole(server, { name: 'viewer', password: 'viewer-pw' }, 'Campaign viewer', [['Campaigns', 'edit', 'none']]),
    ];
    for (const token of tokens) {
      expect((await server.call('GET', `/rest/v10/Campaigns/${campaign}/sms`, { token })).status).toBe(200);
      expect((await server.call('POST', `/rest/v10/Campaigns/${campaign}/sms/launch`, { token, body: { template_id: template } })).status).toBe(403);
    }
  });
});
