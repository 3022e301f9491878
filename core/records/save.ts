import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { AccessDeniedError, ConflictError, NotFoundError, PreconditionFailedError, ValidationError, type FieldProblem } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import { isTruthy } from '../metadata/field-types';
import { perModule } from '../metadata/per-module';
import { makeBean } from '../hooks/hook-registry';
import { actorId, isCane, type Actor } from './actor';
import { originOf, type RecordContext } from './context';
import { parseInput, relateIdLinks } from './input';
import { diff, writeAuditRows, type FieldChange } from './audit';
import { normalizeInput, toStorage, fromStorage, type FieldValue } from './values';
import { SYSTEM_FIELDS } from './validate';
import { formatDateTime } from './time';
import { applyRelateLinks, planRelateLinks, fireRelationshipHooks } from './link';
import { retrieveRecord } from './queries';
import { ifMatchAccepts, nextDateModified, recordETag } from './version';
import { checkEmailInput, desiredEmails, readEmails, writeEmails, type EmailEntry } from './email-addresses';
import type { RecordData } from './read';
import type { PlannedWrite } from './batch';
import { recordRows, splitRow, writeCustomRow } from './custom-fields';

export interface SaveOptions {
  /** Optimistic locking: the date_modified the caller read; a newer one in the database is a conflict (409). */
  expectedDateModified?: string;
  /** Optimistic locking by ETag: an If-Match header; a record whose ETag is not named fails the precondition (412). */
  ifMatch?: string;
  /** Set only by Cane's own code that writes `system_only` fields for a user (the SMS send path); never from request input. */
  systemFields?: boolean;
  /** Whether referenced records exist, by `table:id`, shared by the saves of one batch (saveTogether) so each is looked up once. */
  referenceChecks?: Map<string, Promise<boolean>>;
}

/**
 * SugarBean::save as one linear operation: access → before_save hooks → validate → write →
 * audit → relationships → commit → after_save. Create when `id` is undefined, else update.
 */
export async function saveRecord(
  ctx: RecordContext, actor: Actor, module: ModuleDef, id: string | undefined, input: Record<string, unknown>, options: SaveOptions = {},
): Promise<RecordData> {
  const plan = await prepareSave(ctx, actor, module, id, input, options);
  if (plan.writing) await ctx.db.knex.transaction((trx) => writeSave(ctx, trx, plan));
  return finishSave(ctx, plan);
}

/** A save as one write of a batch (see writeTogether). */
export async function planSave(
  ctx: RecordContext, actor: Actor, module: ModuleDef, id: string | undefined, input: Record<string, unknown>, options: SaveOptions = {},
): Promise<PlannedWrite<RecordData>> {
  const plan = await prepareSave(ctx, actor, module, id, input, options);
  return { write: async (trx) => { if (plan.writing) await writeSave(ctx, trx, plan); }, finish: () => finishSave(ctx, plan) };
}

/** A save that passed access, hooks and validation: what writeSave puts in the database. */
export interface SavePlan {
  actor: Actor;
  module: ModuleDef;
  options: SaveOptions;
  isUpdate: boolean;
  recordId: string;
  /** The record as read before the save (updates). */
  fetched: Record<string, FieldValue> | null;
  start: Record<string, FieldValue>;
  values: Record<string, FieldValue>;
  changes: Record<string, FieldChange>;
  row: Record<string, unknown>;
  linkPlan: Awaited<ReturnType<typeof planRelateLinks>>;
  /** The record's e-mail addresses before and after, when the save sets them. */
  emails?: { current: EmailEntry[]; desired: EmailEntry[] };
  writing: boolean;
  now: string;
  userId: string | null;
}

