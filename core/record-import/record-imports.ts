import type { Engine } from '../app/engine';
import { CaneError, ValidationError } from '../errors';
import type { Actor } from '../records/actor';
import type { Knex } from 'knex';
import type { BatchFailure, PlannedWrite } from '../records/batch';
import { ConsentLedger } from '../sms/consent';
import { e164OrUndefined } from '../sms/phone';
import { readHead, readRows, type CsvText } from './csv-text';
import { rowKeys, type DuplicateMode } from './duplicate-rule';
import { findDuplicates } from './duplicate-lookup';
import { ImportStore, type ImportOptions, type ImportRecord, type RowOutcome } from './import-store';
import { checkMapping, rowValues, suggestMapping, type ColumnMapping } from './mapping';

/** Rows planned and committed together: big enough to amortise the transaction, small enough for a fine progress bar. */
const BATCH_ROWS = 500;
const PHONE_FIELDS = ['phone_mobile', 'phone_work', 'phone_office', 'phone_home', 'phone_other'];

export interface ImportSummary {
  id: string;
  state: string;
  rows: number;
  created: number;
  updated: number;
  skipped: number;
  refused: number;
  message?: string;
}

export interface PreviewRow {
  row: number;
  values: Record<string, string>;
  problems: string[];
  /** The existing record the row duplicates (skipped or updated by the mode). */
  duplicateOf?: string;
}

/**
 * Sugar's import of records from a CSV file: a draft holds the file, the mapping and the duplicate
 * mode are checked before any row is read, then rows are written in batches through
 * saveTogether (many rows per INSERT) so a refused row is reported (with its reason) and never
 * half-written while the others commit. What each row did is kept so the import can be undone.
 */
export class RecordImports {
  readonly store: ImportStore;

  constructor(private readonly engine: Engine) {
    this.store = new ImportStore(engine.db, engine.context.clock);
  }

  /** Files kept in this process instead of the database (the command line's, which may be too big for one row). */
  private readonly localFiles = new Map<string, CsvText>();

  async draft(actor: Actor, module: string, csv: CsvText, fileName?: string, options: { keepInProcess?: boolean } = {}): Promise<string> {
    this.engine.registry.module(module);
    await this.engine.context.access.check(actor, this.engine.registry.module(module), 'import');
    readHead(csv, 1);
    const id = await this.store.create(module, actor.type === 'user' ? actor.id : null, fileName, options.keepInProcess ? undefined : csv, csv);
    if (options.keepInProcess) this.localFiles.set(id, csv);
    return id;
  }

  private fileOf(imp: ImportRecord): CsvText {
    const csv = imp.csv ?? this.localFiles.get(imp.id);
    if (!csv) throw new CaneError('import_finished', `This import is ${imp.state}; its file is no longer kept`, 409);
    return csv;
  }

  async head(id: string, limit = 5): Promise<{ headers: string[]; rows: string[][]; suggested: ColumnMapping }> {
    const imp = await this.store.get(id);
    const { headers, rows } = readHead(this.fileOf(imp), limit);
    const module = this.engine.registry.module(imp.module);
    return { headers, rows, suggested: imp.mapping ?? suggestMapping(this.engine.registry, module, headers, await this.store.savedMapping(imp.module)) };
  }

  /** Checks and keeps the mapping and the mode (and remembers the mapping for the module's next import). */
  async configure(id: string, mapping: ColumnMapping, duplicates: DuplicateMode, options: ImportOptions = {}): Promise<void> {
    const imp = await this.store.get(id);
    if (imp.state !== 'draft') throw new CaneError('import_started', `This import is ${imp.state}; start a new one to change its mapping`, 409);
    const { headers } = readHead(this.fileOf(imp), 0);
    checkMapping(this.engine.registry, this.engine.registry.module(imp.module), headers, mapping, true);
    if (options.targetListId) await this.engine.records.retrieve({ type: 'system' }, 'ProspectLists', options.targetListId).catch(() => {
      throw new ValidationError(imp.module, [{ field: 'target_list', rule: 'exists', message: `there is no target list ${options.targetListId}` }]);
    });
    await this.store.configure(id, { mapping, duplicates, options: { ...options, headers } });
    await this.store.saveMapping(imp.module, headers, mapping);
  }

