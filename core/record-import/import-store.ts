import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { insertRows } from '../db/insert-rows';
import type { Database } from '../db/connection';
import { NotFoundError } from '../errors';
import { formatDateTime, type Clock } from '../records/time';
import type { CsvDelimiter, CsvEncoding, CsvText } from './csv-text';
import type { ColumnMapping } from './mapping';
import type { DuplicateMode } from './duplicate-rule';

export type ImportState = 'draft' | 'queued' | 'running' | 'done' | 'cancelled' | 'failed' | 'undone';

export interface ImportOptions {
  /** Link everyone imported to this target list (ProspectLists). */
  targetListId?: string;
  /** Record SMS consent (opted in, source 'import') for the imported phone numbers. */
  smsConsent?: boolean;
  /** The file's header, kept for the refused-rows CSV once the file is gone. */
  headers?: string[];
}

export interface ImportRecord {
  id: string;
  module: string;
  userId: string | null;
  fileName: string | null;
  state: ImportState;
  csv: CsvText | undefined;
  mapping: ColumnMapping | undefined;
  duplicates: DuplicateMode;
  options: ImportOptions;
  jobId: string | null;
  cancelRequested: boolean;
  rowsDone: number;
  progress: number;
  counts: { created: number; updated: number; skipped: number; refused: number };
  message: string | null;
  dateEntered: string;
}

export interface RowOutcome {
  row: number;
  action: 'created' | 'updated' | 'refused';
  recordId?: string;
  previous?: Record<string, unknown>;
  reason?: string;
  values?: string[];
}

/** The cane_imports / cane_import_rows / cane_import_maps tables. */
export class ImportStore {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  private now() {
    return formatDateTime(this.clock());
  }

  /** `stored` is kept in the row (null: the caller keeps the file); `csv` gives its encoding and delimiter. */
  async create(module: string, userId: string | null, fileName: string | undefined, stored: CsvText | undefined, csv: CsvText): Promise<string> {
    const id = crypto.randomUUID();
    await this.db.knex('cane_imports').insert({
      id, module, user_id: userId, file_name: fileName?.slice(0, 255) ?? null, state: 'draft', content: stored?.text ?? null, encoding: csv.encoding,
      delimiter: csv.delimiter, duplicates: 'skip', cancel_requested: 0, rows_total: 0, rows_done: 0, progress: 0,
      created_count: 0, updated_count: 0, skipped_count: 0, refused_count: 0, date_entered: this.now(), date_modified: this.now(), created_ms: this.clock().getTime(),
    });
    return id;
  }

  async get(id: string): Promise<ImportRecord> {
    const r = await this.db.knex('cane_imports').where({ id }).first();
    if (!r) throw new NotFoundError(`No import ${id}`);
    return {
      id: r.id, module: r.module, userId: r.user_id, fileName: r.file_name, state: r.state,
      csv: r.content === null || r.content === undefined ? undefined : { text: r.content, encoding: r.encoding, delimiter: r.delimiter as CsvDelimiter } as CsvText & { encoding: CsvEncoding },
      mapping: r.mapping ? JSON.parse(r.mapping) : undefined,
      duplicates: r.duplicates ?? 'skip',
      options: r.options ? JSON.parse(r.options) : {},
      jobId: r.job_id, cancelRequested: r.cancel_requested === true || Number(r.cancel_requested) === 1,
      rowsDone: Number(r.rows_done ?? 0), progress: Number(r.progress ?? 0),
      counts: { created: Number(r.created_count ?? 0), updated: Number(r.updated_count ?? 0), skipped: Number(r.skipped_count ?? 0), refused: Number(r.refused_count ?? 0) },
      message: r.message ?? null, dateEntered: String(r.date_entered).slice(0, 19),
    };
  }

  async configure(id: string, settings: { mapping: ColumnMapping; duplicates: DuplicateMode; options: ImportOptions }): Promise<void> {
    await this.db.knex('cane_imports').where({ id }).update({
      mapping: JSON.stringify(settings.mapping), duplicates: settings.duplicates, options: JSON.stringify(settings.options), date_modified: this.now(),
    });
  }

  async setState(id: string, state: ImportState, extra: Record<string, unknown> = {}): Promise<void> {
    await this.db.knex('cane_imports').where({ id }).update({ state, ...extra, date_modified: this.now() });
  }

  /** Moves from one state to another only if the import is still in the first (so two runs or two undos cannot race). */
  async transition(id: string, from: ImportState[], to: ImportState, extra: Record<string, unknown> = {}): Promise<boolean> {
    return (await this.db.knex('cane_imports').where({ id }).whereIn('state', from).update({ state: to, ...extra, date_modified: this.now() })) > 0;
  }

  async progress(id: string, done: { rows: number; percent: number; created: number; updated: number; skipped: number; refused: number }, knex: Knex = this.db.knex): Promise<void> {
    await knex('cane_imports').where({ id }).update({
      rows_done: done.rows, progress: done.percent, created_count: done.created, updated_count: done.updated,
      skipped_count: done.skipped, refused_count: done.refused, date_modified: this.now(),
    });
  }

  async requestCancel(id: string): Promise<void> {
    await this.db.knex('cane_imports').where({ id }).update({ cancel_requested: 1, date_modified: this.now() });
  }

  async cancelRequested(id: string): Promise<boolean> {
    const r = await this.db.knex('cane_imports').where({ id }).first('cancel_requested');
    return r?.cancel_requested === true || Number(r?.cancel_requested) === 1;
  }

  async addRows(id: string, rows: RowOutcome[], knex: Knex = this.db.knex): Promise<void> {
    const data = rows.map((o) => ({
      import_id: id, row_number: o.row, action: o.action, record_id: o.recordId ?? null,
      previous: o.previous ? JSON.stringify(o.previous) : null, reason: o.reason ?? null, row_values: o.values ? JSON.stringify(o.values) : null,
    }));
    await insertRows(knex, 'cane_import_rows', data);
  }

  async rows(id: string, action: RowOutcome['action'], afterRow = 0, limit = 1000): Promise<Array<{ row: number; recordId: string | null; previous: Record<string, unknown> | undefined; reason: string | null; values: string[] }>> {
    const rows = await this.db.knex('cane_import_rows').where({ import_id: id, action }).andWhere('row_number', '>', afterRow).orderBy('row_number').limit(limit);
    return rows.map((r: Record<string, string | null>) => ({
      row: Number(r.row_number), recordId: r.record_id, previous: r.previous ? JSON.parse(r.previous) : undefined, reason: r.reason, values: r.row_values ? JSON.parse(r.row_values) : [],
    }));
  }

  /** The newest import of a module that wrote something and was not undone. */
  async lastUndoable(module: string): Promise<string | undefined> {
    const r = await this.db.knex('cane_imports').where({ module }).whereIn('state', ['done', 'cancelled', 'undone', 'failed']).orderBy([{ column: 'created_ms', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id', 'state');
    return r && r.state !== 'undone' ? r.id : undefined;
  }

  async savedMapping(module: string): Promise<Record<string, string>> {
    const r = await this.db.knex('cane_import_maps').where({ module }).first('mapping');
    return r?.mapping ? JSON.parse(r.mapping) : {};
  }

  async saveMapping(module: string, headers: string[], mapping: ColumnMapping): Promise<void> {
    const byHeader = Object.fromEntries(headers.map((h, i) => [h, mapping[i] ?? '']).filter(([h, f]) => h && f));
    const row = { module, mapping: JSON.stringify(byHeader), date_modified: this.now() };
    await this.db.knex('cane_import_maps').insert(row).onConflict('module').merge();
  }
}