/** Everything a save does before its transaction; throws (writing nothing) when the save may not happen. */
export async function prepareSave(
  ctx: RecordContext, actor: Actor, module: ModuleDef, id: string | undefined, input: Record<string, unknown>, options: SaveOptions = {},
): Promise<SavePlan> {
  const isUpdate = id !== undefined;
  const knex = ctx.db.knex;

  // ---------------------------------------------------------------- load and access
  let fetched: Record<string, FieldValue> | null = null;
  if (isUpdate) {
    const row = await recordRows(knex, module).where(`${module.table}.id`, id).first();
    if (!row || isTruthy(row.deleted)) throw new NotFoundError(`Could not find record: ${id} in module: ${module.name}`, { module: module.name, id });
    fetched = rowValues(module, row);
    await requireVisible(ctx, actor, module, fetched);
    await ctx.access.check(actor, module, 'edit', fetched);
  } else {
    await ctx.access.check(actor, module, 'edit');
  }

  // ---------------------------------------------------------------- parse input
  const parsed = parseInput(module, input, isUpdate);
  const start = isUpdate ? { ...fetched! } : defaults(module);
  // Report every bad field at once: input that cannot be read and values that break the vardefs.
  const unreadable = new Set(parsed.problems.map((p) => p.field));
  const early = [
    ...parsed.problems,
    ...ctx.validator.validate(module, { ...start, ...parsed.values }, isUpdate, parsed.submitted).filter((p) => !unreadable.has(p.field)),
  ];
  let emails: SavePlan['emails'];
  if (parsed.emails) {
    const current = isUpdate ? (await readEmails(knex, module.name, [id!])).get(id!) ?? [] : [];
    early.push(...checkEmailInput(parsed.emails, current));
    emails = { current, desired: desiredEmails(current, parsed.emails) };
  }
  if (early.length) throw new ValidationError(module.name, early);
  // Checked here to fail before hooks run, and again under the row lock where it counts.
  if (isUpdate) checkVersion(module, id!, fetched!, options);
  const recordId = isUpdate ? id : ((parsed.values.id as string | undefined) ?? crypto.randomUUID());
  if (!isUpdate && parsed.values.id && (await knex(module.table).where('id', recordId).first())) {
    throw new ValidationError(module.name, [{ field: 'id', rule: 'unique', message: `a ${module.name} record with id ${recordId} already exists` }]);
  }

  // ---------------------------------------------------------------- before_save
  const bean = makeBean(module.name, module.objectName, { ...start, ...parsed.values, id: recordId }, fetched);
  const idFieldOfLink = Object.fromEntries(Object.entries(relateIdLinks(module)).map(([idField, link]) => [link, idField]));
  for (const [link, relatedId] of Object.entries(parsed.relateLinks)) bean[idFieldOfLink[link]] = relatedId;
  await ctx.hooks.run(module.name, 'before_save', bean, { check_notify: false, isUpdate, submitted: [...parsed.submitted] });

  // ---------------------------------------------------------------- values after hooks
  const problems: FieldProblem[] = [];
  const values: Record<string, FieldValue> = {};
  const touched = new Set(parsed.submitted);
  for (const column of module.columns) {
    if (SYSTEM_FIELDS.has(column) || module.fields[column].auto_increment) continue;
    // A value nobody changed stays as stored, even one today's rules refuse (written by SuiteCRM or an
    // older Cane): an update of other fields must not fail on it.
    if (isUpdate && !parsed.submitted.has(column) && JSON.stringify(bean[column] ?? null) === JSON.stringify(fetched![column] ?? null)) {
      values[column] = fetched![column] ?? null;
      continue;
    }
    const normalized = normalizeInput(module.fields[column], bean[column]);
    if (!normalized.ok) {
      problems.push({ field: column, rule: normalized.rule, message: normalized.message });
      continue;
    }
    values[column] = normalized.value;
    if (isUpdate && JSON.stringify(normalized.value) !== JSON.stringify(fetched![column] ?? null)) touched.add(column);
  }
  const relateLinks = { ...parsed.relateLinks };
  for (const [link, idField] of Object.entries(idFieldOfLink)) {
    if (bean[idField] !== undefined && bean[idField] !== (parsed.relateLinks[link] ?? undefined)) relateLinks[link] = (bean[idField] as string | null) || null;
  }

  // ---------------------------------------------------------------- field access
  if (actor.type !== 'system' && !actor.isAdmin) {
    const guarded = Object.keys(values).filter((name) => module.fields[name].admin_only && JSON.stringify(values[name]) !== JSON.stringify(start[name] ?? null));
    if (guarded.length) throw new AccessDeniedError(`Only administrators may change ${guarded.join(', ')} of ${module.name}`, { module: module.name, fields: guarded });
  }
  // Fields such as SMS delivery history are Cane's own record of what happened: administrators and plugins cannot write them either.
  if (!options.systemFields && !isCane(actor)) {
    const systemOnly = Object.keys(values).filter((name) => module.fields[name].system_only && JSON.stringify(values[name]) !== JSON.stringify(start[name] ?? null));
    if (systemOnly.length) {
      throw new AccessDeniedError(`${module.name}: ${systemOnly.join(', ')} ${systemOnly.length > 1 ? 'are' : 'is'} written only by Cane itself (system_only), not through the API, the UI or a plugin; nothing was saved`, { module: module.name, field: systemOnly[0], fields: systemOnly, rule: 'system_only' });
    }
  }

  // ---------------------------------------------------------------- owner
  // Sugar assigns a new record to its creator when nobody else is named.
  // The acting user is known to exist (they signed in), so this default needs no reference check.
  const defaultedOwner = !isUpdate && actor.type === 'user' && module.columns.includes('assigned_user_id') && !values.assigned_user_id;
  if (defaultedOwner) {
    values.assigned_user_id = actor.id;
    touched.add('assigned_user_id');
  }

  // ---------------------------------------------------------------- validate
  problems.push(...ctx.validator.validate(module, values, isUpdate, touched));
  const lookUp = (table: string, relatedId: string) => knex(table).where({ id: relatedId, deleted: 0 }).first('id').then(Boolean);
  const exists = (table: string, relatedId: string) => {
    const checks = options.referenceChecks;
    if (!checks) return lookUp(table, relatedId);
    const key = `${table}:${relatedId.toLowerCase()}`;
    if (!checks.has(key)) checks.set(key, lookUp(table, relatedId));
    return checks.get(key)!;
  };
  for (const [link, relatedId] of Object.entries(relateLinks)) {
    if (!relatedId) continue;
    const target = ctx.registry.module(module.links[link].module);
    if (!(await exists(target.table, relatedId))) problems.push({ field: idFieldOfLink[link], rule: 'relate', message: `no ${target.name} record has id ${relatedId}` });
  }
  // Ids stored on this record that name a record elsewhere (assigned_user_id → Users, …) must name one that exists.
  for (const { idField, target } of storedReferences(ctx, module)) {
    const value = values[idField];
    if (!value || !touched.has(idField) || Object.values(idFieldOfLink).includes(idField) || (defaultedOwner && idField === 'assigned_user_id')) continue;
    if (isUpdate && value === fetched![idField]) continue;
    if (!(await exists(target.table, String(value)))) problems.push({ field: idField, rule: 'relate', message: `no ${target.name} record has id ${String(value)}` });
  }
  if (problems.length) throw new ValidationError(module.name, problems);

  // ---------------------------------------------------------------- system fields
  const now = formatDateTime(ctx.clock());
  const userId = actorId(actor);
  const changes: Record<string, FieldChange> = isUpdate ? diff(module, fetched!, values) : {};
  const linkPlan = await planRelateLinks(ctx, module, recordId, relateLinks);
  const row: Record<string, unknown> = {};
  const has = (f: string) => module.columns.includes(f);
  if (isUpdate) {
    for (const name of Object.keys(changes)) row[name] = toStorage(module.fields[name], values[name]);
  } else {
    for (const [name, value] of Object.entries(values)) row[name] = toStorage(module.fields[name], value);
    row.id = recordId;
    if (has('date_entered')) row.date_entered = now;
    if (has('created_by')) row.created_by = userId;
    if (has('deleted')) row.deleted = 0;
  }
  const emailsChange = emails !== undefined && JSON.stringify(emails.current) !== JSON.stringify(emails.desired);
  const writing = !isUpdate || Object.keys(row).length > 0 || linkPlan.length > 0 || emailsChange;
  if (writing) {
    if (has('date_modified')) row.date_modified = now;
    if (has('modified_user_id')) row.modified_user_id = userId;
  }

  // ---------------------------------------------------------------- relationship hooks (before)
  for (const step of linkPlan) await fireRelationshipHooks(ctx, 'before', step.op, module, recordId, module.links[step.link], step.relatedId);
  return { actor, module, options, isUpdate, recordId, fetched, start, values, changes, row, linkPlan, emails: emailsChange ? emails : undefined, writing, now, userId };
}

