import type { Actor } from './actor';
import type { RecordContext } from './context';
import { relatedNamesFor, type ReadOptions, type RecordData } from './read';
import { planSave, saveRecord, type SaveOptions } from './save';
import { writeTogether, type PlannedWrite } from './batch';
import { saveTogether, type SaveEntry } from './save-together';
import { deleteRecord, planDelete, restoreRecord } from './delete';
import { countRecords, countRelatedRecords, listRecords, listRelatedRecords, retrieveFor, retrieveManyFor, type ListOptions, type ListResult } from './queries';
import { linkRecords, unlinkRecords } from './link';
import type { Filter } from '../query/filter-to-knex';
import { assertAppendAllowed } from './append-only';

export interface AuditEntry {
  id: string;
  parent_id: string;
  date_created: string;
  created_by: string | null;
  field_name: string;
  data_type: string;
  before_value: string | null;
  after_value: string | null;
}

/**
 * The one record API every transport uses (REST v10, v4_1, the UI, plugins). Each verb is one
 * linear operation in its own file; this class only names them.
 */
export class RecordService {
  constructor(private readonly ctx: RecordContext) {}

  async create(actor: Actor, module: string, data: Record<string, unknown>, options: Pick<SaveOptions, 'systemFields'> = {}): Promise<RecordData> {
    const def = this.ctx.registry.module(module);
    assertAppendAllowed(def, actor, 'create');
    return relatedNamesFor(this.ctx, actor, def, await saveRecord(this.ctx, actor, def, undefined, data, options));
  }

  async update(actor: Actor, module: string, id: string, data: Record<string, unknown>, options: SaveOptions = {}): Promise<RecordData> {
    const def = this.ctx.registry.module(module);
    assertAppendAllowed(def, actor, 'update');
    return relatedNamesFor(this.ctx, actor, def, await saveRecord(this.ctx, actor, def, id, data, options));
  }

  retrieve(actor: Actor, module: string, id: string, options: ReadOptions & { deleted?: boolean } = {}): Promise<RecordData> {
    return retrieveFor(this.ctx, actor, this.ctx.registry.module(module), id, options);
  }

  /** Many records by id at once, each as retrieve() would answer it: see retrieveManyFor (keys are the ids in lower case). */
  retrieveMany(actor: Actor, module: string, ids: readonly string[], options: ReadOptions = {}): Promise<Map<string, RecordData>> {
    return retrieveManyFor(this.ctx, actor, this.ctx.registry.module(module), ids, options);
  }

  /** A create (no id) or update as one write of a batch: see `together`. */
  async planSave(actor: Actor, module: string, id: string | undefined, data: Record<string, unknown>, options: SaveOptions = {}): Promise<PlannedWrite<RecordData>> {
    const def = this.ctx.registry.module(module);
    assertAppendAllowed(def, actor, id === undefined ? 'create' : 'update');
    return planSave(this.ctx, actor, def, id, data, options);
  }

  /** Creates and updates of one module's records, set-based where it can be: see saveTogether. */
  saveTogether(actor: Actor, module: string, entries: SaveEntry[], beforeCommit?: Parameters<typeof saveTogether>[4], options: Pick<SaveOptions, 'systemFields'> = {}) {
    return saveTogether(this.ctx, actor, this.ctx.registry.module(module), entries, beforeCommit, options);
  }

  async planDelete(actor: Actor, module: string, id: string): Promise<PlannedWrite<void>> {
    const def = this.ctx.registry.module(module);
    assertAppendAllowed(def, actor, 'delete');
    return planDelete(this.ctx, actor, def, id);
  }

  /** Planned writes committed in one transaction (mass update, mass delete, set_entries): see writeTogether. */
  together<T>(plans: Array<() => Promise<PlannedWrite<T>>>, mode: 'all' | 'each') {
    return writeTogether(this.ctx, plans, mode);
  }

  async delete(actor: Actor, module: string, id: string): Promise<void> {
    assertAppendAllowed(this.ctx.registry.module(module), actor, 'delete');
    return deleteRecord(this.ctx, actor, this.ctx.registry.module(module), id);
  }

  async restore(actor: Actor, module: string, id: string): Promise<RecordData> {
    const def = this.ctx.registry.module(module);
    assertAppendAllowed(def, actor, 'restore');
    return relatedNamesFor(this.ctx, actor, def, await restoreRecord(this.ctx, actor, def, id));
  }

  list(actor: Actor, module: string, options: ListOptions = {}): Promise<ListResult> {
    return listRecords(this.ctx, actor, this.ctx.registry.module(module), options);
  }

  count(actor: Actor, module: string, options: { filter?: Filter; deleted?: boolean } = {}): Promise<number> {
    return countRecords(this.ctx, actor, this.ctx.registry.module(module), options);
  }

  async link(actor: Actor, module: string, id: string, link: string, relatedId: string, relationshipFields: Record<string, unknown> = {}): Promise<void> {
    this.assertLinkable(actor, module, link);
    return linkRecords(this.ctx, actor, this.ctx.registry.module(module), id, link, relatedId, relationshipFields);
  }

  async unlink(actor: Actor, module: string, id: string, link: string, relatedId: string): Promise<void> {
    this.assertLinkable(actor, module, link);
    return unlinkRecords(this.ctx, actor, this.ctx.registry.module(module), id, link, relatedId);
  }

  private assertLinkable(actor: Actor, module: string, link: string) {
    const def = this.ctx.registry.module(module);
    assertAppendAllowed(def, actor, 'link');
    const other = Object.hasOwn(def.links, link) ? def.links[link].module : undefined;
    if (other && this.ctx.registry.modules.has(other)) assertAppendAllowed(this.ctx.registry.module(other), actor, 'link');
  }

  listRelated(actor: Actor, module: string, id: string, link: string, options: ListOptions = {}): Promise<ListResult> {
    return listRelatedRecords(this.ctx, actor, this.ctx.registry.module(module), id, link, options);
  }

  countRelated(actor: Actor, module: string, id: string, link: string, options: { filter?: Filter } = {}): Promise<number> {
    return countRelatedRecords(this.ctx, actor, this.ctx.registry.module(module), id, link, options);
  }

  /** The change log of a record (its <table>_audit rows), newest first. */
  async auditLog(actor: Actor, module: string, id: string): Promise<AuditEntry[]> {
    const def = this.ctx.registry.module(module);
    await retrieveFor(this.ctx, actor, def, id, { fields: ['id'] });
    if (!def.audited) return [];
    const rows = await this.ctx.db.knex(`${def.table}_audit`).where('parent_id', id).orderBy([{ column: 'date_created', order: 'desc' }, { column: 'field_name' }]);
    return rows.map((r: Record<string, string | null>) => ({
      id: r.id!,
      parent_id: r.parent_id!,
      date_created: String(r.date_created).slice(0, 19),
      created_by: r.created_by,
      field_name: r.field_name!,
      data_type: r.data_type!,
      before_value: r.before_value_text ?? r.before_value_string,
      after_value: r.after_value_text ?? r.after_value_string,
    }));
  }
}
