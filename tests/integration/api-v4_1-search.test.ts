import { describeEachServer } from '../helpers/crm';

// search_by_module(session, search_string, modules, offset, max_results, assigned_user_id, select_fields,
// unified_search_only, favorites) and get_entry_list's deleted and favorites, as SuiteCRM 7 answers them.
describeEachServer('legacy REST v4_1 search_by_module and get_entry_list options', (get) => {
  let session = '';
  const v4 = (method: string, data: unknown) => get().v4(method, data);
  type Found = { entry_list: Array<{ name: string; records: Array<Record<string, { name: string; value: string }>> }> };

  beforeAll(async () => {
    session = await get().v4Login('admin', 'secret-admin');
    await v4('set_entries', [session, 'Accounts', [{ name: 'Zephyr Search One' }, { name: 'Zephyr Search Two', assigned_user_id: '1' }, { name: 'Other Zephyr' }]]);
    await v4('set_entry', [session, 'Contacts', { last_name: 'Zephyrson' }]);
  });

  it('answers {entry_list: [{name: module, records: [name_value_list]}]} for records starting with the text', async () => {
    const found: Found = await v4('search_by_module', [session, 'Zephyr', ['Accounts', 'Contacts'], 0, 10, '', ['id', 'name', 'last_name'], true, false]);
    const accounts = found.entry_list.find((m) => m.name === 'Accounts')!;
    expect(accounts.records.map((r) => r.name.value).sort()).toEqual(['Zephyr Search One', 'Zephyr Search Two']);
    expect(Object.keys(accounts.records[0]).sort()).toEqual(['id', 'name']);
    expect(accounts.records[0].name).toEqual({ name: 'name', value: expect.stringMatching(/^Zephyr Search/) });
    expect(found.entry_list.find((m) => m.name === 'Contacts')!.records.map((r) => r.last_name.value)).toEqual(['Zephyrson']);
  });

  it('answers the list view columns with id when no fields are asked for, and honours paging and the assigned user', async () => {
    const found: Found = await v4('search_by_module', { session, search_string: 'Zephyr Search', modules: ['Accounts'], offset: 0, max_results: 1 });
    expect(found.entry_list).toHaveLength(1);
    expect(found.entry_list[0].records).toHaveLength(1);
    expect(found.entry_list[0].records[0]).toHaveProperty('id');
    expect(found.entry_list[0].records[0]).toHaveProperty('billing_address_city');
    const mine: Found = await v4('search_by_module', [session, 'Zephyr', ['Accounts'], 0, 10, '1', ['name']]);
    expect(mine.entry_list[0].records.map((r) => r.name.value).sort()).toEqual(['Zephyr Search One', 'Zephyr Search Two']);
    const nobody: Found = await v4('search_by_module', [session, 'Zephyr', ['Accounts'], 0, 10, 'no-such-user', ['name']]);
    expect(nobody.entry_list[0].records).toEqual([]);
  });

  it('answers an empty entry_list for an empty search string, and skips unknown modules', async () => {
    expect(await v4('search_by_module', [session, '', ['Accounts'], 0, 10])).toEqual({ entry_list: [] });
    expect(await v4('search_by_module', [session, 'Zephyr', ['NoSuchModule'], 0, 10])).toEqual({ entry_list: [] });
    expect(await v4('search_by_module', ['bogus', 'Zephyr', ['Accounts'], 0, 10])).toMatchObject({ number: 11 });
  });

  it('get_entry_list and get_entries_count include deleted records only when deleted is set', async () => {
    const gone = await v4('set_entry', [session, 'Accounts', { name: 'Deleted Zephyr' }]);
    await v4('set_entry', [session, 'Accounts', { id: gone.id, deleted: 1 }]);
    const query = "accounts.name = 'Deleted Zephyr'";
    expect((await v4('get_entry_list', [session, 'Accounts', query, '', 0, ['name'], [], 10, 0])).entry_list).toEqual([]);
    const withDeleted = await v4('get_entry_list', [session, 'Accounts', query, '', 0, ['name', 'deleted'], [], 10, 1]);
    expect(withDeleted.entry_list[0].name_value_list.deleted.value).toBe('1');
    expect(await v4('get_entries_count', [session, 'Accounts', query, 1])).toEqual({ result_count: '1' });
    expect(await v4('get_entries_count', [session, 'Accounts', query, 0])).toEqual({ result_count: '0' });
  });

  it('honours favorites: favourites-only lists and searches hold the records the user marked', async () => {
    const all = await v4('get_entry_list', [session, 'Accounts', "accounts.name LIKE 'Zephyr%'", '', 0, ['name'], [], 10, 0, false]);
    expect(all.result_count).toBe(2);
    expect(await v4('get_entry_list', [session, 'Accounts', "accounts.name LIKE 'Zephyr%'", '', 0, ['name'], [], 10, 0, true])).toMatchObject({ result_count: 0, total_count: '0', entry_list: [] });
    const token = await get().login('admin', 'secret-admin');
    const one = all.entry_list.find((e: { name_value_list: { name: { value: string } } }) => e.name_value_list.name.value === 'Zephyr Search One');
    expect((await get().call('PUT', `/rest/v10/Accounts/${one.id}/favorite`, { token })).body.my_favorite).toBe(true);
    const favourites = await v4('get_entry_list', [session, 'Accounts', "accounts.name LIKE 'Zephyr%'", '', 0, ['name'], [], 10, 0, true]);
    expect(favourites.entry_list.map((e: { id: string }) => e.id)).toEqual([one.id]);
    const found: Found = await v4('search_by_module', [session, 'Zephyr', ['Accounts'], 0, 10, '', ['id', 'name'], true, true]);
    expect(found.entry_list.find((m) => m.name === 'Accounts')!.records.map((r) => r.id.value)).toEqual([one.id]);
  });
});
