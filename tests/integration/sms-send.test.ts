import { HookVeto } from '../../core/errors';
import { describeSms, FROM } from '../helpers/sms';
import { session } from '../helpers/ui-session';

describeSms('SMS sending through the API', (get) => {
  const send = (body: unknown) => get().server.call('POST', '/rest/v10/SMS/send', { token: get().token, body });

  test('1:1 to a contact renders the template, stores the SID and shows in its History', async () => {
    const { crm, fake, drain, server, token } = get();
    const contact = await crm.records.retrieve({ type: 'system', id: '1' }, 'Contacts', 'demo-contact-01');
    const res = await send({ parent_type: 'Contacts', parent_id: 'demo-contact-01', body: 'Hi {{first_name}}, this is {{assigned_user.first_name}} from {{account.name}}' });
    expect(res.status).toBe(200);
    expect(res.body.refused).toEqual([]);
    expect(res.body.records).toHaveLength(1);
    const sms = res.body.records[0];
    expect(sms.status).toBe('queued');
    expect(sms.body).toContain(`Hi ${contact.first_name}`);
    expect(sms.body).not.toContain('{{');
    await drain();
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]).toMatchObject({ to: sms.to_number, from: FROM, body: sms.body, statusCallback: 'http://crm.example.test/webhooks/twilio/status' });
    const stored = await server.call('GET', `/rest/v10/SMS/${sms.id}`, { token });
    expect(stored.body).toMatchObject({ status: 'accepted', provider_message_id: fake.messages[0].sid, provider: 'twilio', attempts: 1 });
    const history = await server.call('GET', '/rest/v10/Contacts/demo-contact-01/link/sms', { token });
    expect(history.body.records.map((r: { id: string }) => r.id)).toContain(sms.id);
  });

  test('a send to many writes its messages together: one vetoed by an SMS before_save hook is refused with the reason, the others go and their after_save hooks run', async () => {
    const { crm, drain, fake } = get();
    const contacts = ['demo-contact-01', 'demo-contact-02', 'demo-contact-03', 'demo-contact-04'];
    const vetoed = await crm.records.retrieve({ type: 'system', id: '1' }, 'Contacts', 'demo-contact-03');
    const saved: string[] = [];
    const removers = [
      crm.engine.hooks.register('SMS', { event: 'before_save', order: 1, label: 'veto one', handler: (bean) => { if (String(bean.body).includes(String(vetoed.first_name))) throw new HookVeto('not this one', 'body'); } }),
      crm.engine.hooks.register('SMS', { event: 'after_save', order: 1, label: 'count', handler: (bean) => { saved.push(String(bean.id)); } }),
    ];
    try {
      const res = await send({ records: contacts.map((id) => ({ module: 'Contacts', id })), body: 'Hello {{first_name}}, see you soon' });
      expect(res.status).toBe(200);
      expect(res.body.refused).toEqual([expect.objectContaining({ module: 'Contacts', id: 'demo-contact-03', code: 'refused', reason: expect.stringMatching(/not this one/) })]);
      expect(res.body.records.map((r: { parent_id: string }) => r.parent_id).sort()).toEqual(['demo-contact-01', 'demo-contact-02', 'demo-contact-04']);
      expect(res.body.records.every((r: { parent_name: string; assigned_user_name: string }) => r.parent_name && r.assigned_user_name === 'admin')).toBe(true);
      expect(saved.sort()).toEqual(res.body.records.map((r: { id: string }) => r.id).sort());
      await drain();
      expect(fake.messages.filter((m) => /see you soon/.test(m.body))).toHaveLength(3);
    } finally {
      removers.forEach((remove) => remove());
    }
  });

  test('the compose page sends once: submitting it again (a double click, a retry after a timeout) queues nothing new; an edited text is a new send', async () => {
    const { server, drain, fake } = get();
    const ui = session(server.url);
    const csrf = await ui.login('admin', 'secret-admin');
    const ids = ['demo-contact-05', 'demo-contact-06'];
    const page = await ui.request('POST', '/ui/SMS/compose?module=Contacts', { csrf, ids });
    expect(page.status).toBe(200);
    const pageKey = /name="send_page_key" value="([0-9a-f-]{36})"/.exec(page.text)?.[1];
    expect(pageKey).toBeDefined();
    const submit = (body: string) => ui.request('POST', '/ui/SMS/send', { csrf, module: 'Contacts', ids, send_page_key: pageKey!, body });
    const sentIds = (html: string) => [...html.matchAll(/\/ui\/SMS\/([0-9a-f-]{36})"/g)].map((m) => m[1]).sort();
    const first = await submit('Doors open at 7, {{first_name}}');
    expect(first.status).toBe(200);
    expect(sentIds(first.text)).toHaveLength(2);
    const again = await Promise.all([submit('Doors open at 7, {{first_name}}'), submit('Doors open at 7, {{first_name}}')]);
    for (const answer of again) expect(sentIds(answer.text)).toEqual(sentIds(first.text));
    const edited = await submit('Doors open at 8, {{first_name}}');
    expect(sentIds(edited.text)).toHaveLength(2);
    expect(sentIds(edited.text)).not.toEqual(sentIds(first.text));
    await drain();
    expect(fake.messages.filter((m) => m.body.startsWith('Doors open at 7'))).toHaveLength(2);
    expect(fake.messages.filter((m) => m.body.startsWith('Doors open at 8'))).toHaveLength(2);
  });

  test('quick send to a typed number normalises it to E.164', async () => {
    const res = await send({ to: '(415) 555-0142', body: 'Your table is ready' });
    expect(res.status).toBe(200);
    expect(res.body.records[0].to_number).toBe('+14155550142');
    await get().drain();
    expect(get().fake.sentTo('+14155550142')).toHaveLength(1);
  });

  test('bad input is refused naming the field', async () => {
    for (const [body, field] of [
      [{ to: '+14155550100', body: '' }, 'body'],
      [{ to: '+14155550100', body: 'x'.repeat(1601) }, 'body'],
      [{ to: '+14155550100' }, 'body'],
      [{ body: 'hi' }, 'to'],
      [{ to: '+14155550100', body: 'Hi {{#if}}' }, 'body'],
      [{ to: '+14155550100', template_id: 'nope' }, 'template_id'],
      [{ to: '+14155550100', body: 'hi', colour: 'red' }, 'colour'],
    ] as const) {
      const res = await send(body);
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('invalid_parameter');
      expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
  });

  test('a phone field holds any text, as in Sugar; sending to it is refused with the reason', async () => {
    const { server, token } = get();
    const created = await server.call('POST', '/rest/v10/Contacts', { token, body: { last_name: 'Freeform', phone_mobile: 'Work-Custom', phone_work: 'ext. 12 (ask Bob)' } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ phone_mobile: 'Work-Custom', phone_work: 'ext. 12 (ask Bob)' });
    const res = await send({ parent_type: 'Contacts', parent_id: created.body.id, body: 'Hello' });
    expect(res.status).toBe(200);
    expect(res.body.records).toHaveLength(0);
    expect(res.body.refused.map((r: { reason: string }) => r.reason).join(' | ')).toMatch(/Work-Custom/);
  });

  test('recipients that cannot be sent to are listed with a reason', async () => {
    const res = await send({ to: ['12345', '+14155550143', '415-555-0143'], body: 'Hello {{first_name}}' });
    expect(res.status).toBe(200);
    expect(res.body.records).toHaveLength(0);
    const reasons = res.body.refused.map((r: { reason: string }) => r.reason).join(' | ');
    expect(reasons).toMatch(/invalid number/);
    expect(reasons).toMatch(/needs a record/);
  });
});
