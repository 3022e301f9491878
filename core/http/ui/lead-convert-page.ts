import type Router from '@koa/router';
import type { Context } from 'koa';
import { CaneError, ValidationError } from '../../errors';
import { cellLabel, cellName } from '../../metadata/layout-cells';
import type { ConvertDef, PanelLayout } from '../../metadata/types';
import { LeadConversion } from '../../records/lead-conversion';
import type { RecordData } from '../../records/read';
import { fieldView, type FieldView } from '../../views/field-view';
import { FormData, readFormData } from './forms';
import { editableFields, readRecordForm } from './record-pages';
import type { Ui } from './ui-context';

type Action = 'create' | 'existing' | 'skip';

interface Choice {
  action: Action;
  existingId?: string;
}

/**
 * The lead's Convert page (SuiteCRM's ConvertLead view): one section per module of the lead's
 * convertdefs — create it from the lead's fields (editable here), use an existing record (the
 * duplicates found are offered), or leave it out when it is optional — and whether the lead's
 * activities move to the new contact. Converting lands on the contact; refusals come back beside
 * the fields, with nothing written.
 */
export function leadConvertPage(router: Router, ui: Ui): void {
  const { engine } = ui.services;
  const conversion = () => new LeadConversion(engine.context, engine.records);
  const prefixOf = (module: string) => `${module}.`;

  async function render(ctx: Context, leadId: string, state: { values?: Record<string, Record<string, unknown>>; choices?: Record<string, Choice>; errors?: Record<string, Record<string, string>>; message?: string; transfer?: boolean; status?: number } = {}) {
    const actor = ui.actor(ctx);
    const proposal = await conversion().proposal(actor, leadId);
    const prefs = await ui.preferences(actor.id!);
    const base = ui.base(ctx);
    const lead = proposal.lead;
    const sections = proposal.modules.map(({ module: name, def, values, duplicates }) => {
      const module = engine.registry.module(name);
      const fctx = { registry: engine.registry, module, timeZone: prefs.timeZone, base };
      const record = { ...values, ...(state.values?.[name] ?? {}) };
      const errors = state.errors?.[name] ?? {};
      const choice = state.choices?.[name] ?? { action: defaultAction(def, values) };
      return {
        module: name,
        label: ui.singular(name),
        required: def.required === true,
        create: choice.action === 'create',
        existing: choice.action === 'existing',
        skip: choice.action === 'skip',
        duplicates: duplicates.map((d) => ({ id: d.id, name: String(d.name ?? d.id), selected: d.id === choice.existingId })),
        error: errors[''],
        panels: panels(fctx, def, record, errors, prefixOf(name)),
      };
    });
    const problems = Object.entries(state.errors ?? {}).flatMap(([module, byField]) => Object.entries(byField).map(([field, message]) => ({
      anchor: field ? `f-${prefixOf(module)}${field}` : `convert-${module}`, label: field ? `${ui.singular(module)}: ${ui.fieldLabel(module, field)}` : ui.singular(module), message,
    })));
    await ui.render(ctx, 'convert', {
      title: `Convert Lead: ${String(lead.name ?? lead.id)}`,
      moduleName: 'Leads',
      action: `${base}/Leads/${encodeURIComponent(leadId)}/convert`,
      cancelHref: `${base}/Leads/${encodeURIComponent(leadId)}`,
      sections,
      transfer: state.transfer ?? true,
      message: state.message,
      problems,
    }, state.status ?? 200);
  }

  router.get('/Leads/:id/convert', async (ctx) => {
    const lead = await engine.records.retrieve(ui.actor(ctx), 'Leads', ctx.params.id);
    if (isConverted(lead)) return alreadyConverted(ctx, lead);
    await render(ctx, ctx.params.id);
  });

  router.post('/Leads/:id/convert', async (ctx) => {
    const form = await readFormData(ctx, ui.services.bodyLimit);
    const leadId = ctx.params.id;
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return ui.render(ctx, 'error', { title: 'Refused', message: 'The form had no valid security token; nothing was changed. Reload the page and try again.' }, 403);
    const leads = engine.registry.module('Leads');
    const prefs = await ui.preferences(ui.actor(ctx).id!);
    const modules: Record<string, Record<string, unknown>> = {};
    const values: Record<string, Record<string, unknown>> = {};
    const choices: Record<string, Choice> = {};
    const errors: Record<string, Record<string, string>> = {};
    for (const [name, def] of conversion().defs(leads)) {
      const module = engine.registry.module(name);
      const action = (['create', 'existing', 'skip'] as const).find((a) => a === form.get(`${prefixOf(name)}action`)) ?? 'skip';
      const existingId = form.get(`${prefixOf(name)}existing_id`) || undefined;
      choices[name] = { action, existingId };
      const own = onlyPrefixed(form, prefixOf(name));
      const { input, unknown } = readRecordForm(module, editableFields(module, def as unknown as PanelLayout), own, prefs.timeZone);
      values[name] = input;
      if (unknown.length) (errors[name] ??= {})[''] = `The form had fields that are not on it (${unknown.join(', ')}).`;
      if (action === 'create') modules[name] = input;
      else if (action === 'existing') {
        if (existingId) modules[name] = { id: existingId };
        else (errors[name] ??= {})[''] = `Choose the ${ui.singular(name)} to use, or create a new one.`;
      }
    }
    const transfer = form.get('transfer_activities') === '1';
    if (Object.keys(errors).length) return render(ctx, leadId, { values, choices, errors, transfer, status: 422 });
    try {
      const converted = await conversion().convert(ui.actor(ctx), leadId, { modules, transfer_activities: transfer });
      const contact = converted.find((c) => c.module === 'Contacts');
      const summary = converted.map((c) => `${ui.singular(c.module)} ${c.created ? 'created' : 'linked'}: ${String(c.record.name ?? c.record.id)}`).join('; ');
      const target = contact ? `${ui.base(ctx)}/Contacts/${encodeURIComponent(contact.record.id)}` : `${ui.base(ctx)}/Leads/${encodeURIComponent(leadId)}`;
      ctx.redirect(`${target}?notice=${encodeURIComponent(`Lead converted. ${summary}.`)}`);
    } catch (err) {
      if (err instanceof ValidationError) {
        for (const p of err.problems) {
          const [, module, ...rest] = p.field.split('.');
          const field = rest.join('.');
          if (module && engine.registry.modules.has(module)) (errors[module] ??= {})[field === 'id' ? '' : field] = p.message;
          else (errors.Contacts ??= {})[''] = p.message;
        }
        return render(ctx, leadId, { values, choices, errors, transfer, status: 422 });
      }
      if (err instanceof CaneError && err.code === 'lead_converted') {
        return alreadyConverted(ctx, await engine.records.retrieve(ui.actor(ctx), 'Leads', leadId));
      }
      if (err instanceof CaneError && err.status === 409) {
        return render(ctx, leadId, { values, choices, transfer, message: 'The lead was changed by someone else meanwhile; check the fields and convert again.', status: 409 });
      }
      throw err;
    }
  });

  async function alreadyConverted(ctx: Context, lead: RecordData) {
    const base = ui.base(ctx);
    const contactHref = lead.contact_id ? `${base}/Contacts/${encodeURIComponent(String(lead.contact_id))}` : undefined;
    await ui.render(ctx, 'error', {
      title: 'Already converted',
      message: `${String(lead.name ?? lead.id)} was already converted; a lead converts once.`,
      links: [
        ...(contactHref ? [{ href: contactHref, label: 'Open the contact' }] : []),
        { href: `${base}/Leads/${encodeURIComponent(lead.id)}`, label: 'Back to the lead' },
      ],
    }, 409);
  }
}

