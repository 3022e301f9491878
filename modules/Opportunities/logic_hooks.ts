import type { HookDefinition } from '../../core/hooks/types';

/**
 * When the sales stage changes and the caller did not set a probability in the same save, the
 * probability follows sales_probability_dom (Prospecting 10 … Closed Won 100), as Sugar's
 * Opportunity edit view does.
 */
export function opportunityHooks(probabilityFor: (stage: string) => string | undefined): HookDefinition[] {
  return [
    {
      event: 'before_save',
      order: 1,
      label: 'Default probability from sales stage',
      handler: (bean, _event, args) => {
        const stage = bean.sales_stage as string | null;
        const changed = !bean.fetched_row || bean.fetched_row.sales_stage !== stage;
        if (!stage || !changed || args.submitted.includes('probability')) return;
        const probability = probabilityFor(stage);
        if (probability !== undefined) bean.probability = Number(probability);
      },
    } satisfies HookDefinition<'before_save'> as HookDefinition,
  ];
}
