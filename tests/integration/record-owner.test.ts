import { describeEachServer, loginWithRole } from '../helpers/crm';

describeEachServer('creates are owned and references checked', (get) => {
  let admin = '';
  beforeAll(async () => { admin = await get().login('admin', 'secret-admin'); });

  it('assigns a new record to the user who creates it, so an owner-level user can open what they just made', async () => {
    const token = await loginWithRole(get(), { name: 'owen', password: 'owen-secret-1' }, 'Owners', [['Accounts', 'view', 'owner'], ['Accounts', 'list', 'owner'], ['Accounts', 'edit', 'owner']]);
    const created = await get().call('POST', '/rest/v10/Accounts', { token, body: { name: 'Mine' } });
    expect(created.status).toBe(200);
    const me = (await get().call('GET', '/rest/v10/me', { token })).body.current_user.id;
    expect(created.body.assigned_user_id).toBe(me);
    expect((await get().call('GET', `/rest/v10/Accounts/${created.body.id}`, { token })).status).toBe(200);
    // someone else named stays
    const forOther = await get().call('POST', '/rest/v10/Accounts', { token: admin, body: { name: 'Theirs', assigned_user_id: me } });
    expect(forOther.body.assigned_user_id).toBe(me);
  });

  it('refuses an assigned user that does not exist, naming the field', async () => {
    const res = await get().call('POST', '/rest/v10/Accounts', { token: admin, body: { name: 'Ghost owner', assigned_user_id: 'no-such-user' } });
    expect(res.status).toBe(422);
    expect(res.body.fields).toEqual([{ field: 'assigned_user_id', rule: 'relate', message: 'no Users record has id no-such-user' }]);
    const account = (await get().call('POST', '/rest/v10/Accounts', { token: admin, body: { name: 'Real owner' } })).body.id;
    const update = await get().call('PUT', `/rest/v10/Accounts/${account}`, { token: admin, body: { assigned_user_id: 'nobody-at-all' } });
    expect(update.status).toBe(422);
  });
});