/** The write, audit rows, relationships and after-events of a planned save, inside the caller's transaction. */
export async function writeSave(ctx: RecordContext, trx: Knex.Transaction, plan: SavePlan): Promise<void> {
  const { module, options, isUpdate, recordId, fetched, values, changes, row, linkPlan, now, userId } = plan;
  const has = (f: string) => module.columns.includes(f);
  if (!isUpdate) {
    const { own, custom } = splitRow(module, row);
    await trx(module.table).insert(own);
    await writeCustomRow(trx, module, recordId, custom, true);
  } else {
    // The row lock orders concurrent writers: each sees the one before it, so a version check
    // lets exactly one of them through and an unchecked write never fails for being concurrent.
    const locked = await ctx.db.dialect.lockForUpdate(recordRows(trx, module).where(`${module.table}.id`, recordId).first());
    if (!locked || isTruthy(locked.deleted)) throw new NotFoundError(`Could not find record: ${recordId} in module: ${module.name}`, { module: module.name, id: recordId });
    const current = rowValues(module, locked);
    checkVersion(module, recordId, current, options);
    if (current.date_modified !== fetched!.date_modified) {
      // Someone wrote in between: audit against what they left, for the fields this write sets.
      for (const name of Object.keys(changes)) delete changes[name];
      Object.assign(changes, diff(module, current, Object.fromEntries(Object.keys(row).filter((f) => f in values).map((f) => [f, values[f]]))));
    }
    if (has('date_modified')) row.date_modified = nextDateModified(ctx.clock(), current.date_modified);
    const { own, custom } = splitRow(module, row);
    if (Object.keys(own).length) await trx(module.table).where({ id: recordId }).update(own);
    await writeCustomRow(trx, module, recordId, custom, false);
  }
  if (plan.emails) await writeEmails(trx, module.name, recordId, plan.emails.current, plan.emails.desired, now);
  await writeAuditRows(trx, module, recordId, changes, userId, now);
  await applyRelateLinks(ctx, trx, module, recordId, linkPlan, now);
  await publishSave(ctx, trx, plan);
}

