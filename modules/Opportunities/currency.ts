import type { Database } from '../../core/db/connection';
import type { HookDefinition } from '../../core/hooks/types';

/** Sugar's id of the system currency (US dollars unless configured), conversion rate 1. */
export const SYSTEM_CURRENCY_ID = '-99';

/**
 * As Sugar's Opportunity::save: currency_id defaults to the system currency and amount_usdollar
 * follows amount at the currency's conversion rate (SuiteCRM's `currencies` table when the database
 * has one, as when it is shared with SuiteCRM; rate 1 otherwise). SuiteCRM's own save and audit
 * expect both columns filled.
 */
export function opportunityCurrencyHook(db: Database): HookDefinition {
  let hasCurrencies: Promise<boolean> | undefined;
  const rateOf = async (currencyId: string): Promise<number> => {
    if (currencyId === SYSTEM_CURRENCY_ID) return 1;
    hasCurrencies ??= db.dialect.tables(db.knex).then((tables) => tables.has('currencies'));
    if (!(await hasCurrencies)) return 1;
    const row = await db.knex('currencies').where({ id: currencyId, deleted: 0 }).first('conversion_rate');
    const rate = Number(row?.conversion_rate);
    return Number.isFinite(rate) && rate > 0 ? rate : 1;
  };
  return {
    event: 'before_save',
    order: 2,
    label: 'Currency and amount in US dollars',
    handler: async (bean) => {
      if (!bean.currency_id) bean.currency_id = SYSTEM_CURRENCY_ID;
      const before = bean.fetched_row;
      const moved = !before || before.amount !== bean.amount || before.currency_id !== bean.currency_id || before.amount_usdollar == null;
      if (!moved) return;
      if (bean.amount === null || bean.amount === undefined || bean.amount === '') {
        bean.amount_usdollar = null;
        return;
      }
      const rate = await rateOf(String(bean.currency_id));
      bean.amount_usdollar = rate === 1 ? bean.amount : (Number(bean.amount) / rate).toFixed(6);
    },
  } satisfies HookDefinition<'before_save'> as HookDefinition;
}
