import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';
import { md5Hex } from '../../core/security/passwords';

/** Issue 12, item 1: optimistic locking lets exactly one of N concurrent writers holding one version through. */
describeEachServer('write conflicts', (get) => {
  let admin = '';
  beforeAll(async () => { admin = await get().login('admin', 'secret-admin'); });

  const createAccount = async (name: string) => (await get().call('POST', '/rest/v10/Accounts', { token: admin, body: { name } })).body;
  const statuses = (responses: Array<{ status: number }>) => responses.map((r) => r.status).sort();

  it('lets exactly one of 50 parallel PUTs holding the same date_modified win, even within one second', async () => {
    const account = await createAccount('Contended');
    const puts = await Promise.all(Array.from({ length: 50 }, (_, i) => get().call('PUT', `/rest/v10/Accounts/${account.id}`, {
      token: admin, body: { description: `writer ${i}`, date_modified: account.date_modified },
    })));
    expect(statuses(puts).filter((s) => s === 200)).toHaveLength(1);
    expect(statuses(puts).filter((s) => s === 409)).toHaveLength(49);
    const loser = puts.find((r) => r.status === 409)!;
    expect(loser.body.error).toBe('edit_conflict');
    const winner = puts.find((r) => r.status === 200)!;
    const stored = (await get().call('GET', `/rest/v10/Accounts/${account.id}`, { token: admin })).body;
    expect(stored.description).toBe(winner.body.description);
  });

  it('answers a stale X-Timestamp the same way as a stale date_modified', async () => {
    const account = await createAccount('Stamped');
    const first = await get().call('PUT', `/rest/v10/Accounts/${account.id}`, { token: admin, headers: { 'X-Timestamp': account.date_modified }, body: { description: 'first' } });
    const second = await get().call('PUT', `/rest/v10/Accounts/${account.id}`, { token: admin, headers: { 'X-Timestamp': account.date_modified }, body: { description: 'second' } });
    expect([first.status, second.status]).toEqual([200, 409]);
  });

  it('gives every version its own ETag and lets exactly one If-Match writer through', async () => {
    const account = await createAccount('Tagged');
    const read = await get().call('GET', `/rest/v10/Accounts/${account.id}`, { token: admin });
    const etag = read.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    const puts = await Promise.all(Array.from({ length: 20 }, (_, i) => get().call('PUT', `/rest/v10/Accounts/${account.id}`, {
      token: admin, headers: { 'If-Match': etag }, body: { description: `tagged ${i}` },
    })));
    expect(statuses(puts).filter((s) => s === 200)).toHaveLength(1);
    const refused = puts.filter((r) => r.status === 412);
    expect(refused).toHaveLength(19);
    expect(refused[0].body).toMatchObject({ error: 'precondition_failed' });
    const winner = puts.find((r) => r.status === 200)!;
    expect(winner.headers.get('etag')).not.toBe(etag);
    expect((await get().call('GET', `/rest/v10/Accounts/${account.id}`, { token: admin })).headers.get('etag')).toBe(winner.headers.get('etag'));
    // the new version goes through; '*' matches any existing record
    expect((await get().call('PUT', `/rest/v10/Accounts/${account.id}`, { token: admin, headers: { 'If-Match': winner.headers.get('etag')! }, body: { description: 'next' } })).status).toBe(200);
    expect((await get().call('PUT', `/rest/v10/Accounts/${account.id}`, { token: admin, headers: { 'If-Match': '*' }, body: { description: 'any' } })).status).toBe(200);
  });

  it('never answers 409 to writes that ask for no check, and keeps what each of them set', async () => {
    const account = await createAccount('Busy');
    // last written a minute ago, so each of these writes moves date_modified and races the next one's read
    await get().crm.engine.db.knex('accounts').where('id', account.id).update({ date_modified: '2020-01-01 00:00:00' });
    const fields = ['description', 'industry', 'phone_office', 'website', 'billing_address_city', 'shipping_address_city'] as const;
    const values: Record<string, string> = { description: 'd', industry: 'Banking', phone_office: '+14155550100', website: 'https://example.com', billing_address_city: 'Berlin', shipping_address_city: 'Paris' };
    const puts = await Promise.all(Array.from({ length: 60 }, (_, i) => {
      const field = fields[i % fields.length];
      return get().call('PUT', `/rest/v10/Accounts/${account.id}`, { token: admin, body: { [field]: values[field] } });
    }));
    expect(statuses(puts).filter((s) => s !== 200)).toEqual([]);
    const stored = (await get().call('GET', `/rest/v10/Accounts/${account.id}`, { token: admin })).body;
    for (const field of fields) expect(stored[field]).toBe(values[field]);
  });

  it('checks the date_modified a v4_1 set_entry sends with an update', async () => {
    const { id: sessionId } = await get().v4('login', { user_auth: { user_name: 'admin', password: md5Hex('secret-admin') }, application_name: 't' });
    const account = await createAccount('Legacy');
    const entry = (name: string) => ({ session: sessionId, module_name: 'Accounts', name_value_list: [{ name: 'id', value: account.id }, { name: 'date_modified', value: account.date_modified.replace('T', ' ').slice(0, 19) }, { name: 'description', value: name }] });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => get().v4('set_entry', entry(`legacy ${i}`))));
    const saved = results.filter((r) => r.id === account.id);
    expect(saved).toHaveLength(1);
    expect(results.filter((r) => r.number === 1001 && /changed by someone else/.test(r.description))).toHaveLength(9);
    // without date_modified there is no check
    const plain = await get().v4('set_entry', { session: sessionId, module_name: 'Accounts', name_value_list: [{ name: 'id', value: account.id }, { name: 'description', value: 'unchecked' }] });
    expect(plain.id).toBe(account.id);
  });

  it('refuses the second of two edit forms opened on the same version', async () => {
    const account = await createAccount('Edited twice');
    const browser = session(get().url);
    const csrf = await browser.login('admin', 'secret-admin');
    const form = await browser.request('GET', `/ui/Accounts/${account.id}/edit`);
    const stamp = /name="date_modified" value="([^"]*)"/.exec(form.text)![1];
    const post = (description: string) => browser.request('POST', `/ui/Accounts/${account.id}/edit`, { csrf, date_modified: stamp, name: 'Edited twice', description });
    const [a, b] = await Promise.all([post('from tab one'), post('from tab two')]);
    expect([a.status, b.status].sort()).toEqual([302, 409]);
  });

  it('keeps a deleted record restorable with its links when the delete lands in the second of its last write', async () => {
    const account = await createAccount('Short-lived');
    const contact = (await get().call('POST', '/rest/v10/Contacts', { token: admin, body: { last_name: 'Linked', account_id: account.id } })).body;
    await get().call('PUT', `/rest/v10/Accounts/${account.id}`, { token: admin, body: { description: 'touched' } });
    expect((await get().call('DELETE', `/rest/v10/Accounts/${account.id}`, { token: admin })).status).toBe(200);
    await get().crm.engine.records.restore({ type: 'system' } as never, 'Accounts', account.id);
    const related = (await get().call('GET', `/rest/v10/Accounts/${account.id}/link/contacts`, { token: admin })).body.records;
    expect(related.map((r: { id: string }) => r.id)).toEqual([contact.id]);
  });
});
