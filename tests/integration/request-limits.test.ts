import { describeEachServer } from '../helpers/crm';

/** The request body as text: built without recursion, as an attacker would send it. */
const nested = (op: '$and' | '$or', depth: number) => `{"filter":[${`{"${op}":[`.repeat(depth)}{"name":"x"}${']}'.repeat(depth)}]}`;

describeEachServer('limits on filters and paging answer 4xx, never 500', (get) => {
  let token = '';
  beforeAll(async () => { token = await get().login('admin', 'secret-admin'); });
  const post = (body: unknown) => get().call('POST', '/rest/v10/Accounts/filter', { token, ...(typeof body === 'string' ? { raw: body } : { body }) });

  it('refuses a filter nested 5,000 deep or 2,000 wide, naming the limit', async () => {
    for (const body of [nested('$and', 5000), nested('$or', 2000)]) {
      const res = await post(body);
      expect(res.status).toBe(422);
      expect(res.body.error_message).toMatch(/nests \$and\/\$or deeper than 16 levels/);
    }
    const wide = await post({ filter: Array.from({ length: 1500 }, (_, i) => ({ name: `n${i}` })) });
    expect(wide.status).toBe(422);
    expect(wide.body.error_message).toMatch(/more than 1000 conditions/);
    expect((await post(nested('$and', 10))).status).toBe(200);
  });

  it('refuses an offset beyond a safe integer on REST v10 and v4_1', async () => {
    const res = await get().call('GET', '/rest/v10/Accounts?offset=100000000000000000000', { token });
    expect(res.status).toBe(422);
    expect(res.body.error_message).toMatch(/offset must be a whole number/);
    const session = await get().v4Login('admin', 'secret-admin');
    const legacy = await get().v4('get_entry_list', { session, module_name: 'Accounts', query: '', order_by: '', offset: 1e20, select_fields: ['name'], max_results: 5, deleted: 0 });
    expect(JSON.stringify(legacy)).not.toMatch(/Internal Error/);
    expect(JSON.stringify(legacy)).toMatch(/offset must be a whole number/);
  });

  it('refuses more records in one batch than it commits together, naming the limit', async () => {
    const uid = Array.from({ length: 5001 }, (_, i) => `id-${i}`);
    const res = await get().call('PUT', '/rest/v10/Accounts/MassUpdate', { token, body: { massupdate_params: { uid, industry: 'Banking' } } });
    expect(res.status).toBe(422);
    expect(res.body.error_message).toMatch(/At most 5000 records can be written in one call, got 5001/);
    const session = await get().v4Login('admin', 'secret-admin');
    const legacy = await get().v4('set_entries', { session, module_name: 'Accounts', name_value_lists: uid.map((name) => [{ name: 'name', value: name }]) });
    expect(legacy.number).toBe(1001);
    expect(await get().crm.engine.db.knex('accounts').where('name', 'like', 'id-%').count({ n: '*' }).then((r) => Number(r[0].n))).toBe(0);
  });
});
