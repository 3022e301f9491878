import type Router from '@koa/router';
import type { Context } from 'koa';
import { CaneError, NotFoundError, ValidationError } from '../../errors';
import type { ModuleDef } from '../../metadata/registry';
import { csvFromText, decodeCsv, type CsvText } from '../../record-import/csv-text';
import { DUPLICATE_MODES, type DuplicateMode } from '../../record-import/duplicate-rule';
import type { ImportRecord } from '../../record-import/import-store';
import { registerRecordImportJob } from '../../record-import/import-job';
import { importableFields } from '../../record-import/mapping';
import { RecordImports } from '../../record-import/record-imports';
import { readFormData } from './forms';
import type { Ui } from './ui-context';

/** Largest file the upload page takes (base64 in a urlencoded form, so about 4/3 of the file). */
const UPLOAD_LIMIT = 40 * 1024 * 1024;
const MODE_LABELS: Record<DuplicateMode, string> = {
  skip: 'Skip duplicates: rows that match an existing record are left out',
  update: 'Update existing: rows that match an existing record update it',
  create: 'Create only: every row becomes a new record, duplicates or not',
};

/**
 * Sugar's import wizard under /ui/<Module>/import: upload or paste a CSV, map its columns (with
 * suggestions), choose what happens to duplicates, preview the first rows with the problems that
 * would refuse them, run it as a job with a progress bar, then the counts, the refused rows as a
 * CSV download and undo.
 */
