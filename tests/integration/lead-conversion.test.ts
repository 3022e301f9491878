import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

/** Issue 16, item 2: converting a lead as Sugar does, through REST v10, on SQLite and MariaDB. */
describeEachServer('lead conversion', (get) => {
  const lead = {
    first_name: 'Ada', last_name: 'Okafor', title: 'Treasurer', email1: 'ada.okafor@bluefinch.example', phone_work: '+14155550123',
    account_name: 'Blue Finch Bank', primary_address_city: 'Lagos', primary_address_country: 'Nigeria',
    opportunity_name: 'Finch renewal', opportunity_amount: '5000', lead_source: 'Web Site', status: 'In Process',
  };

  it('proposes the records from the lead, with duplicates of each', async () => {
    const server = get();
    const token = await server.login('admin', 'secret-admin');
    const existing = (await server.call('POST', '/rest/v10/Accounts', { token, body: { name: 'Blue Finch Bank' } })).body;
    const created = (await server.call('POST', '/rest/v10/Leads', { token, body: lead })).body;
    const proposal = await server.call('GET', `/rest/v10/Leads/${created.id}/convert`, { token });
    expect(proposal.status).toBe(200);
    const byModule = Object.fromEntries(proposal.body.modules.map((m: { module: string }) => [m.module, m]));
    expect(byModule.Contacts).toMatchObject({ required: true, values: { first_name: 'Ada', last_name: 'Okafor', title: 'Treasurer', email1: 'ada.okafor@bluefinch.example', phone_work: '+14155550123', primary_address_city: 'Lagos' } });
    expect(byModule.Accounts).toMatchObject({ required: false, values: { name: 'Blue Finch Bank', phone_office: '+14155550123', billing_address_city: 'Lagos' } });
    expect(byModule.Accounts.duplicates).toEqual([{ id: existing.id, name: 'Blue Finch Bank' }]);
    expect(byModule.Opportunities.values).toMatchObject({ name: 'Finch renewal', amount: '5000' });
  });

  it('creates the contact and opportunity, uses a chosen account, links them all, moves activities and marks the lead converted', async () => {
    const server = get();
    const token = await server.login('admin', 'secret-admin');
    const account = (await server.call('POST', '/rest/v10/Accounts', { token, body: { name: 'Blue Finch Holdings' } })).body;
    const created = (await server.call('POST', '/rest/v10/Leads', { token, body: lead })).body;
    const call = (await server.call('POST', '/rest/v10/Calls', { token, body: { name: 'First call', parent_type: 'Leads', parent_id: created.id, status: 'Held', direction: 'Outbound', date_start: '2026-11-02 10:00:00', duration_hours: 0, duration_minutes: 15 } })).body;
    const saves: string[] = [];
    const unwatch = server.crm.engine.hooks.register('Leads', { event: 'after_save', order: 1, label: 'watch', handler: (bean) => { saves.push(String(bean.status)); } });

    const res = await server.call('POST', `/rest/v10/Leads/${created.id}/convert`, {
      token,
      body: { modules: { Contacts: { title: 'CFO' }, Accounts: { id: account.id }, Opportunities: { sales_stage: 'Prospecting', date_closed: '2027-01-31' } }, transfer_activities: true },
    });
    expect(res.status).toBe(200);
    const out = Object.fromEntries(res.body.modules.map((r: { _module: string }) => [r._module, r]));
    expect(out.Contacts).toMatchObject({ first_name: 'Ada', last_name: 'Okafor', title: 'CFO', phone_work: '+14155550123', lead_source: 'Web Site', assigned_user_id: created.assigned_user_id });
    expect(out.Contacts.email1).toBe('ada.okafor@bluefinch.example');
    expect(out.Accounts).toMatchObject({ id: account.id, name: 'Blue Finch Holdings' });
    expect(out.Opportunities).toMatchObject({ name: 'Finch renewal', sales_stage: 'Prospecting', date_closed: '2027-01-31' });
    expect(Number(out.Opportunities.amount)).toBe(5000);

    const after = (await server.call('GET', `/rest/v10/Leads/${created.id}`, { token })).body;
    expect(after).toMatchObject({ status: 'Converted', converted: true, contact_id: out.Contacts.id, account_id: account.id, opportunity_id: out.Opportunities.id });
    unwatch();
    expect(saves).toEqual(['Converted']);
    const names = async (path: string) => (await server.call('GET', path, { token })).body.records.map((r: { id: string }) => r.id);
    expect(await names(`/rest/v10/Contacts/${out.Contacts.id}/link/accounts`)).toEqual([account.id]);
    expect(await names(`/rest/v10/Opportunities/${out.Opportunities.id}/link/accounts`)).toEqual([account.id]);
    expect(await names(`/rest/v10/Opportunities/${out.Opportunities.id}/link/contacts`)).toEqual([out.Contacts.id]);
    expect((await server.call('GET', `/rest/v10/Calls/${call.id}`, { token })).body).toMatchObject({ parent_type: 'Contacts', parent_id: out.Contacts.id });
    const audit = (await server.call('GET', `/rest/v10/Leads/${created.id}/audit`, { token })).body;
    expect(JSON.stringify(audit)).toContain('Converted');

    // A lead converts once.
    const again = await server.call('POST', `/rest/v10/Leads/${created.id}/convert`, { token, body: { modules: { Contacts: {} } } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'lead_converted' });
    expect(again.body.error_message).toContain(out.Contacts.id);
  });

  it('converts a lead once when several clients convert it at the same moment', async () => {
    const server = get();
    const token = await server.login('admin', 'secret-admin');
    const created = (await server.call('POST', '/rest/v10/Leads', { token, body: { ...lead, last_name: 'Raced', account_name: 'Race Ltd' } })).body;
    const contactsBefore = (await server.call('GET', '/rest/v10/Contacts/count', { token })).body.record_count;
    const answers = await Promise.all(Array.from({ length: 6 }, () => server.call('POST', `/rest/v10/Leads/${created.id}/convert`, { token, body: { modules: { Contacts: {}, Accounts: {} } } })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 200).every((a) => a.status === 409)).toBe(true);
    expect((await server.call('GET', '/rest/v10/Contacts/count', { token })).body.record_count).toBe(contactsBefore + 1);
  });

  it('refuses a bad request naming the part to fix, and writes nothing', async () => {
    const server = get();
    const token = await server.login('admin', 'secret-admin');
    const created = (await server.call('POST', '/rest/v10/Leads', { token, body: { ...lead, last_name: 'Refused', account_name: 'Nowhere Ltd', opportunity_name: '' } })).body;
    const count = async (module: string) => (await server.call('GET', `/rest/v10/${module}/count`, { token })).body.record_count;
    const before = [await count('Contacts'), await count('Accounts'), await count('Opportunities')];
    const convert = (body: unknown) => server.call('POST', `/rest/v10/Leads/${created.id}/convert`, { token, body });

    const noContact = await convert({ modules: { Accounts: {} } });
    expect(noContact.status).toBe(422);
    expect(noContact.body.error_message).toContain('modules.Contacts: a converted lead needs a Contacts record');
    const unknown = await convert({ modules: { Contacts: {}, Cases: {} } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error_message).toContain('modules.Cases');
    const notObject = await convert({ modules: 'Contacts' });
    expect(notObject.status).toBe(422);
    expect(notObject.body.error_message).toContain('modules');
    const missingAccount = await convert({ modules: { Contacts: {}, Accounts: { id: 'no-such-account' } } });
    expect(missingAccount.status).toBe(422);
    expect(missingAccount.body.error_message).toContain('modules.Accounts.id');
    // The account would be created, then the opportunity is refused: neither is kept.
    const badOpportunity = await convert({ modules: { Contacts: {}, Accounts: {}, Opportunities: { sales_stage: 'Nonsense' } } });
    expect(badOpportunity.status).toBe(422);
    expect(badOpportunity.body.error_message).toContain('modules.Opportunities.');
    expect([await count('Contacts'), await count('Accounts'), await count('Opportunities')]).toEqual(before);
    expect((await server.call('GET', `/rest/v10/Leads/${created.id}`, { token })).body).toMatchObject({ status: 'In Process', converted: false });
  });

  it('converts from the lead page: a Convert button, a form proposing the records, errors beside the fields, then the contact', async () => {
    const server = get();
    const token = await server.login('admin', 'secret-admin');
    const created = (await server.call('POST', '/rest/v10/Leads', { token, body: { ...lead, last_name: 'Mensah', account_name: 'Kestrel Freight', opportunity_name: '' } })).body;
    const ui = session(server.url);
    await ui.login('admin', 'secret-admin');
    const detail = await ui.request('GET', `/ui/Leads/${created.id}`);
    expect(detail.text).toContain(`/ui/Leads/${created.id}/convert`);
    expect(detail.text).toContain('Convert Lead');

    const page = await ui.request('GET', `/ui/Leads/${created.id}/convert`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="Contacts.last_name" value="Mensah"');
    expect(page.text).toContain('name="Accounts.name" value="Kestrel Freight"');
    expect(page.text).toMatch(/name="Accounts.action" value="create" checked/);
    expect(page.text).toMatch(/name="Opportunities.action" value="skip" checked/);
    const csrf = ui.csrfIn(page.text);
    const form = { csrf, 'Contacts.action': 'create', 'Contacts.first_name': 'Kofi', 'Contacts.last_name': '', 'Accounts.action': 'create', 'Accounts.name': 'Kestrel Freight', 'Opportunities.action': 'skip', transfer_activities: '1' };

    const refused = await ui.request('POST', `/ui/Leads/${created.id}/convert`, form);
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Nothing was converted');
    expect(refused.text).toContain('href="#f-Contacts.last_name"');
    expect(refused.text).toContain('name="Contacts.first_name" value="Kofi"');
    expect((await server.call('GET', `/rest/v10/Leads/${created.id}`, { token })).body.converted).toBe(false);

    const done = await ui.request('POST', `/ui/Leads/${created.id}/convert`, { ...form, 'Contacts.last_name': 'Mensah' });
    expect(done.status).toBe(302);
    expect(done.location).toMatch(/\/ui\/Contacts\/[0-9a-f-]{36}\?notice=Lead%20converted/);
    const contact = await ui.request('GET', done.location.replace(server.url, ''));
    expect(contact.text).toContain('Kofi');
    const convertedLead = (await server.call('GET', `/rest/v10/Leads/${created.id}`, { token })).body;
    expect(convertedLead).toMatchObject({ status: 'Converted', converted: true });
    expect((await server.call('GET', `/rest/v10/Accounts/${convertedLead.account_id}`, { token })).body.name).toBe('Kestrel Freight');
    // the button is gone, and the page says it was converted
    expect((await ui.request('GET', `/ui/Leads/${created.id}`)).text).not.toContain(`/ui/Leads/${created.id}/convert`);
    const again = await ui.request('GET', `/ui/Leads/${created.id}/convert`);
    expect(again.status).toBe(409);
    expect(again.text).toContain('Open the contact');
  });
});
