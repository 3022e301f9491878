import { describeEachServer, loginWithRole } from '../helpers/crm';
import { session as uiSession } from '../helpers/ui-session';

// Global search: REST v10 /globalsearch (Sugar 7's shape) and the UI's /ui/search, across modules, with the user's rights.
describeEachServer('global search', (get) => {
  let admin = '';
  let seller = '';
  let sellerId = '';

  beforeAll(async () => {
    const { call } = get();
    admin = await get().login('admin', 'secret-admin');
    const create = async (module: string, body: Record<string, unknown>, token = admin) => {
      const res = await call('POST', `/rest/v10/${module}`, { token, body });
      expect(res.status).toBe(200);
      return res.body.id as string;
    };
    // Sellers list their own Accounts and no Contacts.
    seller = await loginWithRole(get(), { name: 'sam', password: 'sam-secret-11' }, 'Own accounts only', [
      ['Accounts', 'list', 'owner'], ['Accounts', 'view', 'owner'], ['Accounts', 'edit', 'owner'], ['Contacts', 'list', 'none'],
    ]);
    sellerId = (await call('GET', '/rest/v10/me', { token: seller })).body.current_user.id;
    await create('Accounts', { name: 'Blue Finch Bank', phone_office: '+1 415 555 0100' });
    await create('Accounts', { name: 'Finch Partners', assigned_user_id: sellerId });
    await create('Accounts', { name: 'Goldfinch Supplies' });
    await create('Contacts', { first_name: 'Ada', last_name: 'Finch', email1: 'ada@aviary.example' });
    await create('Contacts', { first_name: 'Grace', last_name: 'Hopper', email1: 'grace@finch-mail.example' });
    await create('Leads', { first_name: 'Otto', last_name: 'Finchley' });
    await create('Opportunities', { name: 'Finch renewal', amount: 1000, date_closed: '2026-12-31', sales_stage: 'Prospecting' });
  });

  const search = async (query: string, token = admin) => get().call('GET', `/rest/v10/globalsearch?${query}`, { token });
  const found = (body: { records: Array<{ _module: string; name: string }> }) => body.records.map((r) => `${r._module}:${r.name}`).sort();

  it('finds names by their start or a word in them, across modules, in Sugar 7\'s answer', async () => {
    const res = await search('q=finch');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ next_offset: -1, total: 5, query_time: expect.any(Number) });
    expect(found(res.body)).toEqual(['Accounts:Blue Finch Bank', 'Accounts:Finch Partners', 'Contacts:Ada Finch', 'Leads:Otto Finchley', 'Opportunities:Finch renewal']);
    const account = res.body.records.find((r: { name: string }) => r.name === 'Blue Finch Bank');
    expect(account).toMatchObject({ _module: 'Accounts', _acl: { fields: {} }, id: expect.any(String) });
    // Goldfinch has "finch" inside a word, not at a word's start: Sugar's wildcard finds it.
    expect(found((await search('q=%25finch')).body)).toContain('Accounts:Goldfinch Supplies');
    expect(found((await search('q=gold*ies')).body)).toEqual(['Accounts:Goldfinch Supplies']);
  });

  it('finds e-mail addresses and phone numbers, and a person by full name', async () => {
    expect(found((await search('q=ada%40avi')).body)).toEqual(['Contacts:Ada Finch']);
    expect(found((await search('q=555%200100')).body)).toEqual(['Accounts:Blue Finch Bank']);
    expect(found((await search('q=grace%20hop')).body)).toEqual(['Contacts:Grace Hopper']);
    // '_' is a character, not "any one character".
    expect((await search('q=fin_h')).body.total).toBe(0);
  });

  it('pages with max_num and offset, and narrows to module_list or one module', async () => {
    const first = await search('q=finch&max_num=2');
    expect(first.body).toMatchObject({ next_offset: 2, total: 5 });
    expect(first.body.records).toHaveLength(2);
    const rest = await search('q=finch&max_num=10&offset=2');
    expect(rest.body.next_offset).toBe(-1);
    expect(found({ records: [...first.body.records, ...rest.body.records] })).toEqual(found((await search('q=finch')).body));
    expect(found((await search('q=finch&module_list=Contacts,Leads')).body)).toEqual(['Contacts:Ada Finch', 'Leads:Otto Finchley']);
    const one = await get().call('GET', '/rest/v10/Opportunities/globalsearch?q=finch', { token: admin });
    expect(found(one.body)).toEqual(['Opportunities:Finch renewal']);
    const posted = await get().call('POST', '/rest/v10/globalsearch', { token: admin, body: { q: 'finch', module_list: ['Leads'] } });
    expect(found(posted.body)).toEqual(['Leads:Otto Finchley']);
    expect(found((await get().call('GET', '/rest/v10/search?q=finch&module_list=Leads', { token: admin })).body)).toEqual(['Leads:Otto Finchley']);
  });

  it('answers nothing for empty text and refuses bad parameters with Sugar\'s error shape', async () => {
    expect((await search('q=')).body).toMatchObject({ next_offset: -1, total: 0, records: [] });
    const unknown = await search('q=finch&module_list=Nope');
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ error: 'invalid_parameter', error_message: expect.stringMatching(/^module_list: Nope is not searchable \(searchable: Accounts, Contacts, /) });
    const long = await search(`q=${'x'.repeat(101)}`);
    expect(long.status).toBe(422);
    expect(long.body.error_message).toBe('q: at most 100 characters are searched, got 101');
    expect((await search('q=finch&max_num=0')).body.error_message).toBe("max_num must be a whole number >= 1, got '0'");
    expect((await search('q=finch&offset=-1')).status).toBe(422);
    expect((await get().call('GET', '/rest/v10/globalsearch?q=finch')).status).toBe(401);
  });

  it('shows a user only the modules and records the user may list', async () => {
    const res = await search('q=finch', seller);
    expect(res.status).toBe(200);
    expect(found(res.body)).toEqual(['Accounts:Finch Partners', 'Leads:Otto Finchley', 'Opportunities:Finch renewal']);
    expect(res.body.total).toBe(3);
    // A module the user may not list is left out even when asked for by name.
    expect((await search('q=finch&module_list=Contacts', seller)).body).toMatchObject({ total: 0, records: [] });
  });

  it('groups the results by module on the UI page the header search box opens', async () => {
    const ui = uiSession(get().url);
    await ui.login('admin', 'secret-admin');
    const home = await ui.request('GET', '/ui');
    expect(home.text).toMatch(/<form method="get" action="\/ui\/search" class="global-search" role="search" aria-label="Global search">/);
    const page = await ui.request('GET', '/ui/search?q=finch');
    expect(page.status).toBe(200);
    const headings = [...page.text.matchAll(/<h2 id="group-(\w+)">([^<]+) <span class="tag">(\d+)<\/span><\/h2>/g)].map((m) => `${m[1]} ${m[3]}`);
    expect(headings).toEqual(['Accounts 2', 'Contacts 1', 'Leads 1', 'Opportunities 1']);
    expect(page.text).toContain('5 matches in 4 modules.');
    expect(page.text).toMatch(/<a href="\/ui\/Accounts\/[\w-]+">Blue Finch Bank<\/a> <span class="search-detail"><span class="visually-hidden">Office Phone: <\/span>\+1 415 555 0100<\/span>/);
    // More matches than a group shows: a link to the module's list searching names that contain the text.
    for (let i = 0; i < 10; i++) await get().call('POST', '/rest/v10/Accounts', { token: admin, body: { name: `Zebra Finch ${i}` } });
    const many = await ui.request('GET', '/ui/search?q=finch');
    expect(many.text).toContain('<a href="/ui/Accounts?advanced&#x3D;1&amp;s_name&#x3D;finch&amp;s_name_match&#x3D;contains">2 more in Accounts</a>');
    const nothing = await ui.request('GET', '/ui/search?q=zzzz');
    expect(nothing.text).toContain('Nothing matches “zzzz” in the modules you may see.');
    expect((await ui.request('GET', `/ui/search?q=${'y'.repeat(101)}`)).status).toBe(422);
    const sellerUi = uiSession(get().url);
    await sellerUi.login('sam', 'sam-secret-11');
    const theirs = await sellerUi.request('GET', '/ui/search?q=finch');
    expect([...theirs.text.matchAll(/<h2 id="group-(\w+)">/g)].map((m) => m[1])).toEqual(['Accounts', 'Leads', 'Opportunities']);
    expect(theirs.text).not.toContain('Blue Finch Bank');
  });
});
