import { describeEachServer } from '../helpers/crm';

// The answer shapes SuiteCRM 7 gives and its clients parse (reference: service/v4_1, service/core).
describeEachServer('legacy REST v4_1 answer shapes', (get) => {
  let session = '';
  const v4 = (method: string, data: unknown) => get().v4(method, data);

  beforeAll(async () => {
    session = await get().v4Login('admin', 'secret-admin');
  });

  it('get_entry and get_entries give relationship_list as one list of {name, records} per entry', async () => {
    const account = await v4('set_entry', [session, 'Accounts', { name: 'Shapes Co' }]);
    const contact = await v4('set_entry', [session, 'Contacts', { last_name: 'Shaped' }]);
    await v4('set_relationship', [session, 'Accounts', account.id, 'contacts', [contact.id]]);
    const links = [{ name: 'contacts', value: ['id', 'last_name'] }];
    const entry = await v4('get_entry', [session, 'Accounts', account.id, ['name'], links]);
    expect(entry.relationship_list).toEqual([[{ name: 'contacts', records: [{ id: { name: 'id', value: contact.id }, last_name: { name: 'last_name', value: 'Shaped' } }] }]]);
    const entries = await v4('get_entries', [session, 'Accounts', [account.id, account.id], ['name'], links]);
    expect(entries.relationship_list).toHaveLength(2);
    expect(entries.relationship_list[1][0].records[0].last_name.value).toBe('Shaped');
    const list = await v4('get_entry_list', [session, 'Accounts', "accounts.name = 'Shapes Co'", '', 0, ['name'], links]);
    expect(list.relationship_list[0].link_list[0].records[0].link_value.last_name.value).toBe('Shaped');
  });

  it('set_relationship with an unknown link counts a failure instead of an error', async () => {
    const account = await v4('set_entry', [session, 'Accounts', { name: 'No Such Link Co' }]);
    expect(await v4('set_relationship', [session, 'Accounts', account.id, 'no_such_link', ['x']])).toEqual({ created: 0, failed: 1, deleted: 0 });
  });

  it('seamless_login answers 1 for a good session and 0 for a bad one', async () => {
    expect(await v4('seamless_login', [session])).toBe(1);
    expect(await v4('seamless_login', ['bogus'])).toBe(0);
  });

  it('get_server_info names the SuiteCRM version too', async () => {
    const info = await v4('get_server_info', []);
    expect(info).toMatchObject({ flavor: 'CE', version: '6.5.25' });
    expect(info.suitecrm_version).toMatch(/^7\.\d+\.\d+$/);
    expect(info.gmt_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('get_module_fields gives len as a string, options as a map and link fields with group and id_name', async () => {
    const fields = await v4('get_module_fields', [session, 'Accounts', ['name', 'description', 'date_entered', 'contacts']]);
    expect(fields.module_fields.name.len).toBe('150');
    expect(fields.module_fields.date_entered.len).toBe('');
    expect(fields.module_fields.name.options).toEqual({});
    expect(fields.link_fields.contacts).toEqual(expect.objectContaining({ name: 'contacts', type: 'link', group: '', id_name: '', relationship: 'accounts_contacts', module: 'Contacts' }));
  });

  it('an unknown method answers number "-1" as a string', async () => {
    expect(await v4('no_such_method', [])).toEqual({ name: 'An Undefined Error - invalid_call occurred', number: '-1', description: 'The method called does not exist' });
  });
});
