import { describeEachServer, loginWithRole } from '../helpers/crm';
import { session } from '../helpers/ui-session';

/** Issue 12, item 2: a multi-record write is one transaction — all of it or none of it. */
describeEachServer('multi-record writes', (get) => {
  let admin = '';
  let sessionId = '';
  beforeAll(async () => {
    admin = await get().login('admin', 'secret-admin');
    sessionId = await get().v4Login('admin', 'secret-admin');
  });
  const countContacts = async (lastName: string) => Number((await get().crm.engine.db.knex('contacts').where({ last_name: lastName, deleted: 0 }).count({ n: '*' }))[0].n);

  it('v4_1 set_entries writes no entry when one of them is refused, and names the entry', async () => {
    const entries = [0, 1, 2, 3, 4].map((i) => [{ name: 'last_name', value: 'Batch-refused' }, { name: 'first_name', value: `n${i}` }, ...(i === 3 ? [{ name: 'birthdate', value: 'not a date' }] : [])]);
    const res = await get().v4('set_entries', { session: sessionId, module_name: 'Contacts', name_value_lists: entries });
    expect(res.number).toBe(1001);
    expect(res.description).toMatch(/^entry 3: .*birthdate/);
    expect(await countContacts('Batch-refused')).toBe(0);
    const ok = await get().v4('set_entries', { session: sessionId, module_name: 'Contacts', name_value_lists: entries.map((e) => e.filter((f) => f.name !== 'birthdate')) });
    expect(ok.ids).toHaveLength(5);
    expect(await countContacts('Batch-refused')).toBe(5);
  });

  it('v4_1 set_entries mixes creates, updates and deletes in one go', async () => {
    const [keep, drop] = (await get().v4('set_entries', { session: sessionId, module_name: 'Contacts', name_value_lists: [[{ name: 'last_name', value: 'Mixed' }], [{ name: 'last_name', value: 'Mixed' }]] })).ids;
    const res = await get().v4('set_entries', { session: sessionId, module_name: 'Contacts', name_value_lists: [
      [{ name: 'id', value: keep }, { name: 'first_name', value: 'Kept' }],
      [{ name: 'id', value: drop }, { name: 'deleted', value: '1' }],
      [{ name: 'last_name', value: 'Mixed' }, { name: 'first_name', value: 'New' }],
    ] });
    expect(res.ids[0]).toBe(keep);
    expect(res.ids[1]).toBe(drop);
    const rows = await get().crm.engine.db.knex('contacts').where({ last_name: 'Mixed', deleted: 0 }).orderBy('first_name').pluck('first_name');
    expect(rows).toEqual(['Kept', 'New']);
  });

  it('REST v10 mass update skips the records the user may not change and commits the rest together', async () => {
    const token = await loginWithRole(get(), { name: 'mona', password: 'mona-secret-1' }, 'Mass owners', [['Accounts', 'view', 'all'], ['Accounts', 'list', 'all'], ['Accounts', 'edit', 'owner'], ['Accounts', 'massupdate', 'all']]);
    const mine = await Promise.all([1, 2, 3].map((i) => get().call('POST', '/rest/v10/Accounts', { token, body: { name: `Mona ${i}` } })));
    const theirs = (await get().call('POST', '/rest/v10/Accounts', { token: admin, body: { name: 'Admin owned' } })).body;
    const ids = [...mine.map((r) => r.body.id), theirs.id];
    const res = await get().call('PUT', '/rest/v10/Accounts/MassUpdate', { token, body: { massupdate_params: { uid: ids, industry: 'Banking' } } });
    expect(res.status).toBe(200);
    expect(res.body.failed).toBe(1);
    expect(res.body.failures.map((f: { id: string }) => f.id)).toEqual([theirs.id]);
    const industries = await get().crm.engine.db.knex('accounts').whereIn('id', ids).orderBy('name').pluck('industry');
    expect(industries).toEqual([null, 'Banking', 'Banking', 'Banking']);
  });

  it('the UI mass delete deletes the selected records together', async () => {
    const created = (await get().v4('set_entries', { session: sessionId, module_name: 'Contacts', name_value_lists: [1, 2, 3].map(() => [{ name: 'last_name', value: 'Mass-deleted' }]) })).ids;
    const browser = session(get().url);
    const csrf = await browser.login('admin', 'secret-admin');
    const res = await browser.request('POST', '/ui/Contacts/mass', { csrf, action: 'delete', ids: created });
    expect(res.status).toBe(302);
    expect(decodeURIComponent(res.location.replace(/\+/g, ' '))).toMatch(/3 of 3 records: deleted/);
    expect(await countContacts('Mass-deleted')).toBe(0);
  });
});
