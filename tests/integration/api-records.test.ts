import { describeEachServer } from '../helpers/crm';

describeEachServer('REST v10 records', (get) => {
  let token = '';
  beforeAll(async () => { token = await get().login('admin', 'secret-admin'); });
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => get().call(method, `/rest/v10${path}`, { token, body, headers });

  it('creates, reads, updates and deletes with Sugar\'s record shape', async () => {
    const created = await api('POST', '/Accounts', { name: 'Acme', industry: 'Banking', _module: 'Accounts', _acl: {}, my_favorite: false });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'Acme', industry: 'Banking', deleted: false, _module: 'Accounts', _acl: { fields: {} } });
    expect(created.body.date_entered).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    const id = created.body.id;
    const read = await api('GET', `/Accounts/${id}?fields=name`);
    expect(Object.keys(read.body).sort()).toEqual(['_acl', '_module', 'date_modified', 'id', 'name']);
    const updated = await api('PUT', `/Accounts/${id}`, { billing_address_city: 'Lisbon' });
    expect(updated.body).toMatchObject({ name: 'Acme', billing_address_city: 'Lisbon' });
    expect(await api('DELETE', `/Accounts/${id}`)).toMatchObject({ status: 200, body: { id } });
    expect(await api('GET', `/Accounts/${id}`)).toMatchObject({ status: 404, body: { error: 'not_found', error_message: `Could not find record: ${id} in module: Accounts` } });
  });

  it('lists with filter (JSON, bracket notation and POST), fields, order_by, paging and count', async () => {
    for (const [name, industry] of [['Zeta Bank', 'Banking'], ['Alpha Bank', 'Banking'], ['Mid Retail', 'Retail'], ['Omega Bank', 'Banking']]) {
      await api('POST', '/Accounts', { name, industry });
    }
    const json = encodeURIComponent(JSON.stringify([{ industry: 'Banking' }, { name: { $ends: 'Bank' } }]));
    const page1 = await api('GET', `/Accounts?filter=${json}&fields=name&order_by=name:asc&max_num=2`);
    expect(page1.body.records.map((r: { name: string }) => r.name)).toEqual(['Alpha Bank', 'Omega Bank']);
    expect(page1.body.next_offset).toBe(2);
    const page2 = await api('GET', `/Accounts?filter=${json}&fields=name&order_by=name:asc&max_num=2&offset=2`);
    expect(page2.body).toMatchObject({ next_offset: -1, records: [{ name: 'Zeta Bank' }] });
    const bracket = await api('GET', `/Accounts?filter[0][name][$starts]=Alpha&fields=name`);
    expect(bracket.body.records.map((r: { name: string }) => r.name)).toEqual(['Alpha Bank']);
    const posted = await api('POST', '/Accounts/filter', { filter: [{ $or: [{ name: 'Mid Retail' }, { name: 'Zeta Bank' }] }], order_by: 'name:desc', fields: 'name' });
    expect(posted.body.records.map((r: { name: string }) => r.name)).toEqual(['Zeta Bank', 'Mid Retail']);
    expect((await api('GET', `/Accounts/count?filter=${json}`)).body).toEqual({ record_count: 3 });
    expect((await api('GET', '/Accounts?q=Ome&fields=name')).body.records.map((r: { name: string }) => r.name)).toEqual(['Omega Bank']);
    expect((await api('GET', '/Accounts?offset=end')).body).toEqual({ next_offset: -1, records: [] });
  });

  it('treats SQL-looking filter values as plain values', async () => {
    const evil = encodeURIComponent(JSON.stringify([{ name: "x'; DROP TABLE accounts; --" }]));
    expect((await api('GET', `/Accounts?filter=${evil}`)).body.records).toEqual([]);
    expect((await api('GET', '/Accounts/count')).status).toBe(200);
  });

  it('links and unlinks records, with relationship fields, and lists them with paging', async () => {
    const opp = (await api('POST', '/Opportunities', { name: 'Deal', amount: '1200', date_closed: '2026-09-30', sales_stage: 'Prospecting' })).body;
    expect(opp).toMatchObject({ probability: 10, amount: '1200.000000' });
    const contact = (await api('POST', '/Contacts', { first_name: 'Ana', last_name: 'Lima' })).body;
    const linked = await api('POST', `/Opportunities/${opp.id}/link/contacts/${contact.id}`, { contact_role: 'Influencer' });
    expect(linked.status).toBe(200);
    expect(linked.body.record.id).toBe(opp.id);
    expect(linked.body.related_record).toMatchObject({ id: contact.id, _module: 'Contacts' });
    const related = await api('GET', `/Opportunities/${opp.id}/link/contacts?fields=name`);
    expect(related.body).toMatchObject({ next_offset: -1, records: [{ id: contact.id, name: 'Ana Lima', contact_role: 'Influencer', _module: 'Contacts' }] });
    expect((await api('DELETE', `/Opportunities/${opp.id}/link/contacts/${contact.id}`)).status).toBe(200);
    expect((await api('GET', `/Contacts/${contact.id}/link/opportunities`)).body.records).toEqual([]);
    expect(await api('GET', `/Opportunities/${opp.id}/link/nope`)).toMatchObject({ status: 404, body: { error: 'not_found', error_message: 'Could not find a relationship named: nope' } });
    expect(await api('POST', `/Opportunities/${opp.id}/link/contacts/${contact.id}`, { contact_role: 'Boss' })).toMatchObject({ status: 422, body: { error: 'invalid_parameter' } });
  });

  it('mass updates only fields marked massupdate', async () => {
    const a = (await api('POST', '/Leads', { last_name: 'One', status: 'New' })).body;
    const b = (await api('POST', '/Leads', { last_name: 'Two', status: 'New' })).body;
    const res = await api('PUT', '/Leads/MassUpdate', { massupdate_params: { uid: [a.id, b.id, 'missing-id'], status: 'Assigned' } });
    expect(res.body).toMatchObject({ failed: 1, status: 'done' });
    expect((await api('GET', `/Leads/${b.id}`)).body.status).toBe('Assigned');
    expect(await api('PUT', '/Leads/MassUpdate', { massupdate_params: { uid: [a.id], date_entered: '2020-01-01' } })).toMatchObject({ status: 422, body: { error: 'invalid_parameter' } });
    expect(await api('PUT', '/Leads/MassUpdate', { massupdate_params: { status: 'Dead' } })).toMatchObject({ status: 422, body: { error: 'missing_parameter' } });
  });

  it('answers 409 edit_conflict to a stale update', async () => {
    const account = (await api('POST', '/Accounts', { name: 'Locked' })).body;
    await new Promise((r) => setTimeout(r, 1100));
    await api('PUT', `/Accounts/${account.id}`, { name: 'Changed elsewhere' });
    const stale = await api('PUT', `/Accounts/${account.id}`, { name: 'Mine', date_modified: account.date_modified });
    expect(stale).toMatchObject({ status: 409, body: { error: 'edit_conflict' } });
    const fresh = (await api('GET', `/Accounts/${account.id}`)).body;
    expect((await api('PUT', `/Accounts/${account.id}`, { name: 'Mine' }, { 'X-Timestamp': fresh.date_modified })).status).toBe(200);
  });

  it('gives every bad input Sugar\'s error shape and a 4xx', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/Accounts', { name: 'x'.repeat(151), industry: 'Nope', no_field: 1 }, 422, 'invalid_parameter'],
      ['POST', '/Accounts', [1, 2], 422, 'invalid_parameter'],
      ['POST', '/Nope', { name: 'x' }, 404, 'not_found'],
      ['GET', '/Accounts?filter=notjson', undefined, 422, 'invalid_parameter'],
      ['GET', `/Accounts?filter=${encodeURIComponent('[{"nmae":"x"}]')}`, undefined, 422, 'invalid_parameter'],
      ['GET', `/Accounts?filter=${encodeURIComponent('[{"name":{"$regex":"x"}}]')}`, undefined, 422, 'invalid_parameter'],
      ['GET', '/Accounts?max_num=lots', undefined, 422, 'invalid_parameter'],
      ['GET', '/Accounts?order_by=bogus:asc', undefined, 422, 'invalid_parameter'],
      ['GET', '/Accounts?fields=name,nope', undefined, 422, 'invalid_parameter'],
      ['PUT', '/Accounts/missing', { name: 'x' }, 404, 'not_found'],
      ['GET', '/Accounts/enum/name', undefined, 404, 'not_found'],
      ['GET', '/no/such/route/here/at/all', undefined, 404, 'no_method'],
    ];
    for (const [method, path, body, status, error] of cases) {
      const res = await api(method, path, body);
      expect([path, res.status, res.body.error]).toEqual([path, status, error]);
      expect(typeof res.body.error_message).toBe('string');
    }
    const invalid = await api('POST', '/Accounts', { name: 'x'.repeat(151), industry: 'Nope', no_field: 1 });
    expect(invalid.body.fields.map((f: { field: string; rule: string }) => `${f.field}:${f.rule}`).sort()).toEqual(['industry:enum', 'name:len', 'no_field:unknown']);
    const big = await get().call('POST', '/rest/v10/Accounts', { token, raw: JSON.stringify({ name: 'big', description: 'x'.repeat(1_100_000) }) });
    expect(big).toMatchObject({ status: 413, body: { error: 'request_too_large' } });
  });

  it('serves dropdowns, metadata and an OpenAPI document from the metadata', async () => {
    expect((await api('GET', '/Accounts/enum/industry')).body).toMatchObject({ Banking: 'Banking' });
    const meta = await api('GET', '/metadata?type_filter=modules,app_list_strings,module_list&module_filter=Accounts');
    expect(Object.keys(meta.body.modules)).toEqual(['Accounts']);
    expect(meta.body.modules.Accounts.fields.name).toMatchObject({ type: 'name', len: 150 });
    expect(meta.body.modules.Accounts.views.list.NAME).toMatchObject({ link: true });
    expect(meta.body.app_list_strings.campaign_type_dom.SMS).toBe('SMS');
    expect(meta.body.module_list).toHaveProperty('Accounts');
    expect(meta.body._hash).toMatch(/^[0-9a-f]{40}$/);
    expect((await api('GET', '/metadata?module_filter=Users&type_filter=modules')).body.modules.Users.fields).not.toHaveProperty('user_hash');
    const openapi = await get().call('GET', '/rest/v10/openapi.json');
    expect(openapi.body.openapi).toBe('3.0.3');
    expect(openapi.body.paths['/Accounts/{id}'].put).toBeDefined();
    expect(openapi.body.paths['/Leads/{id}/convert'].post.requestBody.content['application/json'].schema.required).toEqual(['modules']);
    expect(openapi.body.paths['/globalsearch'].get.parameters.map((p: { name: string }) => p.name)).toContain('q');
    expect(openapi.body.components.schemas.Accounts.properties.industry.enum).toContain('Banking');
    expect(openapi.body.components.schemas.Users.properties).not.toHaveProperty('user_hash');
  });

  it('returns the audit log of a record', async () => {
    const account = (await api('POST', '/Accounts', { name: 'Audited' })).body;
    await api('PUT', `/Accounts/${account.id}`, { name: 'Audited twice' });
    const audit = await api('GET', `/Accounts/${account.id}/audit`);
    expect(audit.body.records).toMatchObject([{ field_name: 'name', before: 'Audited', after: 'Audited twice', created_by: '1' }]);
  });
});
