import { describeEachServer } from '../helpers/crm';

/** Every name Object.prototype answers to: user input must never reach them through a lookup. */
const NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupGetter__'];

describeEachServer('names of Object.prototype as field, link, module, operator and option names', (get) => {
  let token = '';
  let session = '';
  let account = '';
  beforeAll(async () => {
    token = await get().login('admin', 'secret-admin');
    session = await get().v4Login('admin', 'secret-admin');
    account = (await get().call('POST', '/rest/v10/Accounts', { token, body: { name: 'Proto' } })).body.id;
  });
  const v10 = (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });
  const clientError = (status: number) => status >= 400 && status < 500;

  for (const name of NAMES) {
    it(`'${name}' gets a 4xx or is ignored, never a 500, on every transport`, async () => {
      const statuses: Array<[string, number]> = [];
      const rec = (what: string, status: number) => statuses.push([what, status]);
      rec('filter field', (await v10('GET', `/Accounts?filter=${encodeURIComponent(JSON.stringify([{ [name]: 'x' }]))}`)).status);
      rec('filter operator', (await v10('GET', `/Accounts?filter=${encodeURIComponent(JSON.stringify([{ name: { [name]: 'x' } }]))}`)).status);
      rec('order_by', (await v10('GET', `/Accounts?order_by=${encodeURIComponent(`${name}:asc`)}`)).status);
      rec('fields', (await v10('GET', `/Accounts?fields=${encodeURIComponent(name)}`)).status);
      rec('create body', (await v10('POST', '/Accounts', JSON.parse(`{"name":"p","${name}":"x"}`))).status);
      rec('update body', (await v10('PUT', `/Accounts/${account}`, JSON.parse(`{"${name}":"x"}`))).status);
      rec('enum value', (await v10('PUT', `/Accounts/${account}`, { industry: name })).status);
      rec('link name', (await v10('GET', `/Accounts/${account}/link/${encodeURIComponent(name)}`)).status);
      rec('module', (await v10('GET', `/${encodeURIComponent(name)}`)).status);
      const legacy = [
        await get().v4('get_entry_list', { session, module_name: 'Accounts', query: `accounts.${name} = 'x'`, order_by: '', offset: 0, select_fields: ['name'], max_results: 5, deleted: 0 }),
        await get().v4('get_entry_list', { session, module_name: 'Accounts', query: '', order_by: name, offset: 0, select_fields: [name], max_results: 5, deleted: 0 }),
        await get().v4('set_entry', { session, module_name: 'Accounts', name_value_list: [{ name, value: 'x' }, { name: 'name', value: 'legacy' }] }),
        await get().v4('get_entry_list', { session, module_name: name, query: '', order_by: '', offset: 0, select_fields: [], max_results: 5, deleted: 0 }),
      ];
      const failures = statuses.filter(([, s]) => !(clientError(s) || s === 200));
      expect(failures).toEqual([]);
      for (const answer of legacy) expect(JSON.stringify(answer)).not.toMatch(/Internal Error|"number":1000\b|Unknown module: undefined/);
    });
  }
});
