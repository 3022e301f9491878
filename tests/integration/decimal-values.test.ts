import { describeEachServer } from '../helpers/crm';

const deal = (amount: unknown) => ({ name: 'Deal', amount, date_closed: '2026-09-30', sales_stage: 'Prospecting' });
const campaign = (impressions: unknown) => ({ name: 'Campaign', status: 'Active', campaign_type: 'SMS', end_date: '2026-04-01', impressions });
const ruleOf = (body: { fields?: Array<{ field: string; rule: string }> }) => (body.fields ?? []).map((f) => `${f.field}:${f.rule}`);

describeEachServer('currency and whole numbers keep their exact value or are refused', (get) => {
  let token = '';
  let session = '';
  beforeAll(async () => {
    token = await get().login('admin', 'secret-admin');
    session = await get().v4Login('admin', 'secret-admin');
  });
  const api = (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });

  it('REST v10 refuses amounts out of range or with more digits than the field keeps, naming field and rule', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [1e308, 'amount:range', /amount: is out of range: at most 20 digits before the decimal point, got 1e\+308 \(range\)/],
      ['1e400', 'amount:range', /amount: is out of range/],
      ['123456789012345678901', 'amount:range', /at most 20 digits before the decimal point/],
      ['-0.0000001', 'amount:precision', /amount: has 7 digits after the decimal point; it keeps 6 \(precision\)/],
      ['12.3456789', 'amount:precision', /keeps 6/],
      ['1234567890123456', 'amount:precision', /16 significant digits; it keeps 15 exactly/],
      ['--1', 'amount:decimal', /must be a decimal number, got '--1'/],
      ['Infinity', 'amount:decimal', /must be a decimal number/],
      ['', 'amount:required', /is required/],
    ];
    for (const [amount, rule, message] of cases) {
      const res = await api('POST', '/Opportunities', deal(amount));
      expect([amount, res.status, res.body.error, ruleOf(res.body)]).toEqual([amount, 422, 'invalid_parameter', [rule]]);
      expect(res.body.error_message).toMatch(message);
    }
    expect(await get().crm.engine.db.knex('opportunities').count({ n: '*' }).then((r) => Number(r[0].n))).toBe(0);
  });

  it('updates a record whose stored amount breaks today\'s rules when the update leaves the amount alone', async () => {
    const created = (await api('POST', '/Opportunities', deal('10'))).body;
    await get().crm.engine.db.knex('opportunities').where('id', created.id).update({ amount: 100.123456789 });
    const renamed = await api('PUT', `/Opportunities/${created.id}`, { name: 'Renamed' });
    expect(renamed.status).toBe(200);
    expect(await get().crm.engine.db.knex('opportunities').where('id', created.id).first('amount').then((r) => Number(r.amount))).toBeCloseTo(100.123456789, 9);
    expect((await api('PUT', `/Opportunities/${created.id}`, { amount: '100.1234567' })).status).toBe(422);
  });

  it('REST v10 stores decimal text and numbers and returns them exactly, with the field\'s six places', async () => {
    const cases: Array<[unknown, string]> = [
      ['12345.678901', '12345.678901'], ['1234.50', '1234.500000'], [1234.5, '1234.500000'], ['-0.000001', '-0.000001'],
      ['-0.0000000', '0.000000'], ['1.5000000', '1.500000'], ['+7', '7.000000'], ['.25', '0.250000'], ['2.5e3', '2500.000000'],
      [0.3, '0.300000'], ['999999999.999999', '999999999.999999'], ['10000000000000000000', '10000000000000000000.000000'],
    ];
    for (const [amount, expected] of cases) {
      const created = await api('POST', '/Opportunities', deal(amount));
      expect([amount, created.status, created.body.amount]).toEqual([amount, 200, expected]);
      const read = await api('GET', `/Opportunities/${created.body.id}`);
      expect([amount, read.body.amount]).toEqual([amount, expected]);
    }
    const updated = await api('PUT', `/Opportunities/${(await api('POST', '/Opportunities', deal('1'))).body.id}`, { amount: '0.1' });
    expect(updated.body.amount).toBe('0.100000');
    expect((await api('PUT', `/Opportunities/${updated.body.id}`, { amount: 1e308 })).status).toBe(422);
    expect((await api('GET', `/Opportunities/${updated.body.id}`)).body.amount).toBe('0.100000');
  });

  it('REST v10 filters on currency compare exactly and answer 422 for a bad number', async () => {
    await api('POST', '/Opportunities', { ...deal('98765.432109'), name: 'Filtered' });
    const list = await api('POST', '/Opportunities/filter', { filter: [{ amount: { $equals: '98765.432109' } }], fields: 'amount' });
    expect(list.status).toBe(200);
    expect(list.body.records.map((r: { amount: string }) => r.amount)).toEqual(['98765.432109']);
    for (const bad of ['1e400', 'abc', 1e308, '--1', '0.0000001']) {
      const res = await api('POST', '/Opportunities/filter', { filter: [{ amount: { $gt: bad } }] });
      expect([bad, res.status, res.body.error]).toEqual([bad, 422, 'invalid_parameter']);
      expect(res.body.error_message).toMatch(/\$gt on amount: value/);
    }
    for (const query of ["opportunities.amount > '1e400'", `opportunities.amount > 1${'0'.repeat(30)}`, "opportunities.amount > 'abc'"]) {
      const legacy = await get().v4('get_entry_list', { session, module_name: 'Opportunities', query, order_by: '', offset: 0, select_fields: ['amount'], max_results: 5, deleted: 0 });
      // v4_1 answers every query it refuses with its 'Access Denied' 40; never 'Internal Error' 1000.
      expect([query, legacy.number, legacy.description]).toEqual([query, 40, expect.stringMatching(/on amount: value (is out of range|must be a decimal number)/)]);
    }
  });

  it('v4_1 set_entry refuses the same values and get_entry returns stored amounts exactly', async () => {
    for (const amount of ['1e308', '-0.0000001', '123456789012345678901']) {
      const res = await get().v4('set_entry', { session, module_name: 'Opportunities', name_value_list: deal(amount) });
      expect(res).toMatchObject({ name: 'Invalid Data Format', number: 1001 });
      expect(res.description).toMatch(/amount: .*\((range|precision)\)/);
    }
    const saved = await get().v4('set_entry', { session, module_name: 'Opportunities', name_value_list: deal('12345.678901') });
    const entry = await get().v4('get_entry', { session, module_name: 'Opportunities', id: saved.id, select_fields: ['amount'] });
    expect(entry.entry_list[0].name_value_list.amount.value).toBe('12345.678901');
  });

  it('refuses whole numbers beyond the column on REST v10 and v4_1, and keeps the largest that fit', async () => {
    for (const impressions of [2147483648, -2147483649, '99999999999999999999', 1e308]) {
      const res = await api('POST', '/Campaigns', campaign(impressions));
      expect([impressions, res.status, ruleOf(res.body)]).toEqual([impressions, 422, ['impressions:range']]);
      expect(res.body.error_message).toMatch(/impressions: must be between -2147483648 and 2147483647/);
    }
    const legacy = await get().v4('set_entry', { session, module_name: 'Campaigns', name_value_list: campaign('2147483648') });
    expect(legacy).toMatchObject({ number: 1001 });
    expect(legacy.description).toMatch(/impressions: must be between -2147483648 and 2147483647.*\(range\)/);
    for (const impressions of [2147483647, -2147483648]) {
      const created = await api('POST', '/Campaigns', campaign(impressions));
      expect((await api('GET', `/Campaigns/${created.body.id}`)).body.impressions).toBe(impressions);
    }
  });
});