  /** The first rows as they would be written, each with the problems that would refuse it (nothing is written). */
  async preview(actor: Actor, id: string, limit = 10): Promise<{ headers: string[]; fields: string[]; rows: PreviewRow[] }> {
    const imp = await this.store.get(id);
    const { headers, rows } = readHead(this.fileOf(imp), limit);
    const mapping = imp.mapping ?? [];
    const fields = mapping.filter(Boolean);
    const out: PreviewRow[] = [];
    const module = this.engine.registry.module(imp.module);
    const duplicates = imp.duplicates === 'create' ? [] : await findDuplicates(this.engine.records, this.engine.db.knex, actor, module, rows.map((cells) => rowValues(mapping, cells)));
    for (const [i, cells] of rows.entries()) {
      const values = rowValues(mapping, cells);
      const problems: string[] = [];
      if (cells.length !== headers.length) problems.push(`the row has ${cells.length} values, the header ${headers.length}`);
      else {
        try {
          await this.engine.records.planSave(actor, imp.module, undefined, values);
        } catch (err) {
          problems.push(reasonOf(err));
        }
      }
      out.push({ row: i + 1, values, problems, duplicateOf: duplicates[i] });
    }
    return { headers, fields, rows: out };
  }

  /** Queues the import on the job queue; the job runs `run`. */
  async start(id: string): Promise<string> {
    const imp = await this.store.get(id);
    if (!imp.mapping) throw new CaneError('missing_parameter', 'Map the columns before starting the import', 422, { field: 'mapping' });
    const jobId = await this.engine.jobs.enqueue({ target: RECORD_IMPORT_JOB, name: `Import into ${imp.module}`, data: { importId: id }, retries: 0, id, assignedUserId: imp.userId ?? undefined });
    if (!(await this.store.transition(id, ['draft'], 'queued', { job_id: jobId }))) throw new CaneError('import_started', `This import is already ${imp.state}`, 409);
    return jobId;
  }

  async cancel(id: string): Promise<void> {
    await this.store.requestCancel(id);
    await this.store.transition(id, ['draft', 'queued'], 'cancelled', { content: null, message: 'Cancelled before it started' });
  }

  /** Reads the file and writes its rows; `onProgress` after each batch. Stops between batches when cancelled. */
  async run(actor: Actor, id: string, onProgress?: (s: ImportSummary) => void, signal?: AbortSignal): Promise<ImportSummary> {
    if (!(await this.store.transition(id, ['draft', 'queued'], 'running'))) {
      const imp = await this.store.get(id);
      throw new CaneError('import_started', `This import is ${imp.state}`, 409);
    }
    const imp = await this.store.get(id);
    try {
      const summary = await this.write(actor, imp, onProgress, signal);
      await this.store.setState(id, summary.state as 'done' | 'cancelled', { content: null, rows_total: summary.rows, message: summary.message ?? null });
      this.localFiles.delete(id);
      return summary;
    } catch (err) {
      await this.store.setState(id, 'failed', { content: null, message: reasonOf(err).slice(0, 2000) });
      throw err;
    }
  }

