import crypto from 'node:crypto';
import Ajv, { type ValidateFunction } from 'ajv';
import type { Knex } from 'knex';
import { CaneError, NotFoundError, ValidationError } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import type { ConvertDef } from '../metadata/types';
import type { Actor } from './actor';
import type { PlannedWrite } from './batch';
import { emit, type RecordContext } from './context';
import { duplicateFilter } from './duplicates';
import { fireRelationshipHooks, applyRelateLinks } from './link';
import { relatedIds } from './relationships';
import type { RecordService } from './record-service';
import { formatDateTime } from './time';
import type { RecordData } from './read';

/** Fields never copied from a lead: identity, bookkeeping and the lead's own conversion state. */
const NOT_COPIED = new Set(['id', 'date_entered', 'date_modified', 'created_by', 'modified_user_id', 'deleted', 'converted', 'status', 'status_description', 'account_id', 'contact_id', 'opportunity_id']);
/** Activities that follow the lead to its contact when transfer_activities is asked for (SuiteCRM's "move"). */
const ACTIVITY_MODULES = ['Calls', 'Meetings', 'Tasks', 'Notes'];

export interface ConvertInput {
  /** By module: the record to create (fields over those copied from the lead), or `{id}` of an existing one to use. */
  modules: Record<string, Record<string, unknown>>;
  transfer_activities?: boolean;
}

export interface ConvertedRecord {
  module: string;
  record: RecordData;
  created: boolean;
}

let compiledInput: ValidateFunction | undefined;
/** The body's shape, compiled on the first conversion (not at start). */
const validateInput = () => (compiledInput ??= new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['modules'],
  additionalProperties: false,
  properties: {
    modules: { type: 'object', minProperties: 1, additionalProperties: { type: 'object' } },
    transfer_activities: { type: 'boolean' },
  },
}));

/**
 * Sugar's lead conversion (LeadConvertApi / SuiteCRM's ConvertLead view): the modules of the lead's
 * convertdefs are created from the lead's fields (or chosen among existing records), linked to each
 * other and to the lead, and the lead becomes Converted — all in one transaction, after hooks and a
 * `lead.convert` event once it committed. A lead converts once: a second conversion is a 409.
 */
export class LeadConversion {
  constructor(private readonly ctx: RecordContext, private readonly records: RecordService) {}

  /** The conversion layout of a module (Leads), by target module. */
  defs(module: ModuleDef): Array<[string, ConvertDef]> {
    return Object.entries(module.views.convert ?? {}).map(([target, v]) => [target, (v as { ConvertLead: ConvertDef }).ConvertLead]);
  }

  /** What the lead gives each target module: its same-named fields (copyData) and the layout's field_map. */
  async proposal(actor: Actor, leadId: string): Promise<{ lead: RecordData; modules: Array<{ module: string; def: ConvertDef; values: Record<string, unknown>; duplicates: RecordData[] }> }> {
    const leads = this.ctx.registry.module('Leads');
    const lead = await this.records.retrieve(actor, 'Leads', leadId);
    const modules = [];
    for (const [target, def] of this.defs(leads)) {
      const values = this.copied(leads, this.ctx.registry.module(target), def, lead);
      const filter = duplicateFilter(this.ctx.registry.module(target), values);
      const duplicates = filter ? (await this.records.list(actor, target, { filter, maxNum: 5, fields: ['id', 'name'] }).catch(() => ({ records: [] as RecordData[] }))).records : [];
      modules.push({ module: target, def, values, duplicates });
    }
    return { lead, modules };
  }