export function importPage(router: Router, ui: Ui): void {
  const { engine } = ui.services;
  registerRecordImportJob(engine);
  const imports = new RecordImports(engine);
  const href = (ctx: Context, module: string, id?: string, step = '') => `${ui.base(ctx)}/${module}/import${id ? `/${encodeURIComponent(id)}` : ''}${step ? `/${step}` : ''}`;
  const listLink = (ctx: Context, module: ModuleDef) => ({ href: `${ui.base(ctx)}/${module.name}`, label: `Back to ${ui.moduleLabel(module.name)}` });
  const script = (ctx: Context) => `${ui.base(ctx)}/assets/default/record-import.js`;

  async function allowed(ctx: Context): Promise<ModuleDef> {
    const module = ui.module(ctx.params.module);
    await engine.context.access.check(ui.actor(ctx), module, 'import');
    return module;
  }

  async function owned(ctx: Context, module: ModuleDef): Promise<ImportRecord> {
    const imp = await imports.store.get(ctx.params.id);
    if (imp.module !== module.name) throw new NotFoundError(`No import ${ctx.params.id} into ${module.name}`);
    return imp;
  }

  async function form(ctx: Context, limit = ui.services.bodyLimit) {
    const data = await readFormData(ctx, limit);
    if (!ui.sessions.checkCsrf(ctx, data.get('csrf'))) throw new CaneError('invalid_csrf', 'The form had no valid security token; nothing was changed. Reload the page and try again.', 403);
    return data;
  }

  async function renderUpload(ctx: Context, module: ModuleDef, problem?: string, status = 200) {
    const last = await imports.store.lastUndoable(module.name);
    await ui.render(ctx, 'import', {
      title: `Import ${ui.moduleLabel(module.name)}`, moduleName: module.name, action: href(ctx, module.name), problem,
      lastHref: last ? href(ctx, module.name, last) : undefined, back: listLink(ctx, module), importScript: script(ctx),
      fields: importableFields(engine.registry, module).filter((f) => f.required).map((f) => f.label),
    }, status);
  }

  router.get('/:module/import', async (ctx) => renderUpload(ctx, await allowed(ctx)));

  router.post('/:module/import', async (ctx) => {
    const module = await allowed(ctx);
    let data;
    try {
      data = await form(ctx, UPLOAD_LIMIT);
    } catch (err) {
      if (err instanceof CaneError && err.status === 413) return renderUpload(ctx, module, `The file is larger than the ${Math.floor((UPLOAD_LIMIT * 3) / 4 / 1024 / 1024)} MB this page takes; nothing was imported. Split it, or import it with \`cane import ${module.name} <file.csv>\`, which has no limit.`, 413);
      throw err;
    }
    let csv: CsvText | undefined;
    const b64 = data.get('file_data');
    if (b64) csv = decodeCsv(Buffer.from(b64, 'base64'));
    else if (data.get('text')?.trim()) csv = csvFromText(data.get('text')!);
    if (!csv) return renderUpload(ctx, module, 'Choose a CSV file or paste its text.', 422);
    try {
      const id = await imports.draft(ui.actor(ctx), module.name, csv, data.get('file_name') || 'pasted text');
      ctx.redirect(href(ctx, module.name, id, 'map'));
    } catch (err) {
      if (err instanceof CaneError && err.status < 500 && err.status !== 403) return renderUpload(ctx, module, err.message, 422);
      throw err;
    }
  });

  async function renderMap(ctx: Context, module: ModuleDef, imp: ImportRecord, state: { mapping?: string[]; duplicates?: DuplicateMode; targetListId?: string; smsConsent?: boolean; problems?: string[] } = {}, status = 200) {
    if (imp.state !== 'draft') return ctx.redirect(href(ctx, module.name, imp.id));
    const { headers, rows, suggested } = await imports.head(imp.id, 3);
    const mapping = state.mapping ?? suggested;
    const fields = importableFields(engine.registry, module);
    const duplicates = state.duplicates ?? imp.duplicates;
    const lists = await engine.db.knex('prospect_lists').where({ deleted: 0 }).orderBy('name').limit(200).select('id', 'name');
    const canList = Object.values(module.links).some((l) => l.module === 'ProspectLists');
    await ui.render(ctx, 'import-map', {
      title: `Import ${ui.moduleLabel(module.name)}: map the columns`, moduleName: module.name, action: href(ctx, module.name, imp.id, 'map'),
      fileName: imp.fileName, encoding: imp.csv?.encoding, delimiter: imp.csv?.delimiter === '\t' ? 'tab' : imp.csv?.delimiter,
      problems: state.problems,
      columns: headers.map((header, i) => ({
        index: i, header: header || `Column ${i + 1}`, samples: rows.map((r) => r[i] ?? '').filter(Boolean).slice(0, 3).join(' · '),
        options: fields.map((f) => ({ name: f.name, label: `${f.label}${f.required ? ' *' : ''}`, selected: mapping[i] === f.name })),
        none: !mapping[i],
      })),
      modes: DUPLICATE_MODES.map((m) => ({ value: m, label: MODE_LABELS[m], checked: m === duplicates })),
      lists: canList ? lists.map((l: { id: string; name: string }) => ({ id: l.id, name: l.name, selected: l.id === state.targetListId })) : [],
      phones: ['phone_mobile', 'phone_work', 'phone_office'].some((f) => module.fields[f]),
      smsConsent: state.smsConsent ?? false,
      back: listLink(ctx, module), cancelHref: href(ctx, module.name, imp.id, 'cancel'), importScript: script(ctx),
    }, status);
  }

  router.get('/:module/import/:id/map', async (ctx) => {
    const module = await allowed(ctx);
    await renderMap(ctx, module, await owned(ctx, module));
  });

  router.post('/:module/import/:id/map', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    const data = await form(ctx);
    const { headers } = await imports.head(imp.id, 0);
    const mapping = headers.map((_, i) => data.get(`column_${i}`) ?? '');
    const duplicates = DUPLICATE_MODES.find((m) => m === data.get('duplicates')) ?? 'skip';
    const targetListId = data.get('target_list') || undefined;
    const smsConsent = data.get('sms_consent') === '1';
    try {
      await imports.configure(imp.id, mapping, duplicates, { targetListId, smsConsent });
    } catch (err) {
      if (err instanceof ValidationError) return renderMap(ctx, module, imp, { mapping, duplicates, targetListId, smsConsent, problems: err.problems.map((p) => p.message) }, 422);
      if (err instanceof CaneError && err.status < 500) return renderMap(ctx, module, imp, { mapping, duplicates, targetListId, smsConsent, problems: [err.message] }, err.status);
      throw err;
    }
    ctx.redirect(href(ctx, module.name, imp.id, 'preview'));
  });

  router.get('/:module/import/:id/preview', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    if (imp.state !== 'draft') return ctx.redirect(href(ctx, module.name, imp.id));
    if (!imp.mapping) return ctx.redirect(href(ctx, module.name, imp.id, 'map'));
    const preview = await imports.preview(ui.actor(ctx), imp.id, 10);
    await ui.render(ctx, 'import-preview', {
      title: `Import ${ui.moduleLabel(module.name)}: preview`, moduleName: module.name,
      fields: preview.fields.map((f) => ui.fieldLabel(module.name, f)),
      rows: preview.rows.map((r) => ({
        row: r.row, cells: preview.fields.map((f) => r.values[f] ?? ''), problems: r.problems, ok: !r.problems.length,
        duplicate: r.duplicateOf ? { href: `${ui.base(ctx)}/${module.name}/${encodeURIComponent(r.duplicateOf)}`, action: imp.duplicates === 'update' ? 'updates' : 'skipped: duplicate of' } : undefined,
      })),
      failing: preview.rows.filter((r) => r.problems.length).length,
      mode: MODE_LABELS[imp.duplicates], runAction: href(ctx, module.name, imp.id, 'run'), mapHref: href(ctx, module.name, imp.id, 'map'),
      cancelAction: href(ctx, module.name, imp.id, 'cancel'), back: listLink(ctx, module),
    });
  });

  router.post('/:module/import/:id/run', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    await form(ctx);
    if (imp.state === 'draft') await imports.start(imp.id);
    ctx.redirect(href(ctx, module.name, imp.id));
  });

  router.post('/:module/import/:id/cancel', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    await form(ctx);
    await imports.cancel(imp.id);
    ctx.redirect(href(ctx, module.name, imp.id));
  });

  router.post('/:module/import/:id/undo', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    await form(ctx);
    const result = await imports.undo(ui.actor(ctx), imp.id);
    ctx.redirect(`${href(ctx, module.name, imp.id)}?notice=${encodeURIComponent(`Import undone: ${result.deleted} created records deleted, ${result.restored} updated records restored${result.failed.length ? `; ${result.failed.length} could not be: ${result.failed.slice(0, 3).join('; ')}` : ''}.`)}`);
  });

  router.get('/:module/import/:id/refused.csv', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="${module.name}-import-refused.csv"`);
    ctx.body = `\uFEFF${await imports.refusedCsv(imp.id)}`;
  });

  router.get('/:module/import/:id/status', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    ctx.body = { state: imp.state, progress: imp.progress, rows: imp.rowsDone, ...imp.counts, message: imp.message };
  });

  router.get('/:module/import/:id', async (ctx) => {
    const module = await allowed(ctx);
    const imp = await owned(ctx, module);
    const running = imp.state === 'queued' || imp.state === 'running';
    const finished = ['done', 'cancelled', 'failed'].includes(imp.state);
    const job = running && imp.jobId ? await engine.db.knex(engine.jobs.table).where({ id: imp.jobId }).first('status', 'resolution', 'message') : undefined;
    const jobFailed = job?.status === 'done' && job.resolution === 'failure';
    if (imp.state === 'draft') return ctx.redirect(href(ctx, module.name, imp.id, imp.mapping ? 'preview' : 'map'));
    await ui.render(ctx, 'import-status', {
      title: `Import ${ui.moduleLabel(module.name)}: ${running ? (jobFailed ? 'failed' : 'running') : imp.state}`, moduleName: module.name,
      state: imp.state, running: running && !jobFailed, finished, progress: imp.state === 'done' ? 100 : imp.progress, rows: imp.rowsDone,
      counts: imp.counts, message: jobFailed ? `The import job failed: ${String(job?.message ?? '').split('\n').pop()}` : imp.message,
      notice: typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 300) : undefined,
      statusUrl: href(ctx, module.name, imp.id, 'status'),
      cancelAction: running ? href(ctx, module.name, imp.id, 'cancel') : undefined,
      refusedHref: imp.counts.refused ? href(ctx, module.name, imp.id, 'refused.csv') : undefined,
      refused: imp.counts.refused ? (await imports.store.rows(imp.id, 'refused', 0, 20)).map((r) => ({ row: r.row, reason: r.reason })) : [],
      moreRefused: imp.counts.refused > 20 ? imp.counts.refused - 20 : 0,
      undoAction: finished && (await imports.store.lastUndoable(module.name)) === imp.id && (imp.counts.created || imp.counts.updated) ? href(ctx, module.name, imp.id, 'undo') : undefined,
      againHref: href(ctx, module.name), back: listLink(ctx, module), importScript: script(ctx),
    });
  });
}

