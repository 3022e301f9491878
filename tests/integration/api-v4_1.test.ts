import { md5Hex } from '../../core/security/passwords';
import { describeEachServer } from '../helpers/crm';

describeEachServer('legacy REST v4_1', (get) => {
  let session = '';
  const v4 = (method: string, data: unknown) => get().v4(method, data);

  beforeAll(async () => {
    const login = await v4('login', { user_auth: { user_name: 'admin', password: md5Hex('secret-admin') }, application_name: 'tests', name_value_list: [] });
    session = login.id;
  });

  it('logs in with the MD5 password (or PLAIN) and answers Sugar\'s login shape with both spellings', async () => {
    const positional = await v4('login', [{ user_name: 'admin', password: md5Hex('secret-admin') }, 'tests', []]);
    expect(positional).toMatchObject({ module_name: 'Users', name_value_list: { user_id: { name: 'user_id', value: '1' }, user_is_admin: { value: true } } });
    expect(positional.name_value_list.user_number_seperator.value).toBe(',');
    expect(positional.name_value_list.user_number_separator.value).toBe(',');
    const plain = await v4('login', { user_auth: { user_name: 'admin', password: 'secret-admin', encryption: 'PLAIN' }, application: 'x' });
    expect(typeof plain.id).toBe('string');
    expect(await v4('login', { user_auth: { user_name: 'admin', password: md5Hex('nope') } })).toEqual({ name: 'Invalid Login', number: 10, description: 'Login attempt failed please check the username and password' });
    expect(await v4('get_user_id', { session: 'bogus' })).toEqual({ name: 'Invalid Session ID', number: 11, description: 'The session ID is invalid' });
    expect(await v4('get_user_id', { session })).toBe('1');
    expect(await v4('no_such_method', {})).toMatchObject({ number: '-1' });
    expect((await v4('get_server_info', [])).flavor).toBe('CE');
  });

  it('creates and updates with set_entry / set_entries and reads with get_entry / get_entries', async () => {
    const created = await v4('set_entry', { session, module_name: 'Accounts', name_value_list: [{ name: 'name', value: 'Legacy Co' }, { name: 'industry', value: 'Retail' }] });
    expect(created.entry_list.name).toEqual({ name: 'name', value: 'Legacy Co' });
    await v4('set_entry', [session, 'Accounts', { id: created.id, billing_address_city: 'Porto' }]);
    const withId = await v4('set_entry', { session, module_name: 'Accounts', name_value_list: { id: 'legacy-fixed-id', new_with_id: true, name: 'Fixed Id Co' } });
    expect(withId.id).toBe('legacy-fixed-id');
    const entry = await v4('get_entry', { session, module_name: 'Accounts', id: created.id, select_fields: ['name', 'billing_address_city', 'deleted', 'date_entered'] });
    expect(entry.entry_list[0]).toMatchObject({ id: created.id, module_name: 'Accounts', name_value_list: { name: { value: 'Legacy Co' }, billing_address_city: { value: 'Porto' }, deleted: { value: '0' } } });
    expect(entry.entry_list[0].name_value_list.date_entered.value).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const missing = await v4('get_entries', { session, module_name: 'Accounts', ids: ['nope'], select_fields: [] });
    expect(missing.entry_list[0].name_value_list).toEqual([{ name: 'warning', value: 'Access to this object is denied since it has been deleted or does not exist' }, { name: 'deleted', value: '1' }]);
    const many = await v4('set_entries', { session, module_name: 'Contacts', name_value_lists: [[{ name: 'last_name', value: 'One' }], { last_name: 'Two' }] });
    expect(many.ids).toHaveLength(2);
    expect(await v4('set_entry', { session, module_name: 'Accounts', name_value_list: { name: 'x'.repeat(200) } })).toMatchObject({ number: 1001 });
    expect(await v4('set_entry', { session, module_name: 'Nope', name_value_list: {} })).toMatchObject({ name: 'Module Does Not Exist', number: 20 });
  });

  it('lists with get_entry_list: SQL query, order_by, paging, counts and related records', async () => {
    for (const name of ['Query Alpha', 'Query Beta', 'Query Gamma']) await v4('set_entry', { session, module_name: 'Accounts', name_value_list: { name, industry: 'Energy' } });
    const contact = await v4('set_entry', { session, module_name: 'Contacts', name_value_list: { last_name: 'Linked' } });
    const alpha = (await v4('get_entry_list', { session, module_name: 'Accounts', query: "accounts.name = 'Query Alpha'" })).entry_list[0].id;
    expect(await v4('set_relationship', { session, module_name: 'Accounts', module_id: alpha, link_field_name: 'contacts', related_ids: [contact.id] })).toEqual({ created: 1, failed: 0, deleted: 0 });
    const list = await v4('get_entry_list', {
      session, module_name: 'Accounts', query: "accounts.name LIKE 'Query%' AND accounts.industry IN ('Energy','Media')", order_by: 'accounts.name DESC',
      offset: 0, select_fields: ['id', 'name'], link_name_to_fields_array: [{ name: 'contacts', value: ['id', 'last_name'] }], max_results: 2, deleted: 0,
    });
    expect(list.entry_list.map((e: { name_value_list: { name: { value: string } } }) => e.name_value_list.name.value)).toEqual(['Query Gamma', 'Query Beta']);
    expect(list).toMatchObject({ result_count: 2, total_count: '3', next_offset: 2 });
    const next = await v4('get_entry_list', [session, 'Accounts', "accounts.name LIKE 'Query%'", 'accounts.name DESC', 2, ['name'], [{ name: 'contacts', value: ['last_name'] }], 2, 0, false]);
    expect(next.entry_list[0].name_value_list.name.value).toBe('Query Alpha');
    // The last page (total taken from it) and a page past the end (counted) tell the same total.
    expect(next).toMatchObject({ result_count: 1, total_count: '3', next_offset: 3 });
    expect(await v4('get_entry_list', [session, 'Accounts', "accounts.name LIKE 'Query%'", '', 7, ['name'], [], 2, 0, false])).toMatchObject({ result_count: 0, total_count: '3' });
    expect(next.relationship_list[0].link_list[0]).toEqual({ name: 'contacts', records: [{ link_value: { last_name: { name: 'last_name', value: 'Linked' } } }] });
    expect(await v4('get_entries_count', { session, module_name: 'Accounts', query: "accounts.name LIKE 'Query%'", deleted: 0 })).toEqual({ result_count: '3' });
    // Sugar's disable_count_query: a page with more after it does not count every match; the last page still knows its total.
    get().crm.services.disableCountQuery = true;
    try {
      expect(await v4('get_entry_list', [session, 'Accounts', "accounts.name LIKE 'Query%'", 'accounts.name DESC', 0, ['name'], [], 2, 0, false])).toMatchObject({ result_count: 2, total_count: '-1', next_offset: 2 });
      expect(await v4('get_entry_list', [session, 'Accounts', "accounts.name LIKE 'Query%'", 'accounts.name DESC', 2, ['name'], [], 2, 0, false])).toMatchObject({ result_count: 1, total_count: '3' });
    } finally {
      get().crm.services.disableCountQuery = false;
    }
    const related = await v4('get_relationships', { session, module_name: 'Accounts', module_id: alpha, link_field_name: 'contacts', related_module_query: "contacts.last_name = 'Linked'", related_fields: ['id', 'last_name'], deleted: 0 });
    expect(related.entry_list).toMatchObject([{ id: contact.id, module_name: 'Contacts', name_value_list: { last_name: { value: 'Linked' } } }]);
    expect(await v4('set_relationship', { session, module_name: 'Accounts', module_id: alpha, link_field_name: 'contacts', related_ids: [contact.id], delete: 1 })).toEqual({ created: 0, failed: 0, deleted: 1 });
  });

  it('refuses queries it does not understand, before anything reaches SQL', async () => {
    const attempts = ["accounts.name = 'x'; DELETE FROM accounts", "1=1 OR name = 'x'", 'id IN (SELECT id FROM users)', "name = SLEEP(3)", "users.user_hash LIKE '$2%'"];
    for (const query of attempts) {
      const res = await v4('get_entry_list', { session, module_name: 'Accounts', query, order_by: '', offset: 0, select_fields: ['id'], max_results: 5 });
      expect(res).toMatchObject({ name: 'Access Denied', number: 40 });
      expect(res.description).toMatch(/^query: /);
    }
    expect(await v4('get_entry_list', { session, module_name: 'Accounts', query: '', order_by: 'name; DROP TABLE x' })).toMatchObject({ number: 40 });
    expect((await v4('get_entries_count', { session, module_name: 'Accounts', query: '' })).result_count).not.toBe('0');
  });

  it('describes modules and fields as Sugar does', async () => {
    const modules = await v4('get_available_modules', { session, filter: 'all' });
    const accounts = modules.modules.find((m: { module_key: string }) => m.module_key === 'Accounts');
    expect(accounts).toMatchObject({ module_label: 'Accounts', favorite_enabled: false });
    expect(accounts.acls).toContainEqual({ action: 'edit', access: true });
    const fields = await v4('get_module_fields', { session, module_name: 'Accounts', fields: ['name', 'industry', 'contacts'] });
    expect(fields).toMatchObject({ module_name: 'Accounts', table_name: 'accounts' });
    expect(fields.module_fields.name).toMatchObject({ name: 'name', type: 'name', required: 1, len: '150', label: 'Name' });
    expect(fields.module_fields.industry.options.Banking).toEqual({ name: 'Banking', value: 'Banking' });
    expect(fields.link_fields.contacts).toMatchObject({ name: 'contacts', type: 'link', module: 'Contacts', relationship: 'accounts_contacts' });
  });

  it('logs out', async () => {
    const login = await v4('login', { user_auth: { user_name: 'admin', password: md5Hex('secret-admin') } });
    expect(await v4('logout', { session: login.id })).toBeNull();
    expect(await v4('get_user_id', [login.id])).toMatchObject({ number: 11 });
  });
});
