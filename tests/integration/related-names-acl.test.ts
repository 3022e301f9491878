import { SYSTEM } from '../../core/records/actor';
import { md5Hex } from '../../core/security/passwords';
import { describeEachServer, loginWithRole, type TestServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

/**
 * A relate or parent name is part of the related record: a user who may not view that record
 * gets the name blank (the id stays, as Sugar keeps it), on every transport.
 */
describeEachServer('related names obey the ACL of the related record', (get) => {
  const HIDDEN = 'Hidden Holdings';
  const OWN = 'Olga Own Co';
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const passwords = { nora: 'nora-secret-1', olga: 'olga-secret-1', vera: 'vera-secret-1' };

  beforeAll(async () => {
    const server = get();
    tokens.admin = await server.login('admin', 'secret-admin');
    tokens.nora = await loginWithRole(server, { name: 'nora', password: passwords.nora }, 'No accounts', [['Accounts', 'view', 'none'], ['Accounts', 'list', 'none']]);
    tokens.olga = await loginWithRole(server, { name: 'olga', password: passwords.olga }, 'Own accounts', [['Accounts', 'view', 'owner'], ['Accounts', 'list', 'owner']]);
    tokens.vera = await loginWithRole(server, { name: 'vera', password: passwords.vera }, 'Everything', [['Contacts', 'view', 'all']]);
    const olgaId = (await server.call('GET', '/rest/v10/me', { token: tokens.olga })).body.current_user.id;
    const create = async (module: string, body: Record<string, unknown>) => {
      const res = await server.call('POST', `/rest/v10/${module}`, { token: tokens.admin, body });
      expect(res.status).toBe(200);
      return res.body.id as string;
    };
    ids.hidden = await create('Accounts', { name: HIDDEN, assigned_user_id: '1' });
    ids.own = await create('Accounts', { name: OWN, assigned_user_id: olgaId });
    ids.contact = await create('Contacts', { first_name: 'Linda', last_name: 'Linked', phone_mobile: '+14155550177', account_id: ids.hidden });
    ids.ownContact = await create('Contacts', { first_name: 'Oscar', last_name: 'Owned', account_id: ids.own });
    ids.list = await create('ProspectLists', { name: 'Members', list_type: 'default' });
    expect((await server.call('POST', `/rest/v10/ProspectLists/${ids.list}/link/contacts/${ids.contact}`, { token: tokens.admin })).status).toBe(200);
    ids.sms = (await server.crm.records.create(SYSTEM, 'SMS', { name: 'About the account', body: 'Hello', direction: 'outbound', status: 'draft', to_number: '+14155550177', parent_type: 'Accounts', parent_id: ids.hidden })).id;
  });

  const v10 = (who: string, path: string) => get().call('GET', `/rest/v10${path}`, { token: tokens[who] });
  const v4Session = async (server: TestServer, who: keyof typeof passwords) => (await server.v4('login', { user_auth: { user_name: who, password: md5Hex(passwords[who]) }, application_name: 'test' })).id as string;

  describe.each([['nora', 'a role without Accounts view'], ['olga', 'owner-only Accounts view, the account being someone else\'s']] as const)('%s (%s)', (who, _why) => {
    it('reads the contact over REST v10 without the account name, keeping the id', async () => {
      const record = await v10(who, `/Contacts/${ids.contact}`);
      expect(record.status).toBe(200);
      expect(record.body).toMatchObject({ account_id: ids.hidden, account_name: null });
      expect((await v10(who, `/Contacts/${ids.contact}?fields=account_name`)).body.account_name).toBeNull();
      const list = await v10(who, '/Contacts?fields=last_name,account_name,account_id&max_num=100');
      expect(list.body.records.find((r: { id: string }) => r.id === ids.contact)).toMatchObject({ account_id: ids.hidden, account_name: null });
      const members = await v10(who, `/ProspectLists/${ids.list}/link/contacts?fields=last_name,account_name`);
      expect(members.body.records).toMatchObject([{ id: ids.contact, account_name: null }]);
      const updated = await get().call('PUT', `/rest/v10/Contacts/${ids.contact}`, { token: tokens[who], body: { title: `Seen by ${who}` } });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ account_id: ids.hidden, account_name: null });
      expect(JSON.stringify([record.body, list.body, members.body, updated.body])).not.toContain(HIDDEN);
    });

    it('cannot find the name through a filter or a sort on it', async () => {
      const filtered = await v10(who, `/Contacts?filter[0][account_name][$starts]=${encodeURIComponent(HIDDEN.slice(0, 3))}`);
      expect(filtered.status).toBe(422);
      expect(filtered.body.error_message).toContain('account_name');
      expect((await v10(who, '/Contacts?order_by=account_name:asc')).status).toBe(422);
      expect((await v10(who, `/Contacts?filter[0][accounts.name][$starts]=Hid`)).status).toBe(422);
    });

    it('reads it over v4_1 without the account name', async () => {
      const server = get();
      const sessionId = await v4Session(server, who);
      const entry = await server.v4('get_entry', { session: sessionId, module_name: 'Contacts', id: ids.contact, select_fields: ['last_name', 'account_name', 'account_id'] });
      expect(entry.entry_list[0].name_value_list).toMatchObject({ account_id: { value: ids.hidden }, account_name: { value: '' } });
      const list = await server.v4('get_entry_list', { session: sessionId, module_name: 'Contacts', query: '', order_by: '', offset: 0, select_fields: ['last_name', 'account_name'], max_results: 100, deleted: 0 });
      const related = await server.v4('get_relationships', { session: sessionId, module_name: 'ProspectLists', module_id: ids.list, link_field_name: 'contacts', related_module_query: '', related_fields: ['id', 'last_name', 'account_name'], deleted: 0 });
      expect(related.entry_list).toHaveLength(1);
      const text = JSON.stringify([entry, list, related]);
      expect(text).toContain('Linked');
      expect(text).not.toContain(HIDDEN);
    });

    it('sees the name neither on the UI detail and list pages nor on the target list', async () => {
      const ui = session(get().url);
      await ui.login(who, passwords[who]);
      const detail = await ui.request('GET', `/ui/Contacts/${ids.contact}`);
      expect(detail.status).toBe(200);
      expect(detail.text).toContain('Linked');
      expect(detail.text).not.toContain(HIDDEN);
      const list = await ui.request('GET', '/ui/Contacts');
      expect(list.text).toContain('Linked');
      expect(list.text).not.toContain(HIDDEN);
      const members = await ui.request('GET', `/ui/ProspectLists/${ids.list}`);
      expect(members.status).toBe(200);
      expect(members.text).not.toContain(HIDDEN);
    });

    it('renders {{account_name}} blank in an SMS preview, as {{account.name}}', async () => {
      const preview = await get().call('POST', '/rest/v10/SMS/preview', { token: tokens[who], body: { parent_type: 'Contacts', parent_id: ids.contact, body: 'A[{{account_name}}] B[{{account.name}}] {{last_name}}' } });
      expect(preview.status).toBe(200);
      expect(preview.body.first.body).toBe('A[] B[] Linked');
    });

    it('does not see the name of a parent record it may not view', async () => {
      const sms = await v10(who, `/SMS/${ids.sms}`);
      expect(sms.status).toBe(200);
      expect(sms.body).toMatchObject({ parent_type: 'Accounts', parent_id: ids.hidden, parent_name: null });
    });
  });

  it('still shows olga the name of an account she owns', async () => {
    expect((await v10('olga', `/Contacts/${ids.ownContact}`)).body.account_name).toBe(OWN);
    const preview = await get().call('POST', '/rest/v10/SMS/preview', { token: tokens.olga, body: { parent_type: 'Contacts', parent_id: ids.ownContact, body: '{{account_name}}' } });
    expect(preview.body.refused).toEqual([{ module: 'Contacts', id: ids.ownContact, code: 'no_number', reason: expect.any(String) }]);
  });

  describe.each([['admin'], ['vera']] as const)('%s, who may view the account', (who) => {
    it('sees its name on every transport', async () => {
      expect((await v10(who, `/Contacts/${ids.contact}`)).body.account_name).toBe(HIDDEN);
      const list = await v10(who, '/Contacts?fields=account_name&max_num=100');
      expect(list.body.records.find((r: { id: string }) => r.id === ids.contact).account_name).toBe(HIDDEN);
      expect((await v10(who, `/SMS/${ids.sms}`)).body.parent_name).toBe(HIDDEN);
      const server = get();
      const password = who === 'admin' ? 'secret-admin' : passwords.vera;
      const sessionId = (await server.v4('login', { user_auth: { user_name: who, password: md5Hex(password) }, application_name: 'test' })).id;
      const entry = await server.v4('get_entry', { session: sessionId, module_name: 'Contacts', id: ids.contact, select_fields: ['account_name'] });
      expect(entry.entry_list[0].name_value_list.account_name.value).toBe(HIDDEN);
      const ui = session(server.url);
      await ui.login(who, password);
      expect((await ui.request('GET', `/ui/Contacts/${ids.contact}`)).text).toContain(HIDDEN);
      expect((await ui.request('GET', '/ui/Contacts')).text).toContain(HIDDEN);
      const preview = await server.call('POST', '/rest/v10/SMS/preview', { token: tokens[who], body: { parent_type: 'Contacts', parent_id: ids.contact, body: 'A[{{account_name}}] B[{{account.name}}]' } });
      expect(preview.body.first.body).toBe(`A[${HIDDEN}] B[${HIDDEN}]`);
    });
  });
});
