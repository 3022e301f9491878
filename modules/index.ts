import type { HookDefinition } from '../core/hooks/types';
import type { Registry } from '../core/metadata/registry';
import type { Database } from '../core/db/connection';
import type { JobQueue } from '../core/jobs/job-queue';
import type { RecordService } from '../core/records/record-service';
import type { Clock } from '../core/records/time';
import type { WorkflowActionRegistry } from '../core/plugins/workflow-actions';
import { workflowRowHooks } from './AOW_WorkFlow/workflow-rows';
import { dynamicFilterHooks } from './ProspectLists/dynamic-filter';
import { opportunityHooks } from './Opportunities/logic_hooks';
import { opportunityCurrencyHook } from './Opportunities/currency';
import { campaignDefaultsHook } from './Campaigns/sugar-defaults';
import { smsTemplateHooks } from './SMSTemplates/logic_hooks';
import { registerReminderJob, reminderHooks } from './Calls/reminders';
import { contactFromParentHook, inviteParentHook, parentCheckHook } from './Calls/activity-links';

/** Engine services that exist only after the hooks are registered; filled in by the engine before any save. */
export interface ShippedServices {
  jobs?: JobQueue;
  records?: RecordService;
  clock?: Clock;
}

/**
 * In-process behaviour that shipped modules add to the engine, by module. Like Sugar's
 * custom/modules/<Module>/logic_hooks.php, but registered from code.
 */
export function shippedModuleHooks(registry: Registry, db: Database, workflowActions: WorkflowActionRegistry, services: ShippedServices = {}): Record<string, HookDefinition[]> {
  return {
    Opportunities: [...opportunityHooks((stage) => registry.dropdown('sales_probability_dom')?.[stage]), opportunityCurrencyHook(db)],
    SMSTemplates: smsTemplateHooks(registry),
    Campaigns: [campaignDefaultsHook()],
    ...workflowRowHooks(registry, db, workflowActions),
    ProspectLists: dynamicFilterHooks(registry, db),
    Calls: [parentCheckHook(registry, db), inviteParentHook(services), ...reminderHooks(db, services)],
    Meetings: [parentCheckHook(registry, db), inviteParentHook(services), ...reminderHooks(db, services)],
    Tasks: [parentCheckHook(registry, db), contactFromParentHook()],
    Notes: [parentCheckHook(registry, db), contactFromParentHook()],
  };
}

/** Job handlers of shipped modules (the activity reminder). */
export function shippedModuleJobs(jobs: JobQueue, db: Database, registry: Registry, records: RecordService): void {
  if (registry.modules.has('Alerts')) registerReminderJob(jobs, db, registry, records);
}