/** The after_save event for the outbox listeners (plugins, the phone index), inside the save's transaction. */
export async function publishSave(ctx: RecordContext, trx: Knex.Transaction, plan: SavePlan): Promise<void> {
  if (!ctx.outbox.length) return;
  const { actor, module, isUpdate, recordId, start, values, changes, row, userId } = plan;
  // What after-event listeners (plugins) see: the record as stored, who saved it, never sensitive fields.
  const stamped = Object.fromEntries(['date_entered', 'date_modified', 'created_by', 'modified_user_id'].filter((f) => f in row).map((f) => [f, row[f]]));
  const record = withoutSensitive(module, { ...start, ...values, ...stamped, id: recordId } as RecordData);
  const visibleChanges = Object.fromEntries(Object.entries(changes).filter(([f]) => !module.fields[f].sensitive));
  for (const listener of ctx.outbox) await listener(trx, { event: 'after_save', module: module.name, id: recordId, isUpdate, record, changes: visibleChanges, actorId: userId ?? undefined, ...originOf(actor) });
}

/** After the commit: the record as stored (read here unless the caller read it, with sensitive fields), relationship and after_save hooks. */
export async function finishSave(ctx: RecordContext, plan: SavePlan, stored?: RecordData): Promise<RecordData> {
  const saved = stored ?? await retrieveRecord(ctx, plan.module, plan.recordId, { includeSensitive: true }, false);
  await runAfterSaveHooks(ctx, plan, saved);
  return withoutSensitive(plan.module, saved);
}

