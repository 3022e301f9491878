import { describeEachServer, loginWithRole } from '../helpers/crm';

describeEachServer('REST v10 endpoints Sugar clients rely on', (get) => {
  let token = '';
  beforeAll(async () => { token = await get().login('admin', 'secret-admin'); });
  const api = (method: string, path: string, body?: unknown, as = token) => get().call(method, `/rest/v10${path}`, { token: as, body });

  it('fields= always answers id and date_modified, on record, list, filter and link endpoints', async () => {
    const account = (await api('POST', '/Accounts', { name: 'Fields Co' })).body;
    const contact = (await api('POST', '/Contacts', { last_name: 'Fields' })).body;
    await api('POST', `/Accounts/${account.id}/link/contacts/${contact.id}`);
    const keys = (r: Record<string, unknown>) => Object.keys(r).sort();
    const expected = ['_acl', '_module', 'date_modified', 'id', 'name'];
    expect(keys((await api('GET', `/Accounts/${account.id}?fields=name`)).body)).toEqual(expected);
    expect(keys((await api('GET', '/Accounts?fields=name&filter[0][name]=Fields%20Co')).body.records[0])).toEqual(expected);
    expect(keys((await api('POST', '/Accounts/filter', { fields: 'name', filter: [{ name: 'Fields Co' }] })).body.records[0])).toEqual(expected);
    const related = (await api('GET', `/Accounts/${account.id}/link/contacts?fields=last_name`)).body.records[0];
    expect(related).toMatchObject({ id: contact.id, last_name: 'Fields', date_modified: contact.date_modified });
    expect(related.name).toBeUndefined();
  });

  it('counts a link\'s records as {record_count}, within what the user may see', async () => {
    const account = (await api('POST', '/Accounts', { name: 'Counted' })).body;
    for (const last_name of ['One', 'Two', 'Three']) {
      const contact = (await api('POST', '/Contacts', { last_name, assigned_user_id: last_name === 'One' ? undefined : '1' })).body;
      await api('POST', `/Accounts/${account.id}/link/contacts/${contact.id}`);
    }
    expect(await api('GET', `/Accounts/${account.id}/link/contacts/count`)).toMatchObject({ status: 200, body: { record_count: 3 } });
    expect((await api('GET', `/Accounts/${account.id}/link/contacts/filter/count?filter[0][last_name]=Two`)).body).toEqual({ record_count: 1 });
    expect(await api('GET', `/Accounts/${account.id}/link/nope/count`)).toMatchObject({ status: 404, body: { error_message: 'Could not find a relationship named: nope' } });
    // A user who sees only their own contacts counts only those.
    const owner = await loginWithRole(get(), { name: 'counter', password: 'counter-pass' }, 'Counters', [['Contacts', 'view', 'owner'], ['Contacts', 'list', 'owner']]);
    const mine = (await api('POST', '/Contacts', { last_name: 'Mine' }, owner)).body;
    await api('POST', `/Accounts/${account.id}/link/contacts/${mine.id}`);
    expect((await api('GET', `/Accounts/${account.id}/link/contacts/count`, undefined, owner)).body).toEqual({ record_count: 1 });
    expect((await api('GET', `/Accounts/${account.id}/link/contacts/count`)).body).toEqual({ record_count: 4 });
  });

  it('links several records at once with link_name and ids, relationship fields included', async () => {
    const opp = (await api('POST', '/Opportunities', { name: 'Multi', amount: '10', date_closed: '2026-09-30', sales_stage: 'Prospecting' })).body;
    const [a, b] = [(await api('POST', '/Contacts', { last_name: 'A' })).body, (await api('POST', '/Contacts', { last_name: 'B' })).body];
    const linked = await api('POST', `/Opportunities/${opp.id}/link`, { link_name: 'contacts', ids: [a.id, { id: b.id, contact_role: 'Influencer' }] });
    expect(linked.status).toBe(200);
    expect(linked.body.record).toMatchObject({ id: opp.id, _module: 'Opportunities' });
    expect(linked.body.related_records.map((r: { id: string }) => r.id)).toEqual([a.id, b.id]);
    const listed = (await api('GET', `/Opportunities/${opp.id}/link/contacts?order_by=last_name:asc`)).body.records;
    expect(listed.find((r: { id: string }) => r.id === b.id).contact_role).toBe('Influencer');
    expect(await api('POST', `/Opportunities/${opp.id}/link`, { link_name: 'nope', ids: [a.id] })).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await api('POST', `/Opportunities/${opp.id}/link`, { ids: [a.id] })).toMatchObject({ status: 422, body: { error: 'missing_parameter' } });
    expect(await api('POST', `/Opportunities/${opp.id}/link`, { link_name: 'contacts', ids: [] })).toMatchObject({ status: 422, body: { error: 'missing_parameter' } });
    expect(await api('POST', `/Opportunities/${opp.id}/link`, { link_name: 'contacts', ids: [42] })).toMatchObject({ status: 422, body: { error: 'invalid_parameter' } });
    expect((await api('POST', `/Opportunities/${opp.id}/link`, { link_name: 'contacts', ids: Array(201).fill(a.id) })).status).toBe(422);
  });

  it('creates a related record and links it with POST /<module>/:id/link/<link>', async () => {
    const account = (await api('POST', '/Accounts', { name: 'Parent Co' })).body;
    const made = await api('POST', `/Accounts/${account.id}/link/contacts`, { first_name: 'New', last_name: 'Child', _module: 'Contacts' });
    expect(made.status).toBe(200);
    expect(made.body.record).toMatchObject({ id: account.id, _module: 'Accounts' });
    expect(made.body.related_record).toMatchObject({ first_name: 'New', last_name: 'Child', _module: 'Contacts' });
    const listed = (await api('GET', `/Accounts/${account.id}/link/contacts`)).body.records;
    expect(listed.map((r: { id: string }) => r.id)).toEqual([made.body.related_record.id]);
    expect((await api('POST', `/Accounts/${account.id}/link/contacts`, { first_name: 'No last name' })).status).toBe(422);
    expect((await api('POST', '/Accounts/no-such-id/link/contacts', { last_name: 'Orphan' })).status).toBe(404);
    expect((await api('GET', '/Contacts/count?filter[0][last_name]=Orphan')).body).toEqual({ record_count: 0 });
  });

  it('runs /bulk sub-requests in order through the same routes with the caller\'s token', async () => {
    const answer = await api('POST', '/bulk', { requests: [
      { url: '/v10/Accounts', method: 'POST', data: JSON.stringify({ name: 'Bulk One' }) },
      { url: '/v10/Accounts', method: 'POST', data: { name: 'Bulk Two' } },
      { url: '/v10/Accounts?filter[0][name][$starts]=Bulk&fields=name&order_by=name:asc', method: 'GET' },
      { url: '/v10/Accounts/no-such-id', method: 'GET' },
      { url: '/v10/Accounts', method: 'POST', data: '{not json' },
      { url: '/v10/Nope/1/2/3/4/5', method: 'GET' },
      { url: '/v10/bulk', method: 'POST', data: '{"requests":[]}' },
      { url: 'http://elsewhere/', method: 'GET' },
      'nonsense',
    ] });
    expect(answer.status).toBe(200);
    const [one, two, list, missing, badJson, noRoute, nested, elsewhere, nonsense] = answer.body;
    expect(one).toMatchObject({ status: 200, status_text: 'OK', contents: { name: 'Bulk One', _module: 'Accounts' } });
    expect(one.headers.etag).toBeDefined();
    expect(two).toMatchObject({ status: 200, contents: { name: 'Bulk Two' } });
    expect(list.contents.records.map((r: { name: string }) => r.name)).toEqual(['Bulk One', 'Bulk Two']);
    expect(missing).toMatchObject({ status: 404, contents: { error: 'not_found' } });
    expect(badJson).toMatchObject({ status: 422, contents: { error: 'invalid_parameter' } });
    expect(noRoute).toMatchObject({ status: 404, contents: { error: 'no_method' } });
    for (const refused of [nested, elsewhere, nonsense]) expect(refused).toMatchObject({ status: 422, contents: { error: 'invalid_parameter' } });
    // Sub-requests act as the caller: a user who sees only their own accounts lists only those.
    const owner = await loginWithRole(get(), { name: 'bulker', password: 'bulker-pass' }, 'Bulkers', [['Accounts', 'view', 'owner'], ['Accounts', 'list', 'owner']]);
    const theirs = (await api('POST', '/bulk', { requests: [{ url: '/v10/Accounts', method: 'POST', data: { name: 'Bulk Mine' } }, { url: '/v10/Accounts?filter[0][name][$starts]=Bulk&fields=name', method: 'GET' }] }, owner)).body;
    expect(theirs[1].contents.records.map((r: { name: string }) => r.name)).toEqual(['Bulk Mine']);
    expect(await api('POST', '/bulk', { requests: Array(101).fill({ url: '/v10/ping', method: 'GET' }) })).toMatchObject({ status: 422, body: { error: 'invalid_parameter' } });
    expect(await api('POST', '/bulk', {})).toMatchObject({ status: 422, body: { error: 'missing_parameter' } });
    expect((await get().call('POST', '/rest/v10/bulk', { body: { requests: [] } })).status).toBe(401);
  });

  it('changes the user\'s own password with PUT /me/password, keeping this session and ending the others', async () => {
    const mine = await loginWithRole(get(), { name: 'changer', password: 'changer-old' }, 'Changers', []);
    const other = await get().login('changer', 'changer-old');
    expect(await api('PUT', '/me/password', { old_password: 'wrong-one', new_password: 'changer-new' }, mine)).toMatchObject({ status: 200, body: { valid: false, message: expect.stringContaining('Need valid password') } });
    expect(await api('PUT', '/me/password', { old_password: 'changer-old', new_password: 'abc' }, mine)).toMatchObject({ status: 200, body: { valid: false } });
    expect(await api('PUT', '/me/password', { new_password: 'changer-new' }, mine)).toMatchObject({ status: 422, body: { error: 'missing_parameter', field: 'old_password' } });
    expect(await api('PUT', '/me/password', { old_password: 'changer-old', new_password: 'changer-new' }, mine)).toMatchObject({ status: 200, body: { valid: true, message: 'Password updated.' } });
    expect((await api('GET', '/me', undefined, mine)).status).toBe(200);
    expect((await api('GET', '/me', undefined, other)).status).toBe(401);
    await expect(get().login('changer', 'changer-old')).rejects.toThrow();
    expect(await get().login('changer', 'changer-new')).toBeTruthy();
    expect((await get().call('PUT', '/rest/v10/me/password', { body: { old_password: 'x', new_password: 'y' } })).status).toBe(401);
  });
});
