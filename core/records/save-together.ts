import type { Knex } from 'knex';
import { CaneError } from '../errors';
import { insertRows } from '../db/insert-rows';
import type { ModuleDef } from '../metadata/registry';
import { isTruthy } from '../metadata/field-types';
import type { Actor } from './actor';
import type { RecordContext } from './context';
import { assertAppendAllowed } from './append-only';
import { checkBatchSize, type BatchFailure } from './batch';
import { prepareSave, writeSave, publishSave, runAfterSaveHooks, type SaveOptions, type SavePlan } from './save';
import { recordRows, splitRow } from './custom-fields';
import { writeNewRecordsEmails } from './email-addresses';
import { writeAuditRows } from './audit';
import { applyRelateLinks } from './link';
import { toRecords, type RecordData } from './read';

export interface SaveEntry {
  /** The record to update; none to create one. */
  id?: string;
  input: Record<string, unknown>;
}

/** Per entry, the id of the record it wrote (none when refused), and the refusals with their reasons. */
export interface SaveOutcome {
  ids: Array<string | undefined>;
  failures: BatchFailure[];
}

const READ_CHUNK = 500;

/**
 * writeTogether(…, 'each') for saves of one module, set-based: each entry is planned as a save
 * (access, before hooks, validation; a refusal is reported with its reason), then the new records
 * are inserted many rows at a time with their custom rows and e-mail addresses, their events
 * published one by one, and they are read back together for the after_save hooks (when the module
 * has any; the caller gets the records' ids). When that insert
 * fails, it is undone and the entries are written one by one, each in its own savepoint, so the
 * failing one is found and refused and the rest still commit. Updates, and creates that name their
 * own id, are always written one by one. `beforeCommit` writes what the caller keeps about the
 * outcome in the same transaction.
 */
export async function saveTogether(
  ctx: RecordContext, actor: Actor, module: ModuleDef, entries: SaveEntry[], beforeCommit?: (trx: Knex.Transaction, outcome: SaveOutcome) => Promise<void>,
  options: Pick<SaveOptions, 'systemFields'> = {},
): Promise<SaveOutcome> {
  checkBatchSize(entries.length);
  const failures: BatchFailure[] = [];
  const refuse = (index: number, err: unknown) => {
    if (!(err instanceof CaneError)) throw err;
    failures.push({ index, error: err });
  };
  const ready: Array<{ index: number; plan: SavePlan }> = [];
  const planning: SaveOptions = { ...options, referenceChecks: new Map() };
  for (const [index, entry] of entries.entries()) {
    try {
      assertAppendAllowed(module, actor, entry.id === undefined ? 'create' : 'update');
      ready.push({ index, plan: await prepareSave(ctx, actor, module, entry.id, entry.input, planning) });
    } catch (err) {
      refuse(index, err);
    }
  }
  const together = ready.filter(({ index, plan }) => plan.writing && !plan.isUpdate && entries[index].input.id === undefined);
  const written: typeof ready = [];
  const ids: Array<string | undefined> = new Array(entries.length).fill(undefined);
  await ctx.db.knex.transaction(async (trx) => {
    let oneByOne = ready.filter((entry) => !together.includes(entry));
    if (together.length) {
      try {
        await trx.transaction((savepoint) => writeCreates(ctx, savepoint, module, together.map((entry) => entry.plan)));
        written.push(...together);
      } catch {
        oneByOne = ready;
      }
    }
    for (const entry of oneByOne) {
      try {
        if (entry.plan.writing) await trx.transaction((savepoint) => writeSave(ctx, savepoint, entry.plan));
        written.push(entry);
      } catch (err) {
        refuse(entry.index, ctx.db.dialect.isRowRefused(err) ? refusedByDatabase(module, err) : err);
      }
    }
    for (const { index, plan } of written) ids[index] = plan.recordId;
    failures.sort((a, b) => a.index - b.index);
    await beforeCommit?.(trx, { ids, failures });
  });
  written.sort((a, b) => a.index - b.index);
  // after_save hooks get the record as stored, read back for all of them at once; without such hooks nothing needs it.
  const stored = ctx.hooks.has(module.name, 'after_save') ? await readStored(ctx, module, written.map((entry) => entry.plan.recordId)) : undefined;
  for (const { plan } of written) await runAfterSaveHooks(ctx, plan, stored?.get(plan.recordId));
  return { ids, failures };
}

/** writeSave for new records, many rows per INSERT. */
async function writeCreates(ctx: RecordContext, trx: Knex.Transaction, module: ModuleDef, plans: SavePlan[]): Promise<void> {
  const rows = plans.map((plan) => splitRow(module, plan.row));
  await insertRows(trx, module.table, rows.map((row) => row.own));
  if (module.customTable) await insertRows(trx, module.customTable, rows.map((row, i) => ({ id_c: plans[i].recordId, ...row.custom })));
  const withEmails = plans.filter((plan) => plan.emails);
  if (withEmails.length) await writeNewRecordsEmails(trx, module.name, withEmails.map((plan) => ({ recordId: plan.recordId, desired: plan.emails!.desired, now: plan.now })));
  for (const plan of plans) {
    await writeAuditRows(trx, module, plan.recordId, plan.changes, plan.userId, plan.now);
    await applyRelateLinks(ctx, trx, module, plan.recordId, plan.linkPlan, plan.now);
    await publishSave(ctx, trx, plan);
  }
}

/** The records as stored after the commit, with sensitive fields, as finishSave reads one; deleted ones (by a hook) are left out. */
async function readStored(ctx: RecordContext, module: ModuleDef, ids: string[]): Promise<Map<string, RecordData>> {
  const stored = new Map<string, RecordData>();
  for (let i = 0; i < ids.length; i += READ_CHUNK) {
    const rows = (await recordRows(ctx.db.knex, module).whereIn(`${module.table}.id`, ids.slice(i, i + READ_CHUNK))).filter((row: Record<string, unknown>) => !isTruthy(row.deleted));
    for (const record of await toRecords(ctx, module, rows, null, { includeSensitive: true })) stored.set(record.id, record);
  }
  return stored;
}

/** A row the database refused (a unique index, a column's limit) as the entry's refusal, with the database's reason but not the SQL knex puts before it. */
function refusedByDatabase(module: ModuleDef, err: unknown): CaneError {
  const message = String((err as { sqlMessage?: string }).sqlMessage ?? (err as Error).message);
  const reason = message.includes(' - ') ? message.slice(message.indexOf(' - ') + 3) : message;
  return new CaneError('refused_by_database', `the database refused the ${module.name} record: ${reason}`, 422, { module: module.name });
}
