import { describeEachServer } from '../helpers/crm';

/** Issue 13, item 2: Sugar's e-mail model — email_addresses and email_addr_bean_rel behind email1, email2, email, email_opt_out and invalid_email. */
describeEachServer('e-mail addresses as Sugar keeps them', (get) => {
  let token = '';
  let session = '';
  const knex = () => get().crm.engine.db.knex;
  beforeAll(async () => {
    token = await get().login('admin', 'secret-admin');
    session = await get().v4Login('admin', 'secret-admin');
  });
  const api = (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });

  it('stores email1 in email_addresses and email_addr_bean_rel and returns it on REST v10', async () => {
    const created = await api('POST', '/Contacts', { last_name: 'Mailer', email1: 'Ann.Mailer@Example.com' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ email1: 'Ann.Mailer@Example.com', email2: '', email_opt_out: false, invalid_email: false });
    expect(created.body.email).toEqual([{ email_address: 'Ann.Mailer@Example.com', primary_address: true, reply_to_address: false, opt_out: false, invalid_email: false }]);
    const address = await knex()('email_addresses').where('email_address_caps', 'ANN.MAILER@EXAMPLE.COM').first();
    expect(address).toMatchObject({ email_address: 'Ann.Mailer@Example.com' });
    const link = await knex()('email_addr_bean_rel').where({ bean_id: created.body.id }).first();
    expect(link).toMatchObject({ email_address_id: address.id, bean_module: 'Contacts' });
    expect(Number(link.primary_address)).toBe(1);
  });

  it('takes the v10 email list, keeps one address row per address and updates the primary through email1', async () => {
    const account = await api('POST', '/Accounts', { name: 'Mail Co', email: [
      { email_address: 'sales@mail.example', primary_address: true },
      { email_address: 'info@mail.example', opt_out: true },
    ] });
    expect(account.status).toBe(200);
    expect(account.body.email1).toBe('sales@mail.example');
    expect(account.body.email2).toBe('info@mail.example');
    // a contact sharing an address shares its row
    await api('POST', '/Contacts', { last_name: 'Sharer', email1: 'INFO@mail.example' });
    expect(await knex()('email_addresses').where('email_address_caps', 'INFO@MAIL.EXAMPLE').count({ n: '*' }).then((r) => Number(r[0].n))).toBe(1);
    // a new primary replaces the old one; the other address stays
    const updated = await api('PUT', `/Accounts/${account.body.id}`, { email1: 'hello@mail.example', email_opt_out: true });
    expect(updated.body.email.map((e: { email_address: string; primary_address: boolean; opt_out: boolean }) => [e.email_address, e.primary_address, e.opt_out])).toEqual([
      ['hello@mail.example', true, true], ['info@mail.example', false, true],
    ]);
  });

  it('refuses a malformed address naming the field, and keeps one SuiteCRM stored that it marked invalid', async () => {
    const bad = await api('POST', '/Contacts', { last_name: 'Bad', email1: 'not an address' });
    expect(bad.status).toBe(422);
    expect(bad.body.fields).toEqual([{ field: 'email1', rule: 'email', message: "'not an address' is not a valid e-mail address" }]);
    const list = await api('POST', '/Contacts', { last_name: 'Bad', email: [{ email_address: 'x@' }] });
    expect(list.status).toBe(422);
    expect(list.body.fields[0]).toMatchObject({ field: 'email', rule: 'email' });
    // as SuiteCRM leaves it: an odd address flagged invalid
    const contact = (await api('POST', '/Contacts', { last_name: 'Legacy' })).body;
    await knex()('email_addresses').insert({ id: 'legacy-address', email_address: 'legacy@localhost', email_address_caps: 'LEGACY@LOCALHOST', invalid_email: 1, opt_out: 0, deleted: 0 });
    await knex()('email_addr_bean_rel').insert({ id: 'legacy-link', email_address_id: 'legacy-address', bean_id: contact.id, bean_module: 'Contacts', primary_address: 1, reply_to_address: 0, deleted: 0 });
    const read = await api('GET', `/Contacts/${contact.id}`);
    expect(read.body).toMatchObject({ email1: 'legacy@localhost', invalid_email: true });
    // echoing it back with another change is fine
    const echoed = await api('PUT', `/Contacts/${contact.id}`, { title: 'Boss', email1: 'legacy@localhost' });
    expect(echoed.status).toBe(200);
  });

  it('filters by email and email1 on REST v10', async () => {
    await api('POST', '/Contacts', { last_name: 'Findable', email: [{ email_address: 'primary@find.example' }, { email_address: 'second@find.example' }] });
    const any = await api('GET', `/Contacts?filter[0][email][$starts]=second@find&fields=last_name`);
    expect(any.body.records.map((r: { last_name: string }) => r.last_name)).toEqual(['Findable']);
    const primaryOnly = await api('GET', `/Contacts?filter[0][email1][$starts]=second@find&fields=last_name`);
    expect(primaryOnly.body.records).toEqual([]);
    const primary = await api('GET', `/Contacts?filter[0][email1]=primary@find.example&fields=last_name,email1`);
    expect(primary.body.records.map((r: { email1: string }) => r.email1)).toEqual(['primary@find.example']);
  });

  it('lists the email_addresses link on v4_1 as Sugar clients ask for it', async () => {
    const created = (await api('POST', '/Contacts', { last_name: 'Linked', email: [{ email_address: 'one@link.example' }, { email_address: 'two@link.example', opt_out: true }] })).body;
    const spec = [{ name: 'email_addresses', value: ['id', 'email_address', 'opt_out', 'primary_address'] }];
    const list = await get().v4('get_entry_list', { session, module_name: 'Contacts', query: "contacts.last_name = 'Linked'", order_by: '', offset: 0, select_fields: ['last_name'], link_name_to_fields_array: spec, max_results: 10, deleted: 0 });
    const rows = list.relationship_list[0].link_list[0];
    expect(rows.name).toBe('email_addresses');
    expect(rows.records.map((r: { link_value: Record<string, { value: string }> }) => [r.link_value.email_address.value, r.link_value.primary_address.value, r.link_value.opt_out.value])).toEqual([
      ['one@link.example', '1', '0'], ['two@link.example', '0', '1'],
    ]);
    expect(Object.keys(rows.records[0].link_value).sort()).toEqual(['email_address', 'id', 'opt_out', 'primary_address']);
    const entry = await get().v4('get_entry', { session, module_name: 'Contacts', id: created.id, select_fields: ['last_name'], link_name_to_fields_array: spec });
    expect(JSON.stringify(entry.relationship_list)).toContain('two@link.example');
  });

  it('reads and writes email1 through v4_1 set_entry, get_entry and select_fields', async () => {
    const saved = await get().v4('set_entry', { session, module_name: 'Leads', name_value_list: [{ name: 'last_name', value: 'Legacy Lead' }, { name: 'email1', value: 'lead@v4.example' }] });
    expect(saved.id).toBeTruthy();
    const entry = await get().v4('get_entry', { session, module_name: 'Leads', id: saved.id, select_fields: ['last_name', 'email1', 'email_opt_out'] });
    expect(entry.entry_list[0].name_value_list.email1).toEqual({ name: 'email1', value: 'lead@v4.example' });
    const list = await get().v4('get_entry_list', { session, module_name: 'Leads', query: '', order_by: '', offset: 0, select_fields: ['email1'], max_results: 50, deleted: 0 });
    expect(list.entry_list.map((e: { name_value_list: { email1: { value: string } } }) => e.name_value_list.email1.value)).toContain('lead@v4.example');
  });
});

