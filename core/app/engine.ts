import { openDatabase, type Database } from '../db/connection';
import { syncSchema, type SyncPlan } from '../db/sync';
import { readStudioFields } from '../db/fields-meta-data';
import { HookRegistry } from '../hooks/hook-registry';
import { loadRegistry, type Registry, type RegistryOptions } from '../metadata/registry';
import { RecordService } from '../records/record-service';
import { RecordValidator } from '../records/validate';
import { allowAll, type AccessPolicy, type Logger, type RecordContext } from '../records/context';
import { systemClock, type Clock } from '../records/time';
import { createLogger } from '../logger';
import { JobQueue } from '../jobs/job-queue';
import { SchedulerRunner } from '../jobs/schedulers';
import { registerBuiltinJobs } from '../jobs/builtin-jobs';
import { jobQueueTable } from '../jobs/queue-table';
import { shippedModuleHooks, shippedModuleJobs, type ShippedServices } from '../../modules';
import { WorkflowActionRegistry } from '../plugins/workflow-actions';

export interface EngineOptions extends RegistryOptions {
  /** `sqlite:<file>` or `mysql://…`; default DATABASE_URL, else sqlite:./data/cane.sqlite. */
  databaseUrl?: string;
  /** An already opened database (the engine will not close it). */
  database?: Database;
  /** Bring the schema in line with the metadata at start (default true). */
  sync?: boolean;
  clock?: Clock;
  logger?: Logger;
  access?: AccessPolicy;
  /** Seconds without a heartbeat before a running job is taken back from its worker (default 30). */
  jobLeaseSeconds?: number;
  /** job_queue or cane_job_queue; default CANE_JOB_QUEUE_TABLE, else cane_job_queue on a database shared with SuiteCRM. */
  jobQueueTable?: string;
}

/** The records engine: metadata registry, database, hooks, record service and job queue. */
export interface Engine {
  registry: Registry;
  db: Database;
  hooks: HookRegistry;
  records: RecordService;
  jobs: JobQueue;
  schedulers: SchedulerRunner;
  context: RecordContext;
  /** Action types plugins add to workflows (filled by the plugin host, read by the checks of AOW_Actions). */
  workflowActions: WorkflowActionRegistry;
  /** What the start-up schema sync did. */
  syncPlan?: SyncPlan;
  close(): Promise<void>;
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/cane.sqlite';

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const log = options.logger ?? createLogger();
  const notes: string[] = [];
  const warn = options.warn ?? ((m: string) => notes.push(m));
  const ownsDatabase = !options.database;
  const db = options.database ?? openDatabase(options.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, log);
  try {
    // Fields SuiteCRM's Studio added (fields_meta_data) become fields of the module before the schema is synced.
    const studioFields = { ...(await readStudioFields(db, warn)), ...options.studioFields };
    const registry = loadRegistry({ ...options, studioFields, warn });
    if (notes.length) log.info({ notes }, `${notes.length} metadata notes: links to modules that are not installed are disabled, Studio fields Cane cannot use are left out`);
    const syncPlan = options.sync === false ? undefined : await syncSchema(db, registry);
    const hooks = new HookRegistry((message) => log.error(message));
    const workflowActions = new WorkflowActionRegistry();
    const shipped: ShippedServices = {};
    for (const [module, definitions] of Object.entries(shippedModuleHooks(registry, db, workflowActions, shipped))) {
      if (registry.modules.has(module)) for (const definition of definitions) hooks.register(module, definition);
    }
    const clock = options.clock ?? systemClock;
    const context: RecordContext = { outbox: [], db, registry, hooks, validator: new RecordValidator(registry), access: options.access ?? allowAll, clock, log };
    const table = await jobQueueTable(db, options.jobQueueTable ?? process.env.CANE_JOB_QUEUE_TABLE);
    const jobs = new JobQueue(db, { clock, log, leaseSeconds: options.jobLeaseSeconds, table });
    registerBuiltinJobs(jobs, db, clock);
    const records = new RecordService(context);
    Object.assign(shipped, { jobs, records, clock });
    shippedModuleJobs(jobs, db, registry, records);
    const schedulers = new SchedulerRunner(db, jobs, log);
    return {
      registry, db, hooks, records, jobs, schedulers, context, syncPlan, workflowActions,
      close: async () => {
        schedulers.stop();
        await schedulers.settled();
        await jobs.stop();
        if (ownsDatabase) await db.close();
      },
    };
  } catch (err) {
    if (ownsDatabase) await db.close();
    throw err;
  }
}
