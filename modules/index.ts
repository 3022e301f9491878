import type { HookDefinition } from '../core/hooks/types';
import type { Registry } from '../core/metadata/registry';
import type { Database } from '../core/db/connection';
import type { WorkflowActionRegistry } from '../core/plugins/workflow-actions';
import { workflowRowHooks } from './AOW_WorkFlow/workflow-rows';
import { dynamicFilterHooks } from './ProspectLists/dynamic-filter';
import { opportunityHooks } from './Opportunities/logic_hooks';
import { opportunityCurrencyHook } from './Opportunities/currency';
import { campaignDefaultsHook } from './Campaigns/sugar-defaults';
import { smsTemplateHooks } from './SMSTemplates/logic_hooks';

/**
 * In-process behaviour that shipped modules add to the engine, by module. Like Sugar's
 * custom/modules/<Module>/logic_hooks.php, but registered from code.
 */
export function shippedModuleHooks(registry: Registry, db: Database, workflowActions: WorkflowActionRegistry): Record<string, HookDefinition[]> {
  return {
    Opportunities: [...opportunityHooks((stage) => registry.dropdown('sales_probability_dom')?.[stage]), opportunityCurrencyHook(db)],
    SMSTemplates: smsTemplateHooks(registry),
    Campaigns: [campaignDefaultsHook()],
    ...workflowRowHooks(registry, db, workflowActions),
    ProspectLists: dynamicFilterHooks(registry, db),
  };
}
