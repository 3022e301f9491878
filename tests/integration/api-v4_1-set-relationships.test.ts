import { describeEachServer } from '../helpers/crm';

/** v4_1 set_relationships(session, module_names, module_ids, link_field_names, related_ids, name_value_lists, delete_array). */
describeEachServer('legacy REST v4_1 set_relationships', (get) => {
  let session = '';
  const v4 = (method: string, data: unknown) => get().v4(method, data);
  beforeAll(async () => {
    session = await get().v4Login('admin', 'secret-admin');
  });

  it('relates several pairs in one call, counts each entry as SuiteCRM does, and adds nothing twice when repeated', async () => {
    const [account] = (await v4('set_entries', [session, 'Accounts', [[{ name: 'name', value: 'Rel Co' }]]])).ids;
    const contacts = (await v4('set_entries', [session, 'Contacts', [[{ name: 'last_name', value: 'Rel One' }], [{ name: 'last_name', value: 'Rel Two' }]]])).ids;
    const call = [session, ['Accounts', 'Accounts', 'Nope'], [account, account, 'x'], ['contacts', 'no_such_link', 'contacts'], [contacts, [contacts[0]], ['y']], [[], [], []], [0, 0, 0]];
    expect(await v4('set_relationships', call)).toEqual({ created: 1, failed: 2, deleted: 0 });
    expect(await v4('set_relationships', call)).toEqual({ created: 1, failed: 2, deleted: 0 });
    const rows = await get().crm.engine.db.knex('accounts_contacts').where({ account_id: account, deleted: 0 });
    expect(rows.map((r: { contact_id: string }) => r.contact_id).sort()).toEqual([...contacts].sort());
    expect(await v4('set_relationships', [session, ['Accounts'], [account], ['contacts'], [[contacts[1]]], [[]], [1]])).toEqual({ created: 0, failed: 0, deleted: 1 });
    expect(await get().crm.engine.db.knex('accounts_contacts').where({ account_id: account, deleted: 0 }).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(1);
  });
});
