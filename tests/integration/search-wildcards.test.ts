import { describeEachServer } from '../helpers/crm';
import { session as uiSession } from '../helpers/ui-session';

// Sugar's wildcard rules wherever a user searches: v10 filters, the v4_1 query and search_by_module, the list view's search.
describeEachServer('search wildcards', (get) => {
  let token = '';
  let v4Session = '';
  const names = ['Blue Finch Bank', 'Finch Partners', 'Fincham Ltd', 'Red Robin', 'Gamma_Co', 'GammaXCo', 'Beta 100% Ltd', 'Star*Co'];

  beforeAll(async () => {
    token = await get().login('admin', 'secret-admin');
    for (const name of names) expect((await get().call('POST', '/rest/v10/Accounts', { token, body: { name } })).status).toBe(200);
    v4Session = await get().v4Login('admin', 'secret-admin');
  });

  const v10 = async (filter: unknown) => {
    const res = await get().call('POST', '/rest/v10/Accounts/filter', { token, body: { filter, fields: 'name', max_num: 50, order_by: 'name:asc' } });
    return { status: res.status, body: res.body, names: res.status === 200 ? res.body.records.map((r: { name: string }) => r.name).sort() : [] };
  };

  it('takes % in $starts, $ends and $contains as a wildcard, and _ literally (v10)', async () => {
    expect((await v10([{ name: { $starts: '%Finch' } }])).names).toEqual(['Blue Finch Bank', 'Finch Partners', 'Fincham Ltd']);
    expect((await v10([{ name: { $starts: 'Fi%ch' } }])).names).toEqual(['Finch Partners', 'Fincham Ltd']);
    expect((await v10([{ name: { $contains: 'ue%nch' } }])).names).toEqual(['Blue Finch Bank']);
    expect((await v10([{ name: { $ends: 'B%k' } }])).names).toEqual(['Blue Finch Bank']);
    expect((await v10([{ name: { $not_contains: 'in%h' } }])).names).toEqual(['Beta 100% Ltd', 'GammaXCo', 'Gamma_Co', 'Red Robin', 'Star*Co']);
    expect((await v10([{ name: { $starts: 'Gamma_' } }])).names).toEqual(['Gamma_Co']);
    expect((await v10([{ name: { $contains: '100%' } }])).names).toEqual(['Beta 100% Ltd']);
    // v10 filters know only Sugar's SQL wildcard: * is a character there.
    expect((await v10([{ name: { $starts: 'Star*' } }])).names).toEqual(['Star*Co']);
    expect((await v10([{ name: { $starts: 'Fin*' } }])).names).toEqual([]);
  });

  it('refuses a value with more than 8 wildcards, naming the field', async () => {
    const res = await v10([{ name: { $contains: 'a%b%c%d%e%f%g%h%i' } }]);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'invalid_parameter', error_message: 'name: at most 8 wildcards (%) are accepted in one search value', field: 'name' });
  });

  it('binds a hostile value: it matches nothing and changes nothing', async () => {
    expect((await v10([{ name: { $starts: "%' OR '1'='1" } }])).names).toEqual([]);
    expect((await v10([{ name: { $contains: "'); DELETE FROM accounts; --" } }])).names).toEqual([]);
    expect((await get().call('GET', '/rest/v10/Accounts/count', { token })).body.record_count).toBe(names.length);
  });

  it('reads % inside a v4_1 query LIKE pattern as Sugar does', async () => {
    const entries = async (query: string) => {
      const res = await get().v4('get_entry_list', [v4Session, 'Accounts', query, 'accounts.name', 0, ['name'], [], 50, 0, false]);
      return res.entry_list.map((e: { name_value_list: { name: { value: string } } }) => e.name_value_list.name.value).sort();
    };
    expect(await entries("accounts.name LIKE '%Finch%'")).toEqual(['Blue Finch Bank', 'Finch Partners', 'Fincham Ltd']);
    expect(await entries("accounts.name LIKE 'Bl%Bank'")).toEqual(['Blue Finch Bank']);
    expect(await entries("accounts.name LIKE 'Fi%ch%'")).toEqual(['Finch Partners', 'Fincham Ltd']);
    expect(await entries("accounts.name LIKE 'Gamma_Co'")).toEqual(['Gamma_Co']);
  });

  it('takes % and * as wildcards in search_by_module', async () => {
    const found = async (text: string) => {
      const res = await get().v4('search_by_module', [v4Session, text, ['Accounts'], 0, 50, '', ['name'], true, false]);
      return res.entry_list[0].records.map((r: { name: { value: string } }) => r.name.value).sort();
    };
    expect(await found('%Finch')).toEqual(['Blue Finch Bank', 'Finch Partners', 'Fincham Ltd']);
    expect(await found('Fi*ch')).toEqual(['Finch Partners', 'Fincham Ltd']);
    expect(await found('Finch')).toEqual(['Finch Partners', 'Fincham Ltd']);
  });

  it('searches the list view with the same rules, and "contains" per field in the advanced search', async () => {
    const ui = uiSession(get().url);
    await ui.login('admin', 'secret-admin');
    const listed = async (query: Record<string, string>) => {
      const res = await ui.request('GET', `/ui/Accounts?${new URLSearchParams(query)}`);
      expect(res.status).toBe(200);
      return names.filter((n) => res.text.includes(`>${n.replace('&', '&amp;')}<`)).sort();
    };
    expect(await listed({ s_name: 'Finch' })).toEqual(['Finch Partners', 'Fincham Ltd']);
    expect(await listed({ s_name: '%Finch' })).toEqual(['Blue Finch Bank', 'Finch Partners', 'Fincham Ltd']);
    expect(await listed({ s_name: '*bank' })).toEqual(['Blue Finch Bank']);
    expect(await listed({ s_name: 'Gamma_' })).toEqual(['Gamma_Co']);
    expect(await listed({ advanced: '1', s_name: 'finch', s_name_match: 'contains' })).toEqual(['Blue Finch Bank', 'Finch Partners', 'Fincham Ltd']);
    const form = await ui.request('GET', '/ui/Accounts?advanced=1&s_name=finch&s_name_match=contains');
    expect(form.text).toMatch(/<select name="s_name_match" aria-label="Name: match" class="match"><option value="starts">starts with<\/option><option value="contains" selected>contains<\/option><\/select>/);
    // Any e-mail address of the record, from its start or, chosen, anywhere.
    expect((await get().call('PUT', `/rest/v10/Accounts/${(await v10([{ name: 'Red Robin' }])).body.records[0].id}`, { token, body: { email1: 'hello@robin-birds.example' } })).status).toBe(200);
    expect(await listed({ advanced: '1', s_email: 'hello@rob' })).toEqual(['Red Robin']);
    expect(await listed({ advanced: '1', s_email: 'robin-birds' })).toEqual([]);
    expect(await listed({ advanced: '1', s_email: 'robin-birds', s_email_match: 'contains' })).toEqual(['Red Robin']);
    // The basic search has no such choice: it matches the start, or wherever the user puts a wildcard.
    expect((await ui.request('GET', '/ui/Accounts')).text).not.toContain('s_name_match');
  });
});
