import { checkPatch } from '../../core/plugins/patches';
import { SYSTEM, type Actor } from '../../core/records/actor';
import { md5Hex } from '../../core/security/passwords';
import { loginWithRole } from '../helpers/crm';
import { describeSms } from '../helpers/sms';
import { session } from '../helpers/ui-session';

/**
 * Sending history is written only by the send path, the dispatcher and the webhooks: no user
 * (administrators included) and no plugin can create an SMS that looks sent or received, or change
 * the delivery fields of one, through REST v10, v4_1, the UI or the plugin bridge.
 */
describeSms('SMS history cannot be forged', (get) => {
  const FORGED = { name: 'Forged', body: 'You agreed to pay', to_number: '+14155550160', direction: 'outbound', status: 'delivered', provider: 'twilio', provider_message_id: 'SM0000000000000000000000000000forged', date_sent: '2026-01-02 03:04:05', price: '0.0079' };
  const PLUGIN: Actor = { type: 'system', id: '1', label: 'plugin:test.forger' };
  let userToken = '';
  let sentId = '';

  beforeAll(async () => {
    const { server, drain } = get();
    userToken = await loginWithRole(server, { name: 'fenna', password: 'fenna-secret-1' }, 'Sales', []);
    const sent = await server.call('POST', '/rest/v10/SMS/send', { token: userToken, body: { to: '+14155550161', body: 'A real message' } });
    expect(sent.status).toBe(200);
    sentId = sent.body.records[0].id;
    await drain();
  });

  const sms = (id: string) => get().crm.engine.db.knex('sms').where({ id }).first();

  test('the send path still writes delivery fields for a user who is no administrator', async () => {
    const row = await sms(sentId);
    expect(row).toMatchObject({ direction: 'outbound', status: 'accepted', provider: 'twilio', source: 'quick', to_number: '+14155550161' });
    expect(row.provider_message_id).toMatch(/^SM/);
  });

  test('POST /rest/v10/SMS with delivery fields is refused, for users and administrators, naming the fields', async () => {
    const { server, token } = get();
    for (const who of [userToken, token]) {
      const res = await server.call('POST', '/rest/v10/SMS', { token: who, body: FORGED });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('not_authorized');
      expect(res.body.field).toBe('status');
      expect(res.body.error_message).toMatch(/status.*direction|system_only/);
      for (const field of ['status', 'provider', 'provider_message_id', 'date_sent', 'price']) expect(res.body.error_message).toContain(field);
    }
    const inbound = await server.call('POST', '/rest/v10/SMS', { token: userToken, body: { body: 'I never said this', to_number: '+14155550160', direction: 'inbound' } });
    expect(inbound.status).toBe(403);
    expect(inbound.body.field).toBe('direction');
    expect(await get().crm.engine.db.knex('sms').where({ to_number: '+14155550160' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  test('a draft (every delivery field at its default) may still be created as a note, and is never queued', async () => {
    const { server, crm } = get();
    const res = await server.call('POST', '/rest/v10/SMS', { token: userToken, body: { body: 'Call back about the quote', to_number: '+14155550162', direction: 'outbound' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'draft', direction: 'outbound', provider: null, provider_message_id: null });
    expect(await crm.engine.db.knex('job_queue').where('name', `Send SMS ${res.body.id}`).first()).toBeUndefined();
    expect(res.body._acl.fields).toMatchObject({ status: { write: 'no', create: 'no' }, direction: { write: 'no', create: 'no' } });
  });

  test('PUT cannot change delivery fields of a sent message; sending back the same values is fine', async () => {
    const { server, token } = get();
    for (const change of [{ status: 'delivered' }, { direction: 'inbound' }, { price: '9.99' }, { provider_message_id: 'SMother' }, { date_delivered: '2026-01-01 00:00:00' }]) {
      const res = await server.call('PUT', `/rest/v10/SMS/${sentId}`, { token, body: change });
      expect(res.status).toBe(403);
      expect(res.body.field).toBe(Object.keys(change)[0]);
    }
    const row = await sms(sentId);
    const same = await server.call('PUT', `/rest/v10/SMS/${sentId}`, { token: userToken, body: { status: row.status, direction: 'outbound', description: 'seen' } });
    expect(same.status).toBe(200);
    expect((await sms(sentId)).status).toBe('accepted');
  });

  test('v10 mass update refuses delivery fields before touching any record', async () => {
    const { server, token } = get();
    const res = await server.call('PUT', '/rest/v10/SMS/MassUpdate', { token, body: { massupdate_params: { uid: [sentId], direction: 'inbound', source: 'campaign' } } });
    expect(res.status).toBe(422);
    expect(res.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['direction', 'source']);
    expect(await sms(sentId)).toMatchObject({ direction: 'outbound', source: 'quick' });
  });

  test('v4_1 set_entry cannot create a sent message nor change one', async () => {
    const { server } = get();
    const login = await server.v4('login', { user_auth: { user_name: 'fenna', password: md5Hex('fenna-secret-1') }, application_name: 'test' });
    const created = await server.v4('set_entry', { session: login.id, module_name: 'SMS', name_value_list: Object.entries(FORGED).map(([name, value]) => ({ name, value })) });
    expect(created).toMatchObject({ name: 'Access Denied', number: 40 });
    expect(created.description).toContain('status');
    const changed = await server.v4('set_entry', { session: login.id, module_name: 'SMS', name_value_list: { id: sentId, status: 'delivered' } });
    expect(changed).toMatchObject({ name: 'Access Denied', number: 40 });
    expect((await sms(sentId)).status).toBe('accepted');
  });

  test('the UI list offers no delivery field to mass update, and a forged mass update form is refused', async () => {
    const { server } = get();
    const ui = session(server.url);
    const csrf = await ui.login('admin', 'secret-admin');
    const page = await ui.request('GET', '/ui/SMS');
    expect(page.status).toBe(200);
    for (const field of ['direction', 'provider', 'source', 'status', 'encoding']) expect(page.text).not.toContain(`name="mu_${field}"`);
    const res = await ui.request('POST', '/ui/SMS/mass', { csrf, action: 'massupdate', ids: [sentId], mu_direction: 'inbound' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('direction');
    expect((await sms(sentId)).direction).toBe('outbound');
  });

  test('the UI edit form carries no delivery field: posting one is refused, a plain note is a draft', async () => {
    const { server } = get();
    const ui = session(server.url);
    const csrf = await ui.login('fenna', 'fenna-secret-1');
    const forged = await ui.request('POST', '/ui/SMS/new', { csrf, to_number: '+14155550163', body: 'A note', status: 'delivered', direction: 'inbound', provider: 'twilio' });
    expect(forged.status).toBe(422);
    expect(await get().crm.engine.db.knex('sms').where({ to_number: '+14155550163' }).first()).toBeUndefined();
    const duplicate = await ui.request('GET', `/ui/SMS/new?duplicate=${sentId}`);
    expect(duplicate.status).toBe(200);
    expect(duplicate.text).not.toMatch(/name="(status|direction|provider|provider_message_id)"/);
    const note = await ui.request('POST', '/ui/SMS/new', { csrf, to_number: '+14155550163', body: 'A note' });
    expect(note.status).toBe(302);
    expect(await get().crm.engine.db.knex('sms').where({ to_number: '+14155550163' }).first()).toMatchObject({ status: 'draft', direction: 'outbound' });
  });

  test('a plugin can neither create a sent message nor patch delivery fields in before_save', async () => {
    const { crm } = get();
    await expect(crm.records.create(PLUGIN, 'SMS', FORGED)).rejects.toMatchObject({ status: 403, details: { field: 'status' } });
    await expect(crm.records.update(PLUGIN, 'SMS', sentId, { status: 'delivered' })).rejects.toMatchObject({ status: 403 });
    expect(checkPatch(crm.engine.registry.module('SMS'), { patch: { status: 'delivered' } }, () => undefined)).toMatch(/cannot be set: status/);
    // Cane's own code (the webhooks, automatic retries) writes them as the system.
    const inbound = await crm.records.create(SYSTEM, 'SMS', { body: 'STOP', to_number: '+15005550006', from_number: '+14155550164', direction: 'inbound', status: 'received', source: 'inbound' });
    expect(inbound).toMatchObject({ direction: 'inbound', status: 'received' });
  });
});
