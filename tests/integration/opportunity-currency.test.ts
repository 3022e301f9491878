import { describeEachServer } from '../helpers/crm';

/** Issue 13 (shared database): Opportunities carry currency_id and amount_usdollar as Sugar writes them. */
describeEachServer('opportunity currency as Sugar keeps it', (get) => {
  let token = '';
  const knex = () => get().crm.engine.db.knex;
  beforeAll(async () => {
    token = await get().login('admin', 'secret-admin');
    // SuiteCRM's currencies table, as on a database shared with SuiteCRM
    await knex().schema.createTable('currencies', (t) => {
      t.string('id', 36).primary();
      t.string('name', 36);
      t.string('symbol', 36);
      t.string('iso4217', 3);
      t.double('conversion_rate');
      t.string('status', 100);
      t.boolean('deleted').defaultTo(false);
    });
    await knex()('currencies').insert({ id: 'eur-id', name: 'Euro', symbol: '€', iso4217: 'EUR', conversion_rate: 0.8, status: 'Active', deleted: false });
  });
  const stored = (id: string) => knex()('opportunities').where('id', id).first('currency_id', 'amount', 'amount_usdollar');
  const deal = { name: 'Deal', date_closed: '2026-09-30', sales_stage: 'Prospecting' };

  it('defaults currency_id to the system currency and keeps amount_usdollar equal to the amount', async () => {
    const created = (await get().call('POST', '/rest/v10/Opportunities', { token, body: { ...deal, amount: '1234.5' } })).body;
    expect(await stored(created.id)).toMatchObject({ currency_id: '-99' });
    expect(Number((await stored(created.id)).amount_usdollar)).toBe(1234.5);
    await get().call('PUT', `/rest/v10/Opportunities/${created.id}`, { token, body: { amount: '2000' } });
    expect(Number((await stored(created.id)).amount_usdollar)).toBe(2000);
    // a change of something else leaves both alone
    await get().call('PUT', `/rest/v10/Opportunities/${created.id}`, { token, body: { name: 'Renamed' } });
    expect(Number((await stored(created.id)).amount_usdollar)).toBe(2000);
  });

  it('converts at the rate of SuiteCRM\'s currencies table', async () => {
    const created = (await get().call('POST', '/rest/v10/Opportunities', { token, body: { ...deal, amount: '800', currency_id: 'eur-id' } })).body;
    expect(await stored(created.id)).toMatchObject({ currency_id: 'eur-id' });
    expect(Number((await stored(created.id)).amount_usdollar)).toBe(1000);
    await get().call('PUT', `/rest/v10/Opportunities/${created.id}`, { token, body: { currency_id: '-99' } });
    expect(Number((await stored(created.id)).amount_usdollar)).toBe(800);
  });

  it('fills amount_usdollar on the next save of a row written without it', async () => {
    const created = (await get().call('POST', '/rest/v10/Opportunities', { token, body: { ...deal, amount: '50' } })).body;
    await knex()('opportunities').where('id', created.id).update({ amount_usdollar: null, currency_id: null });
    await get().call('PUT', `/rest/v10/Opportunities/${created.id}`, { token, body: { next_step: 'Call' } });
    expect(await stored(created.id)).toMatchObject({ currency_id: '-99' });
    expect(Number((await stored(created.id)).amount_usdollar)).toBe(50);
  });
});
