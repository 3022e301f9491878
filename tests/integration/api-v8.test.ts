import { OAuth2ClientStore, hashClientSecret } from '../../core/security/oauth2-clients';
import { describeEachServer, loginWithRole, type TestServer } from '../helpers/crm';

/** SuiteCRM's V8 JSON:API (Api/V8/Config/routes.php), as its source and documentation describe it. */
describeEachServer('SuiteCRM V8 JSON:API', (get) => {
  let clientId = '';
  let credentialsClientId = '';
  let token = '';
  const secret = 'v8-client-secret';

  const form = (fields: Record<string, string>) => ({ raw: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const v8 = (method: string, path: string, body?: unknown, bearer = token) =>
    get().call(method, `/Api/V8${path}`, { body, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  const passwordGrant = async (server: TestServer, username: string, password: string) => {
    const res = await server.call('POST', '/Api/access_token', { body: { grant_type: 'password', client_id: clientId, client_secret: secret, username, password } });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };

  beforeAll(async () => {
    const clients = new OAuth2ClientStore(get().crm.engine.db, () => new Date());
    clientId = (await clients.create({ name: 'V8 test', grant: 'password', secret })).id;
    credentialsClientId = (await clients.create({ name: 'V8 machine', grant: 'client_credentials', assignedUserId: '1', secret })).id;
    token = await passwordGrant(get(), 'admin', 'secret-admin');
  });

  describe('POST /Api/access_token', () => {
    it('keeps the client secret as SuiteCRM does (SHA-256 hex) in oauth2clients', async () => {
      const row = await get().crm.engine.db.knex('oauth2clients').where({ id: clientId }).first();
      expect(row).toMatchObject({ name: 'V8 test', secret: hashClientSecret(secret), allowed_grant_type: 'password' });
      expect(row.secret).toBe(require('node:crypto').createHash('sha256').update(secret).digest('hex'));
    });

    it('password grant (JSON) answers a Bearer token pair that works on /Api/V8', async () => {
      const res = await get().call('POST', '/Api/access_token', { body: { grant_type: 'password', client_id: clientId, client_secret: secret, username: 'admin', password: 'secret-admin' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ token_type: 'Bearer', expires_in: 3600, access_token: expect.any(String), refresh_token: expect.any(String) });
      expect((await v8('GET', '/current-user', undefined, res.body.access_token)).status).toBe(200);
    });

    it('password grant with a form body, and refresh_token rotates the pair', async () => {
      const res = await get().call('POST', '/Api/access_token', form({ grant_type: 'password', client_id: clientId, client_secret: secret, username: 'admin', password: 'secret-admin' }));
      expect(res.status).toBe(200);
      const refreshed = await get().call('POST', '/Api/access_token', form({ grant_type: 'refresh_token', client_id: clientId, client_secret: secret, refresh_token: res.body.refresh_token }));
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.token_type).toBe('Bearer');
      expect((await v8('GET', '/current-user', undefined, res.body.access_token)).status).toBe(401);
      expect((await v8('GET', '/current-user', undefined, refreshed.body.access_token)).status).toBe(200);
      const again = await get().call('POST', '/Api/access_token', form({ grant_type: 'refresh_token', client_id: clientId, client_secret: secret, refresh_token: res.body.refresh_token }));
      expect(again.status).toBe(401);
      expect(again.body).toMatchObject({ error: 'invalid_request', error_description: 'The refresh token is invalid.' });
    });

    it('client_credentials grant acts as the client\'s assigned user, without a refresh token', async () => {
      const res = await get().call('POST', '/Api/access_token', { body: { grant_type: 'client_credentials', client_id: credentialsClientId, client_secret: secret } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ token_type: 'Bearer', expires_in: 3600, access_token: expect.any(String) });
      const me = await v8('GET', '/current-user', undefined, res.body.access_token);
      expect(me.body.data).toMatchObject({ type: 'User', id: '1', attributes: { user_name: 'admin' } });
      expect(me.body.data.attributes.user_hash).toBeUndefined();
    });

    it('client credentials also come by HTTP Basic authentication', async () => {
      const basic = Buffer.from(`${credentialsClientId}:${secret}`).toString('base64');
      const res = await get().call('POST', '/Api/access_token', { ...form({ grant_type: 'client_credentials' }), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` } });
      expect(res.status).toBe(200);
    });

    it('refuses as league/oauth2-server does: bad secret, grant not allowed, bad credentials, unknown grant, missing parameter', async () => {
      const post = (body: Record<string, unknown>) => get().call('POST', '/Api/access_token', { body });
      const badSecret = await post({ grant_type: 'password', client_id: clientId, client_secret: 'nope', username: 'admin', password: 'secret-admin' });
      expect(badSecret.status).toBe(401);
      expect(badSecret.body).toMatchObject({ error: 'invalid_client', error_description: 'Client authentication failed', message: 'Client authentication failed' });
      expect((await post({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret })).body.error).toBe('invalid_client');
      expect((await post({ grant_type: 'password', client_id: 'no-such-client', client_secret: secret, username: 'admin', password: 'x' })).status).toBe(401);
      const badPassword = await post({ grant_type: 'password', client_id: clientId, client_secret: secret, username: 'admin', password: 'wrong' });
      expect(badPassword.status).toBe(400);
      expect(badPassword.body).toMatchObject({ error: 'invalid_grant', error_description: 'The user credentials were incorrect.' });
      expect((await post({ grant_type: 'authorization_code', client_id: clientId, client_secret: secret })).body.error).toBe('unsupported_grant_type');
      const missing = await post({ grant_type: 'password', client_id: clientId, client_secret: secret, password: 'x' });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ error: 'invalid_request', hint: 'Check the `username` parameter' });
      const badJson = await get().call('POST', '/Api/access_token', { raw: '{"grant_type":', headers: { 'content-type': 'application/json' } });
      expect(badJson.status).toBe(400);
      expect(badJson.body.error).toBe('invalid_request');
    });

    it('/Api/V8 without a valid bearer token is league\'s 401 access_denied', async () => {
      const none = await v8('GET', '/module/Accounts', undefined, '');
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ error: 'access_denied', hint: 'Missing "Authorization" header' });
      expect((await v8('GET', '/module/Accounts', undefined, 'forged')).status).toBe(401);
    });
  });

  describe('records', () => {
    let accountId = '';
    beforeAll(async () => {
      for (const [name, type] of [['V8 Alpha', 'Customer'], ['V8 Beta', 'Customer'], ['V8 Gamma', 'Partner'], ['V8 Delta', 'Customer'], ['V8 Epsilon', 'Customer']]) {
        const res = await v8('POST', '/module', { data: { type: 'Accounts', attributes: { name, account_type: type, industry: 'Banking' } } });
        expect(res.status).toBe(201);
        if (name === 'V8 Alpha') accountId = res.body.data.id;
      }
    });

    it('POST /module answers 201 with the record; type is the object name, as SuiteCRM sends it', async () => {
      const res = await v8('POST', '/module', { data: { type: 'Accounts', attributes: { name: 'Created Co', billing_address_city: 'Lyon' } } });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toContain('application/vnd.api+json');
      expect(res.body.data).toMatchObject({ type: 'Account', id: expect.any(String), attributes: { name: 'Created Co', billing_address_city: 'Lyon' } });
      expect(res.body.data.attributes.id).toBeUndefined();
      expect(res.body.data.attributes.date_entered).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      expect(res.body.data.relationships.Contacts).toEqual({ links: { related: `V8/module/Accounts/${res.body.data.id}/relationships/contacts` } });
    });

    it('POST /module takes the object name as type and a client-chosen id', async () => {
      const id = '6b1d1d7e-1d6c-4b5e-9a3e-0f1c2d3e4f50';
      const res = await v8('POST', '/module', { data: { type: 'Account', id, attributes: { name: 'Chosen Id' } } });
      expect(res.status).toBe(201);
      expect(res.body.data.id).toBe(id);
      expect((await v8('POST', '/module', { data: { type: 'Accounts', id, attributes: { name: 'Again' } } })).status).toBe(400);
    });

    it('GET /module/{Module}/{id} with fields[Module]', async () => {
      const res = await v8('GET', `/module/Accounts/${accountId}?fields[Accounts]=name,account_type`);
      expect(res.status).toBe(200);
      expect(res.body.data.attributes).toEqual({ name: 'V8 Alpha', account_type: 'Customer' });
      expect((await v8('GET', `/module/Accounts/${accountId}?fields[Account]=name`)).body.data.attributes).toEqual({ name: 'V8 Alpha' });
    });

    it('lists with filter, operator, sort and paging, and meta total-pages plus links', async () => {
      const res = await v8('GET', '/module/Accounts?fields[Accounts]=name&filter[operator]=and&filter[account_type][eq]=Customer&filter[name][like]=V8%25&sort=-name&page[size]=2&page[number]=1');
      expect(res.status).toBe(200);
      expect(res.body.meta).toEqual({ 'total-pages': 2, 'records-on-this-page': 2 });
      expect(res.body.data.map((r: any) => r.attributes.name)).toEqual(['V8 Epsilon', 'V8 Delta']);
      expect(res.body.data[0]).toMatchObject({ type: 'Account', attributes: { name: 'V8 Epsilon' } });
      expect(res.body.links.first).toBeNull();
      expect(res.body.links.next).toContain('page[number]=2');
      expect(res.body.links.last).toContain('page[number]=2');
      const second = await v8('GET', '/module/Accounts?fields[Accounts]=name&filter[account_type][eq]=Customer&filter[name][like]=V8%25&sort=-name&page[size]=2&page[number]=2');
      expect(second.body.data.map((r: any) => r.attributes.name)).toEqual(['V8 Beta', 'V8 Alpha']);
      expect(second.body.links).toMatchObject({ next: null, last: null, prev: expect.stringContaining('page[number]=1') });
    });

    it('filter[operator]=or, neq, and without page[size] every record with no paging meta', async () => {
      const or = await v8('GET', '/module/Accounts?fields[Accounts]=name&filter[operator]=or&filter[name][eq]=V8 Alpha&filter[account_type][eq]=Partner');
      expect(or.body.data.map((r: any) => r.attributes.name).sort()).toEqual(['V8 Alpha', 'V8 Gamma']);
      expect(or.body.meta).toBeUndefined();
      const neq = await v8('GET', '/module/Accounts?filter[account_type][neq]=Customer&filter[name][like]=V8%25');
      expect(neq.body.data.map((r: any) => r.attributes.name)).toEqual(['V8 Gamma']);
      const none = await v8('GET', '/module/Accounts?filter[name][eq]=Nobody');
      expect(none.body).toEqual({ meta: { message: 'Request was successful, but there is no result' }, data: [] });
    });

    it('PATCH /module updates (201, as SuiteCRM) and needs data.id (400)', async () => {
      const res = await v8('PATCH', '/module', { data: { type: 'Accounts', id: accountId, attributes: { industry: 'Energy' } } });
      expect(res.status).toBe(201);
      expect(res.body.data.attributes.industry).toBe('Energy');
      const noId = await v8('PATCH', '/module', { data: { type: 'Accounts', attributes: { industry: 'Energy' } } });
      expect(noId.status).toBe(400);
      expect(noId.body).toEqual({ errors: { status: 400, title: null, detail: 'The required option "id" is missing.' } });
    });

    it('DELETE /module/{Module}/{id}, after which the record is not found', async () => {
      const created = await v8('POST', '/module', { data: { type: 'Accounts', attributes: { name: 'Doomed' } } });
      const res = await v8('DELETE', `/module/Accounts/${created.body.data.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ meta: { message: `Record with id ${created.body.data.id} is deleted` }, data: [] });
      expect((await v8('GET', `/module/Accounts/${created.body.data.id}`)).status).toBe(404);
      const deleted = await v8('GET', `/module/Accounts?filter[deleted][eq]=1&filter[name][eq]=Doomed`);
      expect(deleted.body.data.map((r: any) => r.id)).toEqual([created.body.data.id]);
    });

    it('bad input is a JSON:API error object with 400, never a 500', async () => {
      const cases: Array<[string, string, unknown?]> = [
        ['GET', '/module/Nope'],
        ['GET', '/module/Accounts?fields[Accounts]=name,nope'],
        ['GET', '/module/Accounts?fields[Accounts]=user_hash'],
        ['GET', '/module/Accounts?fields=name'],
        ['GET', '/module/Accounts?sort=nope'],
        ['GET', '/module/Accounts?sort=name;drop'],
        ['GET', '/module/Accounts?filter[nope][eq]=1'],
        ['GET', '/module/Accounts?filter[name][regex]=x'],
        ['GET', '/module/Accounts?filter[name]=x'],
        ['GET', '/module/Accounts?filter[operator]=xor&filter[name][eq]=x'],
        ['GET', '/module/Accounts?filter[name][like]=a%25b'],
        ['GET', '/module/Accounts?filter[annual_revenue][gt][x]=1'],
        ['GET', '/module/Accounts?page[size]=0'],
        ['GET', '/module/Accounts?page[size]=-1'],
        ['GET', '/module/Accounts?page[number]=x'],
        ['GET', '/module/Accounts/bad%20id'],
        ['POST', '/module', { data: { type: 'Nope', attributes: {} } }],
        ['POST', '/module', { data: { attributes: { name: 'x' } } }],
        ['POST', '/module', { data: { type: 'Accounts', attributes: { nope: 1 } } }],
        ['POST', '/module', { data: { type: 'Accounts', attributes: ['x'] } }],
        ['POST', '/module', { nodata: true }],
        ['POST', '/module', [1, 2]],
        ['POST', '/module', { data: { type: 'Accounts', attributes: { name: 'x', date_closed: 'not a date', annual_revenue: 5 } } }],
        ['PATCH', '/module', { data: { type: 'Accounts', id: 'x y', attributes: {} } }],
      ];
      for (const [method, path, body] of cases) {
        const res = await v8(method, path, body);
        expect([method, path, res.status]).toEqual([method, path, 400]);
        expect(res.body.errors).toEqual({ status: 400, title: null, detail: expect.any(String) });
      }
      const unknownType = await v8('POST', '/module', { data: { type: 'Nope', attributes: {} } });
      expect(unknownType.body.errors.detail).toBe('Module Nope does not exist');
      expect((await v8('GET', '/module/Accounts?fields[Accounts]=name,nope')).body.errors.detail).toBe('The following field in Account module is not found: nope');
      expect((await v8('GET', '/module/Accounts?sort=-nope')).body.errors.detail).toBe('Sort field nope in Account module is not found');
      expect((await v8('GET', '/module/Accounts?filter[nope][eq]=1')).body.errors.detail).toBe('Filter field nope in Account module is not found');
      const badJson = await get().call('POST', '/Api/V8/module', { raw: '{"data":', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.api+json' } });
      expect(badJson.status).toBe(400);
      expect(badJson.body.errors.status).toBe(400);
      const missing = await v8('GET', '/module/Accounts/00000000-0000-0000-0000-000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body.errors).toEqual({ status: 404, title: null, detail: 'Accounts module with id 00000000-0000-0000-0000-000000000000 is not found' });
      expect((await v8('GET', '/no/such/route')).status).toBe(404);
    });

    it('the same API answers under /Api/index.php and /legacy/Api (SuiteCRM 8)', async () => {
      for (const prefix of ['/Api/index.php', '/legacy/Api']) {
        const res = await get().call('GET', `${prefix}/V8/module/Accounts/${accountId}?fields[Accounts]=name`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.body.data.attributes).toEqual({ name: 'V8 Alpha' });
      }
    });
  });

  describe('relationships', () => {
    let accountId = '';
    let contactId = '';
    beforeAll(async () => {
      accountId = (await v8('POST', '/module', { data: { type: 'Accounts', attributes: { name: 'Related Co' } } })).body.data.id;
      contactId = (await v8('POST', '/module', { data: { type: 'Contacts', attributes: { last_name: 'Linked' } } })).body.data.id;
    });

    it('POST …/relationships/{link} relates, GET lists with SuiteCRM\'s meta, DELETE unrelates', async () => {
      const created = await v8('POST', `/module/Accounts/${accountId}/relationships/contacts`, { data: { type: 'Contacts', id: contactId } });
      expect(created.status).toBe(201);
      expect(created.body.meta).toMatchObject({ sourceModule: 'Accounts', sourceId: accountId, relatedModule: 'Contacts', relatedId: contactId, relationshipLink: 'contacts' });
      const list = await v8('GET', `/module/Accounts/${accountId}/relationships/contacts`);
      expect(list.status).toBe(200);
      expect(list.body.meta).toEqual({ 'total-records': 1, 'total-pages': 1, 'records-on-this-page': 1 });
      expect(list.body.data[0]).toMatchObject({ type: 'Contact', id: contactId, attributes: { last_name: 'Linked' }, links: { self: `V8/module/Contact/${contactId}` } });
      const removed = await v8('DELETE', `/module/Accounts/${accountId}/relationships/contacts/${contactId}`);
      expect(removed.status).toBe(200);
      expect(removed.body.meta.message).toBe(`Relationship has been deleted between Account with id ${accountId} and Contact with id ${contactId}`);
      const empty = await v8('GET', `/module/Accounts/${accountId}/relationships/contacts`);
      expect(empty.body).toEqual({ meta: { message: 'There is no relationship set in Account module with contacts link field' }, data: [] });
      expect((await v8('DELETE', `/module/Accounts/${accountId}/relationships/contacts/${contactId}`)).status).toBe(400);
    });

    it('POST …/relationships without a link finds it from the related type', async () => {
      const res = await v8('POST', `/module/Accounts/${accountId}/relationships`, { data: { type: 'Contacts', id: contactId } });
      expect(res.status).toBe(201);
      expect(res.body.meta.message).toBe(`Contact with id ${contactId} has been added to Account with id ${accountId}`);
      expect((await v8('GET', `/module/Accounts/${accountId}/relationships/contacts?page[size]=1`)).body.meta).toEqual({ 'total-records': 1, 'total-pages': 1, 'records-on-this-page': 1 });
    });

    it('unknown links and types are 400, unknown records 404', async () => {
      const badLink = await v8('GET', `/module/Accounts/${accountId}/relationships/nope`);
      expect(badLink.status).toBe(400);
      expect(badLink.body.errors.detail).toBe('Cannot load relationship nope for Account module');
      expect((await v8('POST', `/module/Accounts/${accountId}/relationships/contacts`, { data: { type: 'Nope', id: contactId } })).status).toBe(400);
      expect((await v8('POST', `/module/Accounts/${accountId}/relationships/contacts`, { data: { type: 'Contacts' } })).status).toBe(400);
      expect((await v8('POST', `/module/Accounts/${accountId}/relationships/contacts`, { data: { type: 'Opportunities', id: contactId } })).status).toBe(400);
      expect((await v8('POST', `/module/Accounts/${accountId}/relationships/contacts`, { data: { type: 'Contacts', id: '00000000-0000-0000-0000-000000000001' } })).status).toBe(404);
      expect((await v8('GET', '/module/Accounts/00000000-0000-0000-0000-000000000001/relationships/contacts')).status).toBe(404);
    });
  });

  describe('meta, current user, logout and access control', () => {
    it('GET /meta/modules lists modules with label and access', async () => {
      const res = await v8('GET', '/meta/modules');
      expect(res.status).toBe(200);
      expect(res.body.data.type).toBe('modules');
      expect(res.body.data.attributes.Accounts).toEqual({ label: 'Accounts', access: expect.arrayContaining(['access', 'view', 'list', 'edit', 'delete']) });
    });

    it('GET /meta/fields/{Module} gives SuiteCRM\'s pruned vardefs', async () => {
      const res = await v8('GET', '/meta/fields/Accounts');
      expect(res.status).toBe(200);
      expect(res.body.data.type).toBe('fields');
      expect(res.body.data.attributes.name).toMatchObject({ type: 'name', dbType: 'varchar', required: true });
      expect(res.body.data.attributes.account_type).toMatchObject({ type: 'enum', required: false });
      expect(res.body.data.attributes.name.vname).toBeUndefined();
      expect((await v8('GET', '/meta/fields/Nope')).status).toBe(400);
    });

    it('a user sees only records in their view scope: others are 404 like unknown ids, lists leave them out', async () => {
      const server = get();
      const adminOwned = (await v8('POST', '/module', { data: { type: 'Accounts', attributes: { name: 'Admin Only Co', assigned_user_id: '1' } } })).body.data.id;
      await loginWithRole(server, { name: 'v8rep', password: 'v8rep-pass' }, 'V8 rep', [['Accounts', 'view', 'owner'], ['Accounts', 'list', 'owner'], ['Accounts', 'edit', 'owner'], ['Accounts', 'delete', 'none']]);
      const rep = await passwordGrant(server, 'v8rep', 'v8rep-pass');
      const hidden = await v8('GET', `/module/Accounts/${adminOwned}`, undefined, rep);
      const unknown = await v8('GET', '/module/Accounts/00000000-0000-0000-0000-000000000002', undefined, rep);
      expect(hidden.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(hidden.body.errors.detail).toBe(`Accounts module with id ${adminOwned} is not found`);
      const list = await v8('GET', '/module/Accounts?filter[name][eq]=Admin Only Co', undefined, rep);
      expect(list.body.data).toEqual([]);
      expect((await v8('PATCH', '/module', { data: { type: 'Accounts', id: adminOwned, attributes: { name: 'Taken' } } }, rep)).status).toBe(404);
      expect((await v8('DELETE', `/module/Accounts/${adminOwned}`, undefined, rep)).status).toBe(404);
      const own = await v8('POST', '/module', { data: { type: 'Accounts', attributes: { name: 'Rep Co' } } }, rep);
      expect(own.status).toBe(201);
      expect((await v8('DELETE', `/module/Accounts/${own.body.data.id}`, undefined, rep)).status).toBe(403);
      const me = await v8('GET', '/current-user', undefined, rep);
      expect(me.body.data).toMatchObject({ type: 'User', attributes: { user_name: 'v8rep' } });
      expect(me.body.data.relationships).toBeDefined();
      const modules = await v8('GET', '/meta/modules', undefined, rep);
      expect(modules.body.data.attributes.Accounts.access).not.toContain('delete');
    });

    it('POST /logout ends the token', async () => {
      const mine = await passwordGrant(get(), 'admin', 'secret-admin');
      const res = await v8('POST', '/logout', undefined, mine);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ meta: { message: 'You have been successfully logged out' }, data: [] });
      expect((await v8('GET', '/current-user', undefined, mine)).status).toBe(401);
    });
  });
});

/** The same API over the demo data: Cane's own ids, existing links, and a client that empties a module first. */
describeEachServer('SuiteCRM V8 JSON:API on the demo data', (get) => {
  let token = '';
  const v8 = (method: string, path: string, body?: unknown) => get().call(method, `/Api/V8${path}`, { body, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    const secret = 'demo-v8-secret';
    const client = await new OAuth2ClientStore(get().crm.engine.db, () => new Date()).create({ name: 'demo', grant: 'password', secret });
    token = (await get().call('POST', '/Api/access_token', { body: { grant_type: 'password', client_id: client.id, client_secret: secret, username: 'admin', password: 'secret-admin' } })).body.access_token;
  });

  it('reads demo records by their ids and follows their links', async () => {
    const account = await v8('GET', '/module/Accounts/demo-account-01?fields[Accounts]=name');
    expect(account.status).toBe(200);
    expect(account.body.data).toMatchObject({ type: 'Account', id: 'demo-account-01' });
    const contacts = await v8('GET', '/module/Accounts/demo-account-01/relationships/contacts?page[size]=1&page[number]=1');
    expect(contacts.status).toBe(200);
    expect(contacts.body.meta['records-on-this-page']).toBe(1);
  });

  it('a client can empty a module page by page and then find it empty', async () => {
    for (;;) {
      const page = await v8('GET', '/module/Leads?fields[Leads]=last_name&page[size]=50&page[number]=1');
      expect(page.status).toBe(200);
      if (!page.body.data.length) break;
      for (const lead of page.body.data) expect((await v8('DELETE', `/module/Leads/${lead.id}`)).status).toBe(200);
    }
    expect((await v8('GET', '/module/Leads')).body).toEqual({ meta: { message: 'Request was successful, but there is no result' }, data: [] });
  });
}, { demo: true });
