import { FAKE_AUTH_TOKEN, postSignedForm } from '../helpers/fake-twilio';
import { describeSms, PUBLIC_URL } from '../helpers/sms';

describeSms('SMS delivery: provider errors, callbacks, inbound and opt-out', (get) => {
  const send = (body: unknown) => get().server.call('POST', '/rest/v10/SMS/send', { token: get().token, body });
  const sms = async (id: string) => (await get().server.call('GET', `/rest/v10/SMS/${id}`, { token: get().token })).body;
  const sendOne = async (to: string, text = `Message to ${to}`) => {
    const res = await send({ to, body: text });
    expect(res.status).toBe(200);
    expect(res.body.refused).toEqual([]);
    await get().drain();
    return sms(res.body.records[0].id);
  };
  const status = (params: Record<string, string>, options: { signature?: string | null; token?: string } = {}) =>
    postSignedForm(`${get().server.url}/webhooks/twilio/status`, params, { publicUrl: `${PUBLIC_URL}/webhooks/twilio/status`, ...options });
  const inbound = (params: Record<string, string>) =>
    postSignedForm(`${get().server.url}/webhooks/twilio/inbound`, params, { publicUrl: `${PUBLIC_URL}/webhooks/twilio/inbound` });
  const consent = async (number: string) => (await get().server.call('GET', `/rest/v10/SMS/consent/${encodeURIComponent(number)}`, { token: get().token })).body;

  test('21211 invalid number and 21614 not a mobile fail at once without a retry', async () => {
    for (const [to, code] of [['+15005550001', '21211'], ['+15005550009', '21614'], ['+15005550003', '21408']]) {
      const before = get().fake.requests;
      const record = await sendOne(to);
      expect(record).toMatchObject({ status: 'failed', error_code: code, attempts: 1 });
      expect(record.error_message.length).toBeGreaterThan(10);
      expect(get().fake.requests - before).toBe(1);
    }
  });

  test('21610 fails the message and records an opt-out that later sends honour', async () => {
    const record = await sendOne('+15005550004');
    expect(record).toMatchObject({ status: 'failed', error_code: '21610' });
    expect(await consent('+15005550004')).toMatchObject({ state: 'opted_out', source: '21610' });
    const again = await send({ to: '+15005550004', body: 'again' });
    expect(again.body.records).toHaveLength(0);
    expect(again.body.refused[0].reason).toMatch(/opted out/);
  });

  test('429 backs off and retries; the message is sent once', async () => {
    get().fake.queue({ status: 429, code: 20429, message: 'Too Many Requests' }, { status: 429, code: 20429 });
    const record = await sendOne('+14155550171');
    expect(record).toMatchObject({ status: 'accepted', attempts: 3 });
    expect(get().fake.sentTo('+14155550171')).toHaveLength(1);
  });

  test('a dropped connection after Twilio received the request is reconciled, not resent', async () => {
    get().fake.queue('drop');
    const record = await sendOne('+14155550172');
    expect(get().fake.sentTo('+14155550172')).toHaveLength(1);
    expect(record).toMatchObject({ status: 'accepted', provider_message_id: get().fake.sentTo('+14155550172')[0].sid });
  });

  test('a malformed answer is reconciled the same way', async () => {
    get().fake.queue('malformed');
    const record = await sendOne('+14155550173');
    expect(get().fake.sentTo('+14155550173')).toHaveLength(1);
    expect(record.provider_message_id).toBe(get().fake.sentTo('+14155550173')[0].sid);
  });

  test('a 500 that created nothing is looked up, then sent again', async () => {
    get().fake.queue({ status: 500, code: 20500, message: 'Internal error' });
    const record = await sendOne('+14155550174');
    expect(get().fake.sentTo('+14155550174')).toHaveLength(1);
    expect(record).toMatchObject({ status: 'accepted', attempts: 2 });
  });

  test('callbacks: unsigned and forged ones are refused; statuses move only forward', async () => {
    const record = await sendOne('+14155550175');
    const sid = record.provider_message_id;
    expect((await status({ MessageSid: sid, MessageStatus: 'delivered' }, { signature: null })).status).toBe(403);
    expect((await status({ MessageSid: sid, MessageStatus: 'delivered' }, { token: 'not-the-token' })).status).toBe(403);
    expect((await status({ MessageSid: sid, MessageStatus: 'delivered' }, { signature: 'AAAA' })).status).toBe(403);
    expect((await sms(record.id)).status).toBe('accepted');

    expect((await status({ MessageSid: sid, MessageStatus: 'sent', AccountSid: 'AC1' })).status).toBe(200);
    expect((await status({ MessageSid: sid, MessageStatus: 'delivered' })).status).toBe(200);
    expect((await status({ MessageSid: sid, MessageStatus: 'sent' })).status).toBe(200); // late
    expect((await status({ MessageSid: sid, MessageStatus: 'delivered' })).status).toBe(200); // duplicate
    const delivered = await sms(record.id);
    expect(delivered.status).toBe('delivered');
    expect(delivered.date_delivered).toBeTruthy();
    expect(delivered.date_sent).toBeTruthy();
    // A failing segment outranks an earlier "delivered" of another segment.
    await status({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30005' });
    expect(await sms(record.id)).toMatchObject({ status: 'undelivered', error_code: '30005' });
    await status({ MessageSid: sid, MessageStatus: 'delivered' });
    expect((await sms(record.id)).status).toBe('undelivered');
    const history = await get().server.call('GET', `/rest/v10/SMS/${record.id}/status_history`, { token: get().token });
    expect(history.body.records.map((e: { status: string }) => e.status).sort()).toEqual(['accepted', 'delivered', 'sent', 'undelivered'].sort());
    expect(history.body.records.find((e: { status: string }) => e.status === 'undelivered')).toMatchObject({ error_code: '30005', source: 'callback' });
  });

  test('30003 via callback marks it undelivered and queues one later retry', async () => {
    const record = await sendOne('+14155550176');
    await status({ MessageSid: record.provider_message_id, MessageStatus: 'undelivered', ErrorCode: '30003' });
    expect(await sms(record.id)).toMatchObject({ status: 'undelivered', error_code: '30003' });
    const retries = await get().crm.engine.db.knex('sms').where({ to_number: '+14155550176', source: 'retry' });
    expect(retries).toHaveLength(1);
    expect(retries[0].status).toBe('queued');
    expect(retries[0].date_scheduled).toBeTruthy();
    await status({ MessageSid: record.provider_message_id, MessageStatus: 'undelivered', ErrorCode: '30003' });
    expect(await get().crm.engine.db.knex('sms').where({ to_number: '+14155550176', source: 'retry' })).toHaveLength(1);
  });

  test('a callback that arrives before the SID is stored is applied when it is', async () => {
    const res = await send({ to: '+14155550177', body: 'early bird' });
    get().fake.latencyMs = 300;
    const draining = get().drain();
    await new Promise((r) => setTimeout(r, 150));
    const sent = get().fake.sentTo('+14155550177');
    expect(sent).toHaveLength(1);
    expect((await status({ MessageSid: sent[0].sid, MessageStatus: 'delivered' })).status).toBe(200);
    await draining;
    get().fake.latencyMs = 0;
    expect((await sms(res.body.records[0].id)).status).toBe('delivered');
  });

  test('inbound messages are stored on the matching contact; STOP opts out, START opts back in', async () => {
    const { crm } = get();
    const contact = await crm.records.update({ type: 'system', id: '1' }, 'Contacts', 'demo-contact-02', { phone_mobile: '(415) 555-0188' });
    const stop = await inbound({ MessageSid: `SM${'a'.repeat(32)}`, From: '+14155550188', To: '+15005550006', Body: ' stop ', AccountSid: 'AC1' });
    expect(stop.status).toBe(200);
    expect(stop.contentType).toMatch(/xml/);
    expect(stop.body).toMatch(/<Response><\/Response>/);
    // Redelivered by Twilio: stored once.
    await inbound({ MessageSid: `SM${'a'.repeat(32)}`, From: '+14155550188', To: '+15005550006', Body: ' stop ' });
    const stored = await crm.engine.db.knex('sms').where({ direction: 'inbound', from_number: '+14155550188' });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ parent_type: 'Contacts', parent_id: contact.id, status: 'received' });
    expect(await consent('+14155550188')).toMatchObject({ state: 'opted_out', source: 'keyword' });
    const refused = await send({ parent_type: 'Contacts', parent_id: contact.id, body: 'Sale!' });
    expect(refused.body.refused[0].reason).toMatch(/opted out/);

    await inbound({ MessageSid: `SM${'b'.repeat(32)}`, From: '+14155550188', To: '+15005550006', Body: 'START' });
    expect((await consent('+14155550188')).state).toBe('opted_in');
    await inbound({ MessageSid: `SM${'c'.repeat(32)}`, From: '+14155550188', To: '+15005550006', Body: 'please stop calling me', OptOutType: 'STOP' });
    expect((await consent('+14155550188')).state).toBe('opted_out');
    await inbound({ MessageSid: `SM${'d'.repeat(32)}`, From: '+14155550188', To: '+15005550006', Body: 'STOP PLEASE' });
    const history = (await consent('+14155550188')).history;
    expect(history).toHaveLength(3);
  });

  test('an opted-out number is refused on every path, and at dispatch if it opted out after queueing', async () => {
    const { server, token, crm, fake } = get();
    await server.call('POST', '/rest/v10/SMS/consent', { token, body: { number: '+14155550190', state: 'opted_out', note: 'asked by phone' } });
    const queued = await send({ to: '+14155550191', body: 'queued first' });
    await server.call('POST', '/rest/v10/SMS/consent', { token, body: { number: '+14155550191', state: 'opted_out' } });
    await get().drain();
    expect(await sms(queued.body.records[0].id)).toMatchObject({ status: 'failed', error_code: 'opted_out' });
    expect(fake.sentTo('+14155550191')).toHaveLength(0);
    await crm.records.update({ type: 'system', id: '1' }, 'Contacts', 'demo-contact-03', { phone_mobile: '+14155550190' });
    for (const body of [{ to: '+14155550190', body: 'x' }, { parent_type: 'Contacts', parent_id: 'demo-contact-03', body: 'x' }, { records: [{ module: 'Contacts', id: 'demo-contact-03' }, { module: 'Contacts', id: 'demo-contact-04' }], body: 'x' }]) {
      const res = await send(body);
      expect(res.body.refused.some((r: { reason: string }) => /\+14155550190 has opted out/.test(r.reason))).toBe(true);
    }
    expect(fake.sentTo('+14155550190')).toHaveLength(0);
  });

  test('a webhook without PUBLIC_URL-matching signature is refused even when the body is valid', async () => {
    const res = await postSignedForm(`${get().server.url}/webhooks/twilio/status`, { MessageSid: `SM${'e'.repeat(32)}`, MessageStatus: 'delivered' }, { token: FAKE_AUTH_TOKEN });
    expect(res.status).toBe(403);
  });
});