  private async write(actor: Actor, imp: ImportRecord, onProgress?: (s: ImportSummary) => void, signal?: AbortSignal): Promise<ImportSummary> {
    const { records, registry } = this.engine;
    const module = registry.module(imp.module);
    const csv = this.fileOf(imp);
    const mapping = imp.mapping!;
    const { headers } = readHead(csv, 0);
    checkMapping(registry, module, headers, mapping, true);
    const mode = imp.duplicates;
    const counts = { rows: 0, created: 0, updated: 0, skipped: 0, refused: 0 };
    const seen = new Map<string, string>();
    const listLink = imp.options.targetListId ? Object.entries(module.links).find(([, l]) => l.module === 'ProspectLists')?.[0] : undefined;
    const consent = imp.options.smsConsent ? new ConsentLedger(this.engine.db, this.engine.context.clock) : undefined;
    const region = (process.env.SMS_DEFAULT_REGION ?? 'US').toUpperCase();
    const total = csv.text.length || 1;
    let cancelled = false;

    type Pending = { row: number; cells: string[]; values: Record<string, string>; existing?: string; previous?: Record<string, unknown> };
    let batch: Pending[] = [];
    let consumed = 0;
    const flush = async () => {
      const planned = batch;
      const written: Array<{ id: string; values: Record<string, string> }> = [];
      // What each row did is kept in the batch's own transaction: a record is never written without the row undo needs.
      const keepOutcomes = async (trx: Knex.Transaction, { ids, failures }: { ids: Array<string | undefined>; failures: BatchFailure[] }) => {
        const outcomes: RowOutcome[] = [];
        const refused = new Map(failures.map((f) => [f.index, f.error]));
        planned.forEach((p, i) => {
          const error = refused.get(i);
          const recordId = ids[i];
          if (error || !recordId) {
            counts.refused += 1;
            outcomes.push({ row: p.row, action: 'refused', reason: error ? reasonOf(error) : 'not written', values: p.cells });
            for (const key of rowKeys(module, p.values)) if (seen.get(key) === '') seen.delete(key);
            return;
          }
          if (p.existing) counts.updated += 1;
          else counts.created += 1;
          if (mode !== 'create') for (const key of rowKeys(module, p.values)) seen.set(key, recordId);
          outcomes.push({ row: p.row, action: p.existing ? 'updated' : 'created', recordId, previous: p.previous });
          written.push({ id: recordId, values: p.values });
        });
        await this.store.addRows(imp.id, outcomes, trx);
        await this.store.progress(imp.id, { ...counts, percent: Math.min(99, Math.floor((consumed / total) * 100)) }, trx);
      };
      await records.saveTogether(actor, imp.module, planned.map((p) => ({ id: p.existing, input: p.values })), keepOutcomes);
      if (listLink) for (const w of written) await records.link(actor, imp.module, w.id, listLink, imp.options.targetListId!).catch(() => undefined);
      if (consent) {
        for (const w of written) {
          for (const f of PHONE_FIELDS) {
            const phone = w.values[f] ? e164OrUndefined(w.values[f], region) : undefined;
            if (phone) await consent.record({ phone, state: 'opted_in', source: 'import', actorId: actor.id ?? null, note: `import ${imp.id}`, reference: w.id });
          }
        }
      }
      batch = [];
      // Rows of earlier batches are in the database now, where the next batch's lookup finds them:
      // keeping their keys too would grow with the file (a million rows, gigabytes).
      seen.clear();
      onProgress?.({ id: imp.id, state: 'running', ...counts });
      if (signal?.aborted || (await this.store.cancelRequested(imp.id))) cancelled = true;
    };

    let incoming: Pending[] = [];
    // A batch's duplicates are looked up together, then its rows are planned and written together.
    const processIncoming = async () => {
      const matches = mode === 'create' ? [] : await findDuplicates(records, this.engine.db.knex, actor, module, incoming.map((p) => p.values));
      for (const [i, pending] of incoming.entries()) {
        if (mode !== 'create') {
          const keys = rowKeys(module, pending.values);
          const inFile = keys.map((k) => seen.get(k)).find((v) => v !== undefined);
          if (inFile === '') {
            counts.skipped += 1; // repeats a row of this same batch
            continue;
          }
          const existing = inFile || matches[i];
          if (existing && (mode === 'skip' || batch.some((b) => b.existing === existing))) {
            counts.skipped += 1;
            continue;
          }
          if (existing) {
            const before = await records.retrieve(actor, imp.module, existing, { fields: Object.keys(pending.values) }).catch(() => undefined);
            pending.existing = existing;
            pending.previous = before ? Object.fromEntries(Object.keys(pending.values).map((f) => [f, before[f] ?? null])) : undefined;
          } else for (const key of keys) seen.set(key, '');
        }
        batch.push(pending);
      }
      incoming = [];
      await flush();
    };

    for await (const { line, values: cells, bytes } of readRows(csv)) {
      counts.rows += 1;
      consumed = bytes;
      const row = counts.rows;
      if (cells.length !== headers.length) {
        counts.refused += 1;
        await this.store.addRows(imp.id, [{ row, action: 'refused', reason: `line ${line}: the row has ${cells.length} values, the header ${headers.length}`, values: cells }]);
        continue;
      }
      incoming.push({ row, cells, values: rowValues(mapping, cells) });
      if (incoming.length >= BATCH_ROWS) {
        await processIncoming();
        if (cancelled) break;
      }
    }
    if (!cancelled && incoming.length) await processIncoming();
    await this.store.progress(imp.id, { ...counts, percent: cancelled ? Math.floor((consumed / total) * 100) : 100 });
    const message = cancelled ? `Cancelled after ${counts.rows} rows; the rows before were imported (undo removes them)` : undefined;
    return { id: imp.id, state: cancelled ? 'cancelled' : 'done', ...counts, message };
  }

