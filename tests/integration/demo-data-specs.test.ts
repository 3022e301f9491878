import { describeEachServer, type TestServer } from '../helpers/crm';

/**
 * Issue 13: a client's own test suite — empty a module, then create and query its fixtures — passes
 * on the demo data exactly as on an empty database.
 */
const MODULES: Array<[module: string, fixture: (i: number) => Record<string, unknown>]> = [
  ['Accounts', (i) => ({ name: `Spec Account ${i}`, industry: 'Banking' })],
  ['Contacts', (i) => ({ first_name: 'Spec', last_name: `Contact ${i}`, email1: `spec${i}@client.example` })],
  ['Leads', (i) => ({ last_name: `Lead ${i}`, status: 'New' })],
  ['Opportunities', (i) => ({ name: `Spec Deal ${i}`, amount: String(1000 * (i + 1)), date_closed: '2026-12-31', sales_stage: 'Prospecting' })],
];

function clientSpec(get: () => TestServer) {
  let token = '';
  let session = '';
  beforeAll(async () => {
    token = await get().login('admin', 'secret-admin');
    session = await get().v4Login('admin', 'secret-admin');
  });
  const api = (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });

  for (const [module, fixture] of MODULES) {
    it(`${module}: empties the module, then creates, filters and counts its own records`, async () => {
      // empty the module the way client suites do: page through and delete everything
      for (;;) {
        const page = await api('GET', `/${module}?fields=id&max_num=200`);
        expect(page.status).toBe(200);
        if (!page.body.records.length) break;
        const res = await api('DELETE', `/${module}/MassUpdate`, { massupdate_params: { uid: page.body.records.map((r: { id: string }) => r.id) } });
        expect(res.body.failures).toEqual([]);
      }
      expect((await api('GET', `/${module}/count`)).body.record_count).toBe(0);
      const created = [];
      for (let i = 0; i < 3; i++) {
        const res = await api('POST', `/${module}`, fixture(i));
        expect(res.status).toBe(200);
        created.push(res.body.id);
      }
      const listed = await api('GET', `/${module}?order_by=date_entered:asc&max_num=50`);
      expect(listed.body.records.map((r: { id: string }) => r.id).sort()).toEqual([...created].sort());
      const legacy = await get().v4('get_entries_count', { session, module_name: module, query: '', deleted: 0 });
      expect(legacy.result_count).toBe('3');
    });
  }
}

describeEachServer('a client suite on an empty database', (get) => clientSpec(get));
describeEachServer('the same client suite on the demo data', (get) => clientSpec(get), { demo: true });

describeEachServer('the demo data', (get) => {
  it('has a lead converted into a contact, an account and an opportunity, linked to each other', async () => {
    const knex = get().crm.engine.db.knex;
    const lead = await knex('leads').where({ id: 'demo-lead-09' }).first();
    expect(lead).toMatchObject({ status: 'Converted' });
    expect(Number(lead.converted)).toBe(1);
    expect(await knex('contacts').where({ id: lead.contact_id }).first('last_name')).toEqual({ last_name: 'Fischer' });
    expect(await knex('accounts').where({ id: lead.account_id }).first('name')).toEqual({ name: 'Fischer Logistics' });
    expect(await knex('opportunities').where({ id: lead.opportunity_id }).first('name')).toEqual({ name: 'Fischer fleet renewal' });
    expect(await knex('accounts_contacts').where({ account_id: lead.account_id, contact_id: lead.contact_id, deleted: 0 }).first('id')).toBeDefined();
  });
}, { demo: true });