function isConverted(lead: RecordData): boolean {
  return lead.converted === true || lead.converted === 1 || lead.converted === '1';
}

/** Optional modules start out created only when the lead has something for them (Sugar: the account from the lead's company). */
function defaultAction(def: ConvertDef, values: Record<string, unknown>): Action {
  if (def.required) return 'create';
  const named = typeof values.name === 'string' && values.name.trim() !== '';
  return def.default_action === 'select' ? 'skip' : named ? 'create' : 'skip';
}

/** The page's own inputs of a section, beside the module's fields. */
const SECTION_INPUTS = new Set(['action', 'existing_id']);

/** A module's fields of the form, their names without the module's prefix. */
function onlyPrefixed(form: FormData, prefix: string): FormData {
  const params = new URLSearchParams();
  for (const name of form.names()) {
    const own = name.slice(prefix.length);
    if (name.startsWith(prefix) && !SECTION_INPUTS.has(own)) for (const value of form.all(name)) params.append(own, value);
  }
  return new FormData(params);
}

/** The conversion layout's panels as edit cells whose inputs carry the module's prefix. */
function panels(fctx: Parameters<typeof fieldView>[0], def: ConvertDef, record: Record<string, unknown>, errors: Record<string, string>, prefix: string) {
  return Object.entries(def.panels).map(([key, rows]) => ({
    key,
    rows: rows.map((row) => ({
      cells: row.filter((c) => cellName(c as never) && fctx.module.fields[cellName(c as never)!]).map((cell) => {
        const name = cellName(cell as never)!;
        const view: FieldView = fieldView(fctx, name, record, { label: cellLabel(cell as never), error: errors[name] });
        return { ...view, name: `${prefix}${view.name}`, idName: view.idName ? `${prefix}${view.idName}` : undefined, mode: 'edit', span: row.length === 1 };
      }),
    })).filter((r) => r.cells.length),
  }));
}