/** The relationship hooks and the after_save hooks of a committed save; `saved` (the record as stored) may be left out only when the module has no after_save hooks. */
export async function runAfterSaveHooks(ctx: RecordContext, plan: SavePlan, saved: RecordData | undefined): Promise<void> {
  const { module, isUpdate, recordId, fetched, changes, linkPlan } = plan;
  for (const step of linkPlan) await runAfter(ctx, () => fireRelationshipHooks(ctx, 'after', step.op, module, recordId, module.links[step.link], step.relatedId));
  if (saved) await runAfter(ctx, () => ctx.hooks.run(module.name, 'after_save', makeBean(module.name, module.objectName, saved, fetched), { isUpdate, dataChanges: changes }));
}

/** Optimistic locking against the record as `current` holds it: Sugar's date_modified (409) and If-Match (412). */
function checkVersion(module: ModuleDef, id: string, current: Record<string, FieldValue>, options: SaveOptions): void {
  if (options.ifMatch !== undefined && !ifMatchAccepts(options.ifMatch, recordETag(current.date_modified))) {
    throw new PreconditionFailedError(`${module.name} ${id} is no longer at the version named by If-Match; it is now ${recordETag(current.date_modified)}`, { module: module.name, id, etag: recordETag(current.date_modified) });
  }
  if (!module.optimisticLocking || !options.expectedDateModified) return;
  const expected = normalizeInput(module.fields.date_modified, options.expectedDateModified);
  if (!expected.ok || expected.value !== current.date_modified) {
    throw new ConflictError(`${module.name} ${id} was changed by someone else at ${String(current.date_modified)} UTC`, { module: module.name, id, date_modified: current.date_modified });
  }
}

/** Stored id columns that relate fields point at another module with (assigned_user_id for assigned_user_name, …); worked out once per module. */
function storedReferences(ctx: RecordContext, module: ModuleDef): Array<{ idField: string; target: ModuleDef }> {
  const known = referencesByModule.get(module);
  if (known) return known;
  const refs: Array<{ idField: string; target: ModuleDef }> = [];
  for (const field of Object.values(module.fields)) {
    const idField = field.id_name;
    if ((field.type !== 'relate' && field.type !== 'assigned_user_name') || !idField || !field.module || !module.columns.includes(idField)) continue;
    if (!ctx.registry.modules.has(field.module) || refs.some((r) => r.idField === idField)) continue;
    refs.push({ idField, target: ctx.registry.module(field.module) });
  }
  referencesByModule.set(module, refs);
  return refs;
}

const referencesByModule = new WeakMap<ModuleDef, Array<{ idField: string; target: ModuleDef }>>();

/** A record the actor may not even view does not exist for them: 404, not 403, so nothing leaks. */
export async function requireVisible(ctx: RecordContext, actor: Actor, module: ModuleDef, record: Record<string, unknown>): Promise<void> {
  try {
    await ctx.access.check(actor, module, 'view', record);
  } catch (err) {
    if (err instanceof AccessDeniedError) throw new NotFoundError(`Could not find record: ${String(record.id)} in module: ${module.name}`, { module: module.name, id: record.id });
    throw err;
  }
}

/** after_* hooks act after the commit: what they throw is logged, never undoes the write. */
export async function runAfter(ctx: RecordContext, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    ctx.log.error({ err }, 'after hook failed');
  }
}

export function rowValues(module: ModuleDef, row: Record<string, unknown>): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const column of module.columns) values[column] = fromStorage(module.fields[column], row[column]);
  return values;
}

const sensitiveFields = perModule((module) => Object.values(module.fields).filter((f) => f.sensitive).map((f) => f.name));

export function withoutSensitive(module: ModuleDef, record: RecordData): RecordData {
  const copy = { ...record };
  for (const name of sensitiveFields(module)) delete copy[name];
  return copy;
}

function defaults(module: ModuleDef): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const column of module.columns) {
    const field = module.fields[column];
    if (field.default === undefined || SYSTEM_FIELDS.has(column) || field.auto_increment) continue;
    const normalized = normalizeInput(field, field.default);
    if (normalized.ok) values[column] = normalized.value;
  }
  return values;
}
