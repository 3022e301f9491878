import { loginWithRole } from '../helpers/crm';
import { describeSms } from '../helpers/sms';
import { session } from '../helpers/ui-session';

/**
 * A number's consent is part of the records that carry the number: reading it needs view rights on
 * one of them, changing it needs edit rights on one of them (or an administrator). Anyone else gets
 * the same answer whether or not the number is known.
 */
describeSms('SMS consent needs rights on a record with the number', (get) => {
  const HIDDEN = '+14155550191'; // a Contact of the administrator's
  const OWN = '+14155550192'; // a Contact of Wanda's
  const VIEW_ONLY = '+14155550193'; // a Lead Wanda may view but not edit
  const UNKNOWN = '+14155550199'; // on no record
  let wanda = '';

  beforeAll(async () => {
    const { server, crm, token } = get();
    wanda = await loginWithRole(server, { name: 'wanda', password: 'wanda-secret-1' }, 'Own contacts, all leads read-only', [
      ['Contacts', 'view', 'owner'], ['Contacts', 'list', 'owner'], ['Contacts', 'edit', 'owner'],
      ['Leads', 'view', 'all'], ['Leads', 'list', 'all'], ['Leads', 'edit', 'none'],
      ['Prospects', 'view', 'none'], ['Accounts', 'view', 'none'],
    ]);
    const wandaId = (await server.call('GET', '/rest/v10/me', { token: wanda })).body.current_user.id;
    const create = async (module: string, body: Record<string, unknown>) => {
      const res = await server.call('POST', `/rest/v10/${module}`, { token, body });
      expect(res.status).toBe(200);
    };
    await create('Contacts', { first_name: 'Hidden', last_name: 'Person', phone_mobile: HIDDEN, assigned_user_id: '1' });
    await create('Contacts', { first_name: 'Own', last_name: 'Person', phone_mobile: '(415) 555-0192', assigned_user_id: wandaId });
    await create('Leads', { first_name: 'Viewed', last_name: 'Lead', phone_mobile: VIEW_ONLY, assigned_user_id: '1' });
    for (const number of [HIDDEN, OWN, VIEW_ONLY]) await crm.sms!.consent.record({ phone: number, state: 'opted_out', source: 'keyword', note: 'replied STOP' });
  });

  const read = (number: string, token: string) => get().server.call('GET', `/rest/v10/SMS/consent/${encodeURIComponent(number)}`, { token });
  const write = (number: string, token: string) => get().server.call('POST', '/rest/v10/SMS/consent', { token, body: { number, state: 'opted_in', note: 'asked on the phone' } });

  test('reading: a number on no record the user may view answers 404, the same as an unknown number', async () => {
    const hidden = await read(HIDDEN, wanda);
    const unknown = await read(UNKNOWN, wanda);
    expect(hidden.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(hidden.body.error).toBe('not_found');
    expect(hidden.body.error_message.replace(HIDDEN, 'N')).toBe(unknown.body.error_message.replace(UNKNOWN, 'N'));
    expect(JSON.stringify(hidden.body)).not.toMatch(/opted|keyword|STOP/);
  });

  test('reading: a number on a record the user may view answers its state and history', async () => {
    expect((await read(OWN, wanda)).body).toMatchObject({ phone: OWN, state: 'opted_out', source: 'keyword' });
    expect((await read(VIEW_ONLY, wanda)).body).toMatchObject({ phone: VIEW_ONLY, state: 'opted_out' });
    expect((await read('(415) 555-0192', wanda)).status).toBe(200);
  });

  test('reading: an administrator sees any number, known or not', async () => {
    const { token } = get();
    expect((await read(HIDDEN, token)).body).toMatchObject({ state: 'opted_out' });
    expect((await read(UNKNOWN, token)).body).toMatchObject({ phone: UNKNOWN, state: 'unknown' });
  });

  test('writing needs edit rights on a record with the number: 403 otherwise, known or not, and nothing changes', async () => {
    const { crm, token } = get();
    for (const number of [HIDDEN, VIEW_ONLY, UNKNOWN]) {
      const res = await write(number, wanda);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('not_authorized');
      expect(res.body.error_message).not.toMatch(/opted|keyword/);
    }
    expect((await crm.sms!.consent.state(HIDDEN)).state).toBe('opted_out');
    expect((await crm.sms!.consent.state(VIEW_ONLY)).state).toBe('opted_out');
    expect(await crm.engine.db.knex('sms_consent').where({ phone_e164: UNKNOWN }).first()).toBeUndefined();
    const own = await write(OWN, wanda);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ phone: OWN, state: 'opted_in' });
    expect((await write(UNKNOWN, token)).status).toBe(200);
  });

  test('the UI consent page for a typed number obeys the same rule', async () => {
    const ui = session(get().server.url);
    const csrf = await ui.login('wanda', 'wanda-secret-1');
    const hidden = await ui.request('GET', `/ui/SMS/consent?number=${encodeURIComponent(HIDDEN)}`);
    expect(hidden.status).toBe(404);
    expect(hidden.text).not.toContain('replied STOP');
    expect((await ui.request('GET', `/ui/SMS/consent?number=${encodeURIComponent(VIEW_ONLY)}`)).text).toContain('replied STOP');
    const change = await ui.request('POST', '/ui/SMS/consent', { csrf, number: HIDDEN, state: 'opted_in' });
    expect(change.status).toBe(403);
    expect((await get().crm.sms!.consent.state(HIDDEN)).state).toBe('opted_out');
  });
});