describeEachServer('e-mail addresses in the UI', (get) => {
  it('edits several addresses with primary, opt-out and invalid flags, and shows them on the detail and list pages', async () => {
    const { session } = await import('../helpers/ui-session');
    const browser = session(get().url);
    const csrf = await browser.login('admin', 'secret-admin');
    const form = await browser.request('GET', '/ui/Contacts/new');
    expect(form.text).toMatch(/name="email__address"/);
    const saved = await browser.request('POST', '/ui/Contacts/new', {
      csrf, last_name: 'Formed', email__present: '1', email__address: ['old@ui.example', 'formed@ui.example', ''], email__primary: '1', email__opt_out: ['0'],
    });
    expect(saved.status).toBe(302);
    const id = saved.location.replace(/\?.*/, '').split('/').pop()!;
    const record = (await get().call('GET', `/rest/v10/Contacts/${id}`, { token: await get().login('admin', 'secret-admin') })).body;
    expect(record.email.map((e: { email_address: string; primary_address: boolean; opt_out: boolean }) => [e.email_address, e.primary_address, e.opt_out])).toEqual([
      ['formed@ui.example', true, false], ['old@ui.example', false, true],
    ]);
    const detail = await browser.request('GET', `/ui/Contacts/${id}`);
    expect(detail.text).toContain('formed@ui.example');
    expect(detail.text).toMatch(/old@ui\.example<\/a> <span class="tag">opted out<\/span>/);
    const list = await browser.request('GET', '/ui/Contacts');
    expect(list.text).toContain('formed@ui.example');
    // the form shows the addresses again, with empty rows to add more
    const edit = await browser.request('GET', `/ui/Contacts/${id}/edit`);
    expect(edit.text.match(/name="email__address"/g)).toHaveLength(4);
    const bad = await browser.request('POST', '/ui/Contacts/new', { csrf, last_name: 'Formed', email__present: '1', email__address: ['nope'], email__primary: '0' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('is not a valid e-mail address');
  });
});

describeEachServer('duplicate check', (get) => {
  it('finds people by name or by any e-mail address, companies by name, and leaves the record itself out (REST v10 duplicateCheck)', async () => {
    const token = await get().login('admin', 'secret-admin');
    const api = (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });
    const jane = (await api('POST', '/Contacts', { first_name: 'Jane', last_name: 'Dupont', email1: 'jane@dupes.example' })).body;
    await api('POST', '/Contacts', { first_name: 'Other', last_name: 'Person', email: [{ email_address: 'shared@dupes.example' }, { email_address: 'JANE@dupes.example' }] });
    const byName = await api('POST', '/Contacts/duplicateCheck', { first_name: 'Jane', last_name: 'Dupont' });
    expect(byName.body.records.map((r: { id: string }) => r.id)).toEqual([jane.id]);
    const byEmail = await api('POST', '/Contacts/duplicateCheck', { last_name: 'Nobody', email1: 'jane@DUPES.example' });
    expect(byEmail.body.records.map((r: { last_name: string }) => r.last_name).sort()).toEqual(['Dupont', 'Person']);
    expect((await api('POST', '/Contacts/duplicateCheck', { id: jane.id, first_name: 'Jane', last_name: 'Dupont' })).body.records).toEqual([]);
    await api('POST', '/Accounts', { name: 'Dupes Incorporated' });
    expect((await api('POST', '/Accounts/duplicateCheck', { name: 'Dupes' })).body.records.map((r: { name: string }) => r.name)).toEqual(['Dupes Incorporated']);
    expect((await api('POST', '/Accounts/duplicateCheck', {})).body.records).toEqual([]);
    expect((await api('POST', '/Accounts/duplicateCheck', [1])).status).toBe(422);
  });
});