  async convert(actor: Actor, leadId: string, input: unknown): Promise<ConvertedRecord[]> {
    const validate = validateInput();
    if (!validate(input)) {
      const e = validate.errors![0];
      const field = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : (e.params as { missingProperty?: string }).missingProperty ?? 'body';
      throw new ValidationError('Leads', [{ field, rule: e.keyword, message: e.message ?? 'is not valid' }]);
    }
    const { modules: wanted, transfer_activities: transfer } = input as ConvertInput;
    const leads = this.ctx.registry.module('Leads');
    const lead = await this.records.retrieve(actor, 'Leads', leadId);
    if (lead.converted === true || lead.converted === 1 || lead.converted === '1') {
      throw new CaneError('lead_converted', `Lead ${leadId} is already converted${lead.contact_id ? ` (contact ${String(lead.contact_id)})` : ''}`, 409, { contact_id: lead.contact_id ?? null });
    }
    const defs = new Map(this.defs(leads));
    const problems = [
      ...Object.keys(wanted).filter((m) => !defs.has(m)).map((m) => ({ field: `modules.${m}`, rule: 'module', message: `a lead converts into ${[...defs.keys()].join(', ')}, not ${m}` })),
      ...[...defs].filter(([m, def]) => def.required && !wanted[m]).map(([m]) => ({ field: `modules.${m}`, rule: 'required', message: `a converted lead needs a ${m} record (new fields or the id of an existing one)` })),
    ];
    if (problems.length) throw new ValidationError('Leads', problems);

    // Each module's record: an existing one chosen by id, or a new one from the lead's fields.
    const chosen = new Map<string, { id: string; created: boolean }>();
    const plans: Array<() => Promise<PlannedWrite<unknown>>> = [];
    for (const [target, def] of defs) {
      const data = wanted[target];
      if (!data) continue;
      const module = this.ctx.registry.module(target);
      if (typeof data.id === 'string' && data.id && Object.keys(data).length === 1) {
        await this.records.retrieve(actor, target, data.id).catch((err) => {
          if (err instanceof NotFoundError) throw new ValidationError('Leads', [{ field: `modules.${target}.id`, rule: 'exists', message: `no ${target} record has id ${data.id} (or you may not view it)` }]);
          throw err;
        });
        chosen.set(target, { id: data.id, created: false });
        continue;
      }
      const id = crypto.randomUUID();
      chosen.set(target, { id, created: true });
      const values: Record<string, unknown> = { ...this.copied(leads, module, def, lead), ...withoutId(data), id };
      if (lead.assigned_user_id && values.assigned_user_id === undefined && module.fields.assigned_user_id) values.assigned_user_id = lead.assigned_user_id;
      plans.push(() => this.records.planSave(actor, target, undefined, values).catch((err) => { throw prefixed(err, target); }));
    }
    // The records reach each other and the lead (the lead holds contact_id, account_id, opportunity_id).
    const contact = chosen.get('Contacts')?.id;
    const account = chosen.get('Accounts')?.id;
    const opportunity = chosen.get('Opportunities')?.id;
    const links: Array<[string, string, string, string | undefined]> = [
      ['Contacts', contact!, 'accounts', account],
      ['Opportunities', opportunity!, 'accounts', account],
      ['Opportunities', opportunity!, 'contacts', contact],
      ['Leads', leadId, 'contact', contact],
      ['Leads', leadId, 'accounts', account],
      ['Leads', leadId, 'opportunity', opportunity],
    ];
    for (const [module, id, link, relatedId] of links) {
      if (id && relatedId && this.ctx.registry.modules.get(module)?.links[link]) plans.push(() => this.planLink(module, id, link, relatedId));
    }
    // The lead's own change goes through the record service (audit, hooks); its read version guards a second conversion.
    plans.push(() => this.records.planSave(actor, 'Leads', leadId, { status: 'Converted', converted: 1 }, { expectedDateModified: String(lead.date_modified) }));
    plans.push(async () => ({
      write: (trx: Knex.Transaction) => emit(this.ctx.outbox, trx, {
        event: 'lead.convert', module: 'Leads', id: leadId, isUpdate: true, changes: {}, actorId: actor.id,
        record: { id: leadId, contact_id: contact ?? null, account_id: account ?? null, opportunity_id: opportunity ?? null, date_modified: formatDateTime(this.ctx.clock()) },
      }),
      finish: async () => undefined,
    }));
    await this.records.together(plans, 'all').catch((err) => {
      // The batch names the entry ("entry 2: …"); the problems already name the module and field.
      const fields = err instanceof CaneError ? (err.details?.fields as Array<{ field: string; rule: string; message: string }> | undefined) : undefined;
      throw fields?.length ? new ValidationError('Leads', fields) : err;
    });

    if (transfer && contact) await this.moveActivities(actor, leadId, contact);
    const converted: ConvertedRecord[] = [];
    for (const [module, { id, created }] of chosen) converted.push({ module, record: await this.records.retrieve(actor, module, id), created });
    return converted;
  }

  /** Fields of the lead the target takes: same-named ones when copyData, then field_map. */
  private copied(leads: ModuleDef, target: ModuleDef, def: ConvertDef, lead: RecordData): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    if (def.copyData) {
      for (const [name, field] of Object.entries(target.fields) as Array<[string, ModuleDef['fields'][string]]>) {
        const from = leads.fields[name];
        // Values the lead stores (or its e-mail addresses), never ones computed for display such as its full name.
        const stored = (f: typeof field) => f.source !== 'non-db' || Boolean(f.cane_email);
        if (NOT_COPIED.has(name) || !from || field.type === 'link' || !stored(field) || !stored(from)) continue;
        const value = lead[name];
        if (value !== null && value !== undefined && value !== '') values[name] = value;
      }
    }
    for (const [to, from] of Object.entries(def.field_map ?? {})) {
      const value = lead[from];
      if (value !== null && value !== undefined && value !== '') values[to] = value;
    }
    return values;
  }

  /** One link of the conversion as a write of its batch (added once; an existing record keeps its other links). */
  private async planLink(moduleName: string, id: string, linkName: string, relatedId: string): Promise<PlannedWrite<unknown>> {
    const module = this.ctx.registry.module(moduleName);
    const link = module.links[linkName];
    const current = (await relatedIds(this.ctx, this.ctx.db.knex, link, [id])).get(id) ?? [];
    const steps = current.includes(relatedId) ? [] : [{ op: 'add' as const, link: linkName, relatedId }];
    return {
      write: (trx) => applyRelateLinks(this.ctx, trx, module, id, steps, formatDateTime(this.ctx.clock())),
      finish: async () => {
        for (const step of steps) await fireRelationshipHooks(this.ctx, 'after', 'add', module, id, link, step.relatedId);
      },
    };
  }

  /** The lead's open and past activities now hang off the contact (each moved through the record service). */
  private async moveActivities(actor: Actor, leadId: string, contactId: string): Promise<void> {
    for (const module of ACTIVITY_MODULES.filter((m) => this.ctx.registry.modules.has(m))) {
      const page = await this.records.list(actor, module, { filter: [{ parent_type: 'Leads' }, { parent_id: leadId }], maxNum: 1000, fields: ['id'] });
      for (const activity of page.records) await this.records.update(actor, module, activity.id, { parent_type: 'Contacts', parent_id: contactId });
    }
  }
}

function withoutId(data: Record<string, unknown>): Record<string, unknown> {
  const { id: _ignored, ...rest } = data;
  return rest;
}

/** A refusal of one module's record names the module, so the caller knows which part of the body to fix. */
function prefixed(err: unknown, module: string): unknown {
  if (err instanceof ValidationError) {
    const problems = (err.details?.fields as Array<{ field: string; rule: string; message: string }> | undefined) ?? [];
    if (problems.length) return new ValidationError('Leads', problems.map((p) => ({ ...p, field: `modules.${module}.${p.field}` })));
  }
  return err;
}
