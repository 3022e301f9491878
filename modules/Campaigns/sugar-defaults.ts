import type { HookDefinition } from '../../core/hooks/types';
import { SYSTEM_CURRENCY_ID } from '../Opportunities/currency';

/**
 * What SuiteCRM's Campaign save and edit view write, so SuiteCRM can show and save campaigns Cane
 * created on a shared database: currency_id defaults to the system currency ('-99') and frequency
 * is '' unless the campaign is a newsletter (Campaign::save, Sugar bug 53301).
 */
export function campaignDefaultsHook(): HookDefinition {
  return {
    event: 'before_save',
    order: 1,
    label: 'Currency and frequency as SuiteCRM writes them',
    handler: (bean) => {
      if (!bean.currency_id) bean.currency_id = SYSTEM_CURRENCY_ID;
      if (bean.campaign_type !== 'NewsLetter') bean.frequency = '';
    },
  } satisfies HookDefinition<'before_save'> as HookDefinition;
}