  /** Undoes an import: its created records are deleted and updated ones get back the values it replaced. Only the module's last import. */
  async undo(actor: Actor, id: string): Promise<{ deleted: number; restored: number; failed: string[] }> {
    const imp = await this.store.get(id);
    if (imp.state === 'undone') throw new CaneError('import_undone', 'This import was already undone', 409);
    if (!['done', 'cancelled', 'failed'].includes(imp.state)) throw new CaneError('import_running', `This import is ${imp.state}; cancel it and wait for it to stop before undoing it`, 409);
    if ((await this.store.lastUndoable(imp.module)) !== id) throw new CaneError('import_not_last', `Only the last import into ${imp.module} can be undone`, 409);
    const failed: string[] = [];
    let deleted = 0;
    let restored = 0;
    for (const action of ['updated', 'created'] as const) {
      let after = 0;
      for (;;) {
        const rows = await this.store.rows(id, action, after, 1000);
        if (!rows.length) break;
        after = rows[rows.length - 1].row;
        const plans = rows.map((r) => () => (action === 'created'
          ? this.engine.records.planDelete(actor, imp.module, r.recordId!)
          : this.engine.records.planSave(actor, imp.module, r.recordId!, r.previous ?? {})) as Promise<PlannedWrite<unknown>>);
        const { failures } = await this.engine.records.together(plans, 'each');
        for (const f of failures) failed.push(`row ${rows[f.index].row}: ${reasonOf(f.error)}`);
        if (action === 'created') deleted += rows.length - failures.length;
        else restored += rows.length - failures.length;
      }
    }
    await this.store.setState(id, 'undone', { message: `Undone: ${deleted} created records deleted, ${restored} updated records restored${failed.length ? `, ${failed.length} could not be` : ''}` });
    return { deleted, restored, failed };
  }

  /** The refused rows as CSV: the file's header and cells, then the row number and the reason. */
  async refusedCsv(id: string): Promise<string> {
    const { stringify } = await import('csv-stringify/sync');
    const headers = await this.headersOf(id);
    const lines: string[][] = [[...headers, 'Import row', 'Reason refused']];
    let after = 0;
    for (;;) {
      const rows = await this.store.rows(id, 'refused', after, 1000);
      if (!rows.length) break;
      after = rows[rows.length - 1].row;
      for (const r of rows) lines.push([...headers.map((_, i) => r.values[i] ?? ''), String(r.row), r.reason ?? '']);
    }
    return stringify(lines);
  }

  private async headersOf(id: string): Promise<string[]> {
    const r = await this.engine.db.knex('cane_imports').where({ id }).first('options');
    const options = r?.options ? JSON.parse(r.options) : {};
    return Array.isArray(options.headers) ? options.headers : [];
  }
}

export const RECORD_IMPORT_JOB = 'recordImport';

/** A refusal as one line naming the field, the rule and the problem. */
export function reasonOf(err: unknown): string {
  if (err instanceof ValidationError) return err.problems.map((p) => `${p.field}: ${p.message} (${p.rule})`).join('; ');
  if (err instanceof Error) return err.message;
  return String(err);
}
