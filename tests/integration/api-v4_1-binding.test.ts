import { md5Hex } from '../../core/security/passwords';
import { describeEachServer } from '../helpers/crm';

// SuiteCRM on PHP 5/7 bound rest_data by position in the order given and ignored the keys.
describeEachServer('legacy REST v4_1 argument binding', (get) => {
  let session = '';
  const v4 = (method: string, data: unknown) => get().v4(method, data);

  beforeAll(async () => {
    session = (await v4('login', [{ user_name: 'admin', password: md5Hex('secret-admin') }, 'tests', []])).id;
  });

  it('logs in with a positional array', async () => {
    expect(typeof session).toBe('string');
    expect(await v4('get_user_id', [session])).toBe('1');
  });

  it('binds set_entries by position when a key is not the parameter name (name_value_list, as client libraries send)', async () => {
    const many = await v4('set_entries', { session, module_name: 'Contacts', name_value_list: [[{ name: 'last_name', value: 'Bound One' }], [{ name: 'last_name', value: 'Bound Two' }]] });
    expect(many.ids).toHaveLength(2);
    const read = await v4('get_entries', [session, 'Contacts', many.ids, ['last_name']]);
    expect(read.entry_list.map((e: { name_value_list: { last_name: { value: string } } }) => e.name_value_list.last_name.value)).toEqual(['Bound One', 'Bound Two']);
  });

  it('binds any keys by position in the order given when they are not all parameter names', async () => {
    const created = await v4('set_entry', { a: session, b: 'Accounts', c: [{ name: 'name', value: 'Keyed By Position' }] });
    expect(typeof created.id).toBe('string');
    const list = await v4('get_entry_list', { session, module: 'Accounts', query: "accounts.name = 'Keyed By Position'" });
    expect(list.entry_list.map((e: { id: string }) => e.id)).toEqual([created.id]);
  });

  it('binds by name when every key names a parameter, even out of order', async () => {
    const created = await v4('set_entry', { name_value_list: { name: 'Named Out Of Order' }, module_name: 'Accounts', session });
    const entry = await v4('get_entry', { select_fields: ['name'], id: created.id, session, module_name: 'Accounts' });
    expect(entry.entry_list[0]).toMatchObject({ id: created.id, name_value_list: { name: { value: 'Named Out Of Order' } } });
    const count = await v4('get_entries_count', { query: "accounts.name = 'Named Out Of Order'", session, module_name: 'Accounts' });
    expect(count).toEqual({ result_count: '1' });
  });
});
