import { RoleAdmin } from '../../core/security/roles';
import { createUser } from '../../core/security/users';
import { describeEachServer } from '../helpers/crm';

describeEachServer('roles and access control', (get) => {
  let admin = '';
  let sally = '';
  let max = '';
  let sallyId = '';
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const { crm } = get();
    sallyId = (await createUser(crm.engine, { user_name: 'sally', password: 'sally-pass', last_name: 'Sales' })).id;
    await createUser(crm.engine, { user_name: 'max', password: 'max-pass', last_name: 'Marketing' });
    const roles = new RoleAdmin(crm.engine, crm.services.acl);
    await roles.create('Sales rep', 'Own accounts only, no opportunities');
    await roles.set('Sales rep', 'Accounts', 'list', 'owner');
    await roles.set('Sales rep', 'Accounts', 'view', 'owner');
    await roles.set('Sales rep', 'Accounts', 'edit', 'owner');
    await roles.set('Sales rep', 'Accounts', 'delete', 'none');
    await roles.set('Sales rep', 'Opportunities', 'access', 'disabled');
    await roles.create('Read only', 'Contacts read only');
    await roles.set('Read only', 'Contacts', 'edit', 'none');
    await roles.set('Read only', 'Accounts', 'edit', 'all');
    await roles.assign('Sales rep', 'sally');
    await roles.assign('Read only', 'sally');
    await roles.assign('Read only', 'max');
    admin = await get().login('admin', 'secret-admin');
    sally = await get().login('sally', 'sally-pass');
    max = await get().login('max', 'max-pass');
    const mk = async (name: string, owner: string) => (await get().call('POST', '/rest/v10/Accounts', { token: admin, body: { name, assigned_user_id: owner } })).body.id;
    ids.mine = await mk('Sally Co', sallyId);
    ids.theirs = await mk('Someone Else Co', '1');
    ids.contact = (await get().call('POST', '/rest/v10/Contacts', { token: admin, body: { last_name: 'Shared', account_id: ids.mine } })).body.id;
    await get().call('POST', `/rest/v10/Accounts/${ids.theirs}/link/contacts/${ids.contact}`, { token: admin });
    await get().call('POST', `/rest/v10/Accounts/${ids.mine}/link/contacts/${ids.contact}`, { token: admin });
  });

  const as = (token: string) => (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });

  it('limits an owner-only role to its records in lists, counts, reads and related lists, in the query', async () => {
    const s = as(sally);
    const page = (await s('GET', '/Accounts?fields=name')).body.records;
    expect(page.map((r: { name: string }) => r.name)).toEqual(['Sally Co']);
    // Her own record: editable (owner level), though fields= left the owner column out of the answer.
    expect(page[0]._acl).toEqual({ fields: {}, delete: 'no' });
    expect((await s('GET', '/Accounts/count')).body.record_count).toBe(1);
    expect(await s('GET', `/Accounts/${ids.theirs}`)).toMatchObject({ status: 404 });
    expect((await s('GET', `/Accounts/${ids.mine}`)).status).toBe(200);
    expect((await s('GET', `/Contacts/${ids.contact}/link/accounts`)).body.records.map((r: { id: string }) => r.id)).toEqual([ids.mine]);
    expect((await as(max)('GET', '/Accounts/count')).body.record_count).toBe(2);
  });

  it('combines several roles to the most restrictive level', async () => {
    const s = as(sally);
    // "Read only" allows editing all accounts, "Sales rep" only owned ones: owner wins.
    expect((await s('PUT', `/Accounts/${ids.mine}`, { name: 'Sally Co (edited)' })).status).toBe(200);
    expect(await s('PUT', `/Accounts/${ids.theirs}`, { name: 'Nope' })).toMatchObject({ status: 404 });
    expect(await s('DELETE', `/Accounts/${ids.mine}`)).toMatchObject({ status: 403, body: { error: 'not_authorized' } });
    expect(await s('POST', '/Contacts', { last_name: 'New' })).toMatchObject({ status: 403, body: { error: 'not_authorized' } });
    expect((await s('GET', '/Contacts')).status).toBe(200);
  });

  it('refuses a module whose access is disabled', async () => {
    const s = as(sally);
    expect(await s('GET', '/Opportunities')).toMatchObject({ status: 403, body: { error: 'not_authorized' } });
    expect(await s('POST', '/Opportunities', { name: 'x' })).toMatchObject({ status: 403 });
    const me = (await s('GET', '/me')).body.current_user;
    expect(me.module_list).not.toContain('Opportunities');
    expect(me.acl.Accounts).toMatchObject({ list: 'owner', edit: 'owner', delete: 'no' });
    expect(Object.keys((await s('GET', '/metadata?type_filter=modules')).body.modules)).not.toContain('Opportunities');
  });

  it('tells clients what they may do in _acl', async () => {
    const record = (await as(sally)('GET', `/Accounts/${ids.mine}`)).body;
    expect(record._acl).toMatchObject({ delete: 'no' });
    expect(record._acl.edit).toBeUndefined();
    const contact = (await as(max)('GET', `/Contacts/${ids.contact}`)).body;
    expect(contact._acl).toMatchObject({ edit: 'no' });
    expect((await as(admin)('GET', `/Accounts/${ids.theirs}`)).body._acl).toEqual({ fields: {} });
  });

  it('keeps admin modules and admin fields for administrators', async () => {
    const m = as(max);
    expect(await m('GET', '/ACLRoles')).toMatchObject({ status: 403 });
    expect((await m('GET', '/Users?fields=user_name')).status).toBe(200);
    const self = (await m('GET', '/me')).body.current_user.id;
    expect((await m('PUT', `/Users/${self}`, { title: 'Marketing Lead' })).status).toBe(200);
    expect(await m('PUT', `/Users/${self}`, { is_admin: true })).toMatchObject({ status: 403, body: { error: 'not_authorized' } });
    expect(await m('PUT', '/Users/1', { title: 'Hacked' })).toMatchObject({ status: 403 });
    expect(await m('POST', '/Users', { user_name: 'intruder', last_name: 'X' })).toMatchObject({ status: 403 });
    expect((await as(admin)('GET', '/ACLRoles')).body.records.map((r: { name: string }) => r.name).sort()).toEqual(['Read only', 'Sales rep']);
  });

  it('applies roles to v4_1 as well', async () => {
    const login = await get().v4('login', { user_auth: { user_name: 'sally', password: (await import('../../core/security/passwords')).md5Hex('sally-pass') }, application_name: 'test' });
    const list = await get().v4('get_entry_list', { session: login.id, module_name: 'Accounts', query: '', order_by: '', offset: 0, select_fields: ['name'], max_results: 10, deleted: 0 });
    expect(list.entry_list.map((e: { name_value_list: { name: { value: string } } }) => e.name_value_list.name.value)).toEqual(['Sally Co (edited)']);
    expect(await get().v4('get_entry_list', { session: login.id, module_name: 'Opportunities', query: '' })).toMatchObject({ number: 40, name: 'Access Denied' });
  });
});
