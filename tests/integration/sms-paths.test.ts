import { SYSTEM } from '../../core/records/actor';
import { pluginDir } from '../helpers/plugins';
import { loginWithRole } from '../helpers/crm';
import { describeSms } from '../helpers/sms';

const plugins = pluginDir([{
  manifest: {
    id: 'test.welcome-sms',
    permissions: ['send:sms', 'read:Contacts'],
    hooks: [{ module: 'Contacts', event: 'after_save', handler: 'welcome' }],
  },
  code: `definePlugin({ hooks: { async welcome(ctx) {
    if (ctx.event.isUpdate) return;
    await ctx.crm.sms.send({ parent_type: 'Contacts', parent_id: ctx.event.id, body: 'Welcome, {{first_name}}!' });
  } } });`,
}]);

describeSms('SMS sending paths: templates, bulk, roles, plugins, idempotency', (get) => {
  const send = (body: unknown, token = get().token) => get().server.call('POST', '/rest/v10/SMS/send', { token, body });

  test('a template reaches related records: account, assigned user', async () => {
    const { crm, drain, fake } = get();
    const contact = await crm.records.retrieve(SYSTEM, 'Contacts', 'demo-contact-01');
    const res = await send({ parent_type: 'Contacts', parent_id: contact.id, template_id: 'demo-template-event' });
    expect(res.body.records[0].body).toBe(`Hi ${contact.first_name}, ${contact.account_name} is invited to our spring event on May 14. Reply STOP to opt out.`);
    expect(res.body.records[0].template_id).toBe('demo-template-event');
    const follow = await send({ parent_type: 'Contacts', parent_id: 'demo-contact-05', template_id: 'demo-template-followup' });
    const c5 = await crm.records.retrieve(SYSTEM, 'Contacts', 'demo-contact-05');
    const owner = await crm.records.retrieve(SYSTEM, 'Users', String(c5.assigned_user_id));
    expect(follow.body.records[0].body).toContain(`${owner.first_name} will send the proposal`);
    await drain();
    expect(fake.messages.length).toBeGreaterThanOrEqual(2);
  });

  test('templates are checked when saved: syntax errors and unknown fields answer 422 on body', async () => {
    const { server, token } = get();
    const bad = await server.call('POST', '/rest/v10/SMSTemplates', { token, body: { name: 'Broken', template_module: 'Contacts', template_type: 'marketing', body: 'Hi {{#if first_name}}' } });
    expect(bad.status).toBe(422);
    expect(bad.body.field).toBe('body');
    const unknown = await server.call('POST', '/rest/v10/SMSTemplates', { token, body: { name: 'Unknown', template_module: 'Contacts', template_type: 'marketing', body: 'Hi {{shoe_size}} {{assigned_user.favourite_colour}}' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error_message).toMatch(/{{shoe_size}} is not a field of Contacts/);
    expect(unknown.body.error_message).toMatch(/favourite_colour is not a field of Users/);
    const good = await server.call('POST', '/rest/v10/SMSTemplates', { token, body: { name: 'Good', template_module: 'Contacts', template_type: 'transactional', body: 'Hi {{first_name}} from {{account.name}}' } });
    expect(good.status).toBe(200);
  });

  test('bulk to records: one message per distinct number, the rest refused with reasons', async () => {
    const { crm, drain, fake } = get();
    await crm.records.update(SYSTEM, 'Contacts', 'demo-contact-07', { phone_mobile: '' });
    const c6 = await crm.records.retrieve(SYSTEM, 'Contacts', 'demo-contact-06');
    await crm.records.update(SYSTEM, 'Contacts', 'demo-contact-08', { phone_mobile: c6.phone_mobile });
    const res = await send({ records: ['06', '07', '08', '09'].map((n) => ({ module: 'Contacts', id: `demo-contact-${n}` })).concat([{ module: 'Opportunities', id: 'x' }, { module: 'Contacts', id: 'missing' }]), body: 'Hello {{first_name}}' });
    expect(res.status).toBe(200);
    expect(res.body.records.map((r: { parent_id: string }) => r.parent_id)).toEqual(['demo-contact-06', 'demo-contact-09']);
    expect(res.body.records.every((r: { source: string }) => r.source === 'bulk')).toBe(true);
    const reasons = res.body.refused.map((r: { reason: string }) => r.reason);
    expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(/no Mobile|no phone_mobile/i), expect.stringMatching(/duplicate/), expect.stringMatching(/Opportunities records cannot receive SMS/), expect.stringMatching(/no Contacts record with id 'missing'/)]));
    const before = fake.messages.length;
    await drain();
    expect(fake.messages.length - before).toBe(2);
  });

  test('roles: no SMS edit right means no sending; no mass update right means no bulk', async () => {
    const { server } = get();
    const t1 = await loginWithRole(server, { name: 'smsless', password: 'smsless-pw' }, 'No SMS', [['SMS', 'edit', 'none']]);
    expect((await send({ to: '+14155550180', body: 'hi' }, t1)).status).toBe(403);
    const t2 = await loginWithRole(server, { name: 'onebyone', password: 'onebyone-pw' }, 'Single SMS only', [['SMS', 'massupdate', 'none']]);
    expect((await send({ to: '+14155550181', body: 'hi' }, t2)).status).toBe(200);
    const bulk = await send({ records: [{ module: 'Contacts', id: 'demo-contact-10' }, { module: 'Contacts', id: 'demo-contact-11' }], body: 'hi' }, t2);
    expect(bulk.status).toBe(403);
    expect((await server.call('GET', '/rest/v10/SMS/config', { token: t2 })).status).toBe(403);
    expect((await server.call('GET', '/rest/v10/SMS/config', { token: get().token })).body).toMatchObject({ provider: 'twilio', default_region: 'US' });
  });

  test('an idempotency key makes a retried request safe', async () => {
    const { drain, fake } = get();
    const body = { to: '+14155550182', body: 'Only once', idempotency_key: 'order-42' };
    const first = await send(body);
    const again = await send(body);
    expect(again.body.records[0].id).toBe(first.body.records[0].id);
    await drain();
    expect(fake.sentTo('+14155550182')).toHaveLength(1);
  });

  test('a bulk send is written together; six parallel retries with one idempotency key make one message per number', async () => {
    const { crm, drain, fake } = get();
    const to = Array.from({ length: 120 }, (_, i) => `+1415556${String(1000 + i)}`);
    const body = { to, body: 'Bulk once', idempotency_key: 'bulk-7' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(body)));
    expect(answers.map((a) => (a.status === 200 ? 200 : JSON.stringify(a.body)))).toEqual([200, 200, 200, 200, 200, 200]);
    const ids = answers[0].body.records.map((r: { id: string }) => r.id);
    expect(ids).toHaveLength(120);
    for (const answer of answers) expect(answer.body.records.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(answers[0].body.records.map((r: { to_number: string }) => r.to_number)).toEqual(to);
    const rows = await crm.engine.db.knex('sms').whereIn('to_number', to);
    expect(rows).toHaveLength(120);
    await drain();
    expect(to.filter((number) => fake.sentTo(number).length !== 1)).toEqual([]);
  });

  test('a plugin sends through ctx.crm.sms.send, with the same checks', async () => {
    const { crm, drain, fake } = get();
    const created = await crm.records.create(SYSTEM, 'Contacts', { first_name: 'Pia', last_name: 'Plugin', phone_mobile: '+1 415 555 0183' });
    for (let i = 0; i < 50 && !fake.sentTo('+14155550183').length; i++) {
      await drain();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(fake.sentTo('+14155550183').map((m) => m.body)).toEqual(['Welcome, Pia!']);
    const rows = await crm.engine.db.knex('sms').where({ parent_id: created.id });
    expect(rows).toMatchObject([{ source: 'workflow', status: 'accepted' }]);
    const audit = await crm.engine.db.knex('plugin_audit').where({ plugin_id: 'test.welcome-sms', capability: 'sms.send' });
    expect(audit.map((a: { outcome: string }) => a.outcome)).toContain('ok');
  }, 60_000);
}, { plugins: { dirs: [{ dir: plugins, builtIn: false }] } });
