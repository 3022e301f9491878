import { isDeepStrictEqual } from 'node:util';
import { serialize } from 'php-serialize';
import { decodePhpValue, phpList } from '../../../modules/AOW_WorkFlow/php-values';
import { isStored, valueKind } from '../../metadata/field-types';
import type { ModuleDef, Registry } from '../../metadata/registry';
import type { FieldDef } from '../../metadata/types';
import { utcToZoned, zonedToUtc } from '../../views/time-zone';
import type { FormData } from './forms';

/**
 * The workflow builder's model: what the form carries (one draft per condition and action, in the
 * form's own representation) and how it turns into SuiteCRM's storage — module_path and Date values
 * as base64 of PHP serialize, Multi values as an encoded multienum ('^a^,^b^'), action parameters as
 * base64 of a serialized array with the keys plugins/workflows reads.
 */

/** base64(serialize(value)), as SuiteCRM writes module paths, date values and action parameters. */
export const suite = (value: unknown): string => Buffer.from(serialize(value), 'utf8').toString('base64');
export const encodeMulti = (values: string[]): string => (values.length ? `^${values.join('^,^')}^` : '');
export function decodeMulti(text: unknown): string[] {
  const value = String(text ?? '');
  if (value === '') return [];
  if (value.startsWith('^')) return value.replace(/^\^|\^$/g, '').split('^,^').filter(Boolean);
  const decoded = decodePhpValue(value);
  return decoded === undefined ? [value] : phpList(decoded).map(String);
}

export const MAX_ROWS = 50;
export const MAX_FIELD_ROWS = 30;
export const TEXT_OPERATORS = ['Contains', 'Starts_With', 'Ends_With'];
export const ORDER_OPERATORS = ['Greater_Than', 'Less_Than', 'Greater_Than_or_Equal_To', 'Less_Than_or_Equal_To'];
export const BUILDER_ACTIONS = ['ModifyRecord', 'CreateRecord', 'SendSMS', 'AddToTargetList', 'RemoveFromTargetList', 'Delay'];
export const DATE_UNITS = ['minute', 'hour', 'day', 'week', 'month', 'year', 'business_hours'];
export const DELAY_UNITS = ['minute', 'hour', 'day', 'week', 'business_hours'];
export const SMS_RECIPIENTS = ['record', 'assigned_user', 'related', 'number'];

/** [base ('now', 'today' or a field), operator ('now', 'plus', 'minus'), amount, unit]. */
export type DateParts = [string, string, string, string];

export interface ValueDraft {
  /** Value, Field, Any_Change, Date, Multi (conditions); Value, Field, Date (action fields). */
  type: string;
  /** A Value as the input shows it (datetimes in the user's zone, 'YYYY-MM-DDTHH:MM'), or a Field's name. */
  value: string;
  multi: string[];
  date: DateParts;
}

export interface ConditionDraft extends ValueDraft {
  key: string;
  id?: string;
  order: number;
  remove: boolean;
  /** Links followed from the workflow's module (empty: the record itself). */
  path: string[];
  field: string;
  operator: string;
}

export interface SetterDraft extends ValueDraft {
  key: string;
  field: string;
  remove: boolean;
}

export interface ActionDraft {
  key: string;
  id?: string;
  order: number;
  remove: boolean;
  action: string;
  name: string;
  fields: SetterDraft[];
  recordType: string;
  relate: boolean;
  recipient: string;
  phoneField: string;
  link: string;
  number: string;
  templateId: string;
  text: string;
  targetListId: string;
  amount: string;
  unit: string;
  /** Parameters the builder does not edit (SuiteCRM's rel/rel_value…), kept as they were. */
  extra: Record<string, unknown>;
  /** Action types the builder cannot edit: their parameters exactly as stored. */
  raw?: string;
  /** Parameters of an action type a plugin offers, as typed (one input per schema property). */
  custom: Record<string, string>;
}

/** The JSON Schema of the parameters of an action type a plugin offers, by action name. */
export type OfferedSchemas = (action: string) => Record<string, unknown> | undefined;

export interface OfferedProperty {
  name: string;
  def: { type?: string | string[]; title?: string; description?: string; enum?: unknown[]; default?: unknown };
  kind: 'text' | 'number' | 'checkbox' | 'select' | 'json';
  required: boolean;
}

/** The properties of an offered action's parameter schema, each with the input it gets. */
export function offeredProperties(schema: Record<string, unknown> | undefined): OfferedProperty[] {
  const properties = (schema?.properties ?? {}) as Record<string, OfferedProperty['def']>;
  const required = Array.isArray(schema?.required) ? (schema!.required as string[]) : [];
  return Object.entries(properties).filter(([name]) => /^\w{1,64}$/.test(name)).map(([name, def]) => {
    const type = Array.isArray(def?.type) ? def.type[0] : def?.type;
    const kind = def?.enum ? 'select' : type === 'boolean' ? 'checkbox' : type === 'integer' || type === 'number' ? 'number' : type === 'object' || type === 'array' ? 'json' : 'text';
    return { name, def: def ?? {}, kind, required: required.includes(name) };
  });
}

/** Typed values from the inputs, so the schema's types hold (empty inputs are left out). */
function offeredParameters(schema: Record<string, unknown> | undefined, custom: Record<string, string>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const p of offeredProperties(schema)) {
    const raw = custom[p.name];
    if (p.kind === 'checkbox') { params[p.name] = raw === '1'; continue; }
    if (raw === undefined || raw === '') continue;
    if (p.kind === 'select') {
      const option = (p.def.enum ?? []).find((e) => String(e) === raw);
      params[p.name] = option === undefined ? raw : option;
    } else if (p.kind === 'number') {
      params[p.name] = raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    } else if (p.kind === 'json') {
      try { params[p.name] = JSON.parse(raw); } catch { params[p.name] = raw; }
    } else {
      params[p.name] = raw;
    }
  }
  return params;
}

export interface WorkflowDraft {
  name: string;
  flow_module: string;
  flow_run_on: string;
  run_when: string;
  multiple_runs: boolean;
  status: string;
  description: string;
}

export interface BuilderDraft {
  workflow: WorkflowDraft;
  dateModified: string;
  conditions: ConditionDraft[];
  actions: ActionDraft[];
  /** Stored rows the user removed (deleted on save). */
  removedConditions: string[];
  removedActions: string[];
}

// ---------------------------------------------------------------- fields of a module

export interface PickableField {
  name: string;
  label: string;
  kind: string;
  /** Dropdown name of an enum or multienum field. */
  options?: string;
  def: FieldDef;
}

/** Fields a condition or action may name: stored fields (and concatenated names), never links or sensitive ones. */
export function pickableFields(registry: Registry, module: ModuleDef, label: (key: string) => string): PickableField[] {
  const fields: PickableField[] = [];
  for (const [name, def] of Object.entries(module.fields)) {
    if (def.type === 'link' || def.sensitive || name === 'deleted') continue;
    if (!isStored(def) && !def.db_concat_fields) continue;
    const kind = valueKind(def);
    const options = (kind === 'enum' || kind === 'multienum') && typeof def.options === 'string' && registry.dropdown(def.options) ? def.options : undefined;
    fields.push({ name, label: def.vname ? label(String(def.vname)) : name, kind, options, def });
  }
  return disambiguate(fields).sort((a, b) => a.label.localeCompare(b.label) || a.name.localeCompare(b.name));
}

/** Entries that share a label get their name after it ('Name (full_name)', 'Name (name)'). */
export function disambiguate<T extends { label: string }>(entries: T[], nameOf: (entry: T) => string = (e) => (e as unknown as { name: string }).name): T[] {
  const count = new Map<string, number>();
  for (const e of entries) count.set(e.label, (count.get(e.label) ?? 0) + 1);
  return entries.map((e) => ((count.get(e.label) ?? 0) > 1 ? { ...e, label: `${e.label} (${nameOf(e)})` } : e));
}

export function kindOf(module: ModuleDef | undefined, field: string): string {
  const def = module && Object.hasOwn(module.fields, field) ? module.fields[field] : undefined;
  return def ? valueKind(def) : 'string';
}

/** Operators that fit a field: ordering only for numbers, dates and times, text matching only for text. */
export function operatorsFor(kind: string): string[] {
  const ordered = ['int', 'float', 'decimal', 'date', 'datetime', 'time'].includes(kind);
  const text = ['string', 'text'].includes(kind);
  return ['Equal_To', 'Not_Equal_To', ...(ordered ? ORDER_OPERATORS : []), ...(text ? TEXT_OPERATORS : []), 'is_null'];
}

/** Condition value types that fit a field: Date only for dates, Multi only for fields with options. */
export function conditionTypesFor(kind: string, hasOptions: boolean): string[] {
  return ['Value', 'Field', 'Any_Change', ...(kind === 'date' || kind === 'datetime' ? ['Date'] : []), ...(hasOptions ? ['Multi'] : [])];
}

export function setterTypesFor(kind: string): string[] {
  return ['Value', 'Field', ...(kind === 'date' || kind === 'datetime' ? ['Date'] : [])];
}

// ---------------------------------------------------------------- reading the form

const ROW = /^([ca])(\d{1,4})_/;
const SETTER = /^(a\d{1,4}_f\d{1,4})_/;

function keysOf(form: FormData, prefix: 'c' | 'a'): string[] {
  const keys = new Set<string>();
  for (const name of form.names()) {
    const m = ROW.exec(name);
    if (m && m[1] === prefix) keys.add(`${m[1]}${m[2]}`);
  }
  return [...keys].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))).slice(0, MAX_ROWS);
}

function readValue(form: FormData, p: string, type: string): ValueDraft {
  return {
    type,
    value: (form.get(`${p}_value`) ?? '').slice(0, 1000),
    multi: form.all(`${p}_multi`).map((v) => v.slice(0, 255)).slice(0, 200),
    date: [form.get(`${p}_date_base`) ?? 'today', form.get(`${p}_date_op`) ?? 'now', (form.get(`${p}_date_amount`) ?? '').trim(), form.get(`${p}_date_unit`) ?? ''],
  };
}

const order = (text: string | undefined, fallback: number) => {
  const n = Number.parseFloat(String(text ?? '').trim());
  return Number.isFinite(n) ? n : fallback;
};

const id = (text: string | undefined) => (text && /^[\w.-]{1,36}$/.test(text) ? text : undefined);

/** The builder form as drafts; rows come back sorted by their order numbers (ties keep the form's order). */
export function readBuilderForm(form: FormData): BuilderDraft {
  const workflow: WorkflowDraft = {
    name: (form.get('name') ?? '').slice(0, 255),
    flow_module: form.get('flow_module') ?? '',
    flow_run_on: form.get('flow_run_on') ?? 'All_Records',
    run_when: form.get('run_when') ?? 'Always',
    multiple_runs: form.has('multiple_runs'),
    status: form.get('status') === 'Active' ? 'Active' : 'Inactive',
    description: (form.get('description') ?? '').slice(0, 10_000),
  };
  const conditions = keysOf(form, 'c').map((key, i): ConditionDraft => {
    const path = (form.get(`${key}_path`) ?? '').split('/').filter((l) => /^\w{1,100}$/.test(l)).slice(0, 5);
    return {
      key, id: id(form.get(`${key}_id`)), order: order(form.get(`${key}_order`), i + 1), remove: form.has(`${key}_remove`),
      path, field: form.get(`${key}_field`) ?? '', operator: form.get(`${key}_operator`) ?? 'Equal_To',
      ...readValue(form, key, form.get(`${key}_value_type`) ?? 'Value'),
    };
  });
  const actions = keysOf(form, 'a').map((key, i): ActionDraft => {
    const setterKeys = new Set<string>();
    for (const name of form.names()) {
      const m = SETTER.exec(name);
      if (m && m[1].startsWith(`${key}_f`)) setterKeys.add(m[1]);
    }
    const fields = [...setterKeys].sort((x, y) => Number(x.split('_f')[1]) - Number(y.split('_f')[1])).slice(0, MAX_FIELD_ROWS).map((p): SetterDraft => ({
      key: p, field: form.get(`${p}_field`) ?? '', remove: form.has(`${p}_remove`), ...readValue(form, p, form.get(`${p}_value_type`) ?? 'Value'),
    }));
    const action = form.get(`${key}_action`) ?? 'ModifyRecord';
    // A row whose type was just changed starts afresh: no name, no kept or plugin parameters of the old type.
    const was = form.get(`${key}_was`);
    const sameType = was === undefined || was === action;
    let extra: Record<string, unknown> = {};
    const custom: Record<string, string> = {};
    if (sameType) {
      for (const name of form.names()) if (name.startsWith(`${key}_p_`)) custom[name.slice(`${key}_p_`.length)] = (form.get(name) ?? '').slice(0, 10_000);
      try {
        const parsed = JSON.parse(Buffer.from(form.get(`${key}_extra`) ?? '', 'base64').toString('utf8') || '{}');
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) extra = parsed;
      } catch { /* nothing kept */ }
    }
    return {
      key, id: id(form.get(`${key}_id`)), order: order(form.get(`${key}_order`), i + 1), remove: form.has(`${key}_remove`),
      action, name: sameType ? (form.get(`${key}_name`) ?? '').slice(0, 255) : '', fields,
      recordType: form.get(`${key}_record_type`) ?? '', relate: form.has(`${key}_relate`),
      recipient: form.get(`${key}_recipient`) ?? 'record', phoneField: form.get(`${key}_phone_field`) ?? '', link: form.get(`${key}_link`) ?? '',
      number: (form.get(`${key}_number`) ?? '').slice(0, 40), templateId: form.get(`${key}_template_id`) ?? '', text: (form.get(`${key}_text`) ?? '').slice(0, 20_000),
      targetListId: form.get(`${key}_target_list_id`) ?? '', amount: (form.get(`${key}_amount`) ?? '').trim().slice(0, 20), unit: form.get(`${key}_unit`) ?? 'day',
      extra, raw: sameType ? form.get(`${key}_raw`) || undefined : undefined, custom,
    };
  });
  const sorted = <T extends { order: number }>(rows: T[]) => rows.map((r, i) => ({ r, i })).sort((x, y) => x.r.order - y.r.order || x.i - y.i).map(({ r }) => r);
  return {
    workflow,
    dateModified: form.get('date_modified') ?? '',
    conditions: sorted(conditions),
    actions: sorted(actions),
    removedConditions: form.all('removed_condition').map(id).filter((x): x is string => Boolean(x)),
    removedActions: form.all('removed_action').map(id).filter((x): x is string => Boolean(x)),
  };
}

/** Keys and order numbers 1..n in the rows' order; removed rows are left out (stored ones go to the removed lists). */
export function renumber(draft: BuilderDraft): BuilderDraft {
  const removedConditions = [...draft.removedConditions, ...draft.conditions.filter((c) => c.remove && c.id).map((c) => c.id!)];
  const removedActions = [...draft.removedActions, ...draft.actions.filter((a) => a.remove && a.id).map((a) => a.id!)];
  return {
    ...draft,
    conditions: draft.conditions.filter((c) => !c.remove).map((c, i) => ({ ...c, key: `c${i + 1}`, order: i + 1 })),
    actions: draft.actions.filter((a) => !a.remove).map((a, i) => ({
      ...a, key: `a${i + 1}`, order: i + 1,
      fields: a.fields.filter((f) => !f.remove).map((f, j) => ({ ...f, key: `a${i + 1}_f${j + 1}` })),
    })),
    removedConditions: [...new Set(removedConditions)],
    removedActions: [...new Set(removedActions)],
  };
}

// ---------------------------------------------------------------- stored rows → drafts

const emptyValue = (): ValueDraft => ({ type: 'Value', value: '', multi: [], date: ['today', 'now', '', ''] });

export function emptyCondition(key: string, orderNo: number): ConditionDraft {
  return { key, order: orderNo, remove: false, path: [], field: '', operator: 'Equal_To', ...emptyValue() };
}

export function emptyAction(key: string, orderNo: number, action = 'ModifyRecord'): ActionDraft {
  return {
    key, order: orderNo, remove: false, action, name: '', fields: [], recordType: '', relate: true, recipient: 'record', phoneField: '', link: '', number: '',
    templateId: '', text: '', targetListId: '', amount: '1', unit: 'day', extra: {}, custom: {},
  };
}

export function emptySetter(key: string): SetterDraft {
  return { key, field: '', remove: false, ...emptyValue() };
}

function dateParts(value: unknown): DateParts {
  const parts = phpList(value).map((p) => (p === null || p === undefined ? '' : String(p)));
  return [parts[0] ?? 'today', parts[1] || 'now', parts[2] ?? '', parts[3] ?? ''];
}

/** A stored Value for the input: datetimes in the user's zone. */
function valueForInput(kind: string, value: string, timeZone: string): string {
  if (kind === 'datetime' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(value)) return utcToZoned(value, timeZone).replace(' ', 'T');
  return value;
}

/** The links of a stored module_path, without the workflow's module SuiteCRM starts it with. */
export function pathOf(modulePath: unknown, flowModule: string): string[] {
  if (modulePath === null || modulePath === undefined || modulePath === '') return [];
  const links = phpList(decodePhpValue(modulePath)).map(String);
  return links[0] === flowModule ? links.slice(1) : links;
}

/** The module a path reaches (undefined when a link is unknown). */
export function moduleAt(registry: Registry, start: ModuleDef | undefined, path: string[]): ModuleDef | undefined {
  let module = start;
  for (const link of path) {
    if (!module || !Object.hasOwn(module.links, link) || !registry.modules.has(module.links[link].module)) return undefined;
    module = registry.module(module.links[link].module);
  }
  return module;
}

export function conditionFromRow(registry: Registry, flow: ModuleDef | undefined, row: Record<string, unknown>, key: string, timeZone: string): ConditionDraft {
  const path = pathOf(row.module_path, flow?.name ?? '');
  const subject = moduleAt(registry, flow, path);
  const type = String(row.value_type ?? 'Value');
  const value = row.value === null || row.value === undefined ? '' : String(row.value);
  const draft: ConditionDraft = {
    key, id: String(row.id), order: Number(row.condition_order) || 0, remove: false, path,
    field: String(row.field ?? ''), operator: String(row.operator ?? 'Equal_To'), ...emptyValue(), type,
  };
  if (type === 'Date') draft.date = dateParts(decodePhpValue(value));
  else if (type === 'Multi') draft.multi = decodeMulti(value);
  else draft.value = type === 'Value' ? valueForInput(kindOf(subject, draft.field), value, timeZone) : value;
  return draft;
}

export function actionFromRow(registry: Registry, flow: ModuleDef | undefined, row: Record<string, unknown>, key: string, timeZone: string, offered: OfferedSchemas = () => undefined): ActionDraft {
  const action = String(row.action ?? '');
  const draft: ActionDraft = { ...emptyAction(key, Number(row.action_order) || 0, action), id: String(row.id), name: String(row.name ?? '') };
  const decoded = decodePhpValue(row.parameters);
  const params = (decoded && typeof decoded === 'object' ? decoded : {}) as Record<string, unknown>;
  const take = (name: string) => (params[name] === null || params[name] === undefined ? '' : String(params[name]));
  const known = new Set<string>();
  const use = (...names: string[]) => names.forEach((n) => known.add(n));
  switch (action) {
    case 'ModifyRecord':
    case 'CreateRecord': {
      use('field', 'value', 'value_type');
      if (action === 'CreateRecord') {
        use('record_type', 'relate_to_workflow');
        draft.recordType = take('record_type');
        draft.relate = Boolean(params.relate_to_workflow) && take('relate_to_workflow') !== '0';
      }
      const target = action === 'CreateRecord' ? registry.modules.get(draft.recordType) : flow;
      const fields = phpList(params.field);
      const values = phpList(params.value);
      const types = phpList(params.value_type);
      draft.fields = fields.map((field, i) => {
        const setter = emptySetter(`${key}_f${i + 1}`);
        setter.field = String(field ?? '');
        setter.type = String(types[i] ?? 'Value');
        const kind = kindOf(target, setter.field);
        if (setter.type === 'Date') setter.date = dateParts(values[i]);
        else if (setter.type === 'Value' && kind === 'multienum') setter.multi = decodeMulti(values[i]);
        else setter.value = setter.type === 'Value' ? valueForInput(kind, String(values[i] ?? ''), timeZone) : String(values[i] ?? '');
        return setter;
      });
      break;
    }
    case 'SendSMS':
      use('recipient', 'phone_field', 'link', 'number', 'template_id', 'text');
      draft.recipient = take('recipient') || 'record';
      draft.phoneField = take('phone_field');
      draft.link = take('link');
      draft.number = take('number');
      draft.templateId = take('template_id');
      draft.text = take('text');
      break;
    case 'AddToTargetList':
    case 'RemoveFromTargetList':
      use('target_list_id');
      draft.targetListId = take('target_list_id');
      break;
    case 'Delay':
      use('amount', 'unit');
      draft.amount = take('amount');
      draft.unit = take('unit');
      break;
    default: {
      const schema = offered(action);
      if (!schema || !(decoded && typeof decoded === 'object')) {
        draft.raw = row.parameters === null || row.parameters === undefined ? '' : String(row.parameters);
        return draft;
      }
      for (const p of offeredProperties(schema)) {
        use(p.name);
        const v = params[p.name];
        if (v === undefined || v === null) continue;
        draft.custom[p.name] = p.kind === 'checkbox' ? (v === true || v === 1 || v === '1' ? '1' : '') : p.kind === 'json' ? JSON.stringify(v) : String(v);
      }
    }
  }
  draft.extra = Object.fromEntries(Object.entries(params).filter(([k]) => !known.has(k)));
  return draft;
}

// ---------------------------------------------------------------- drafts → SuiteCRM's storage

export interface StorageEnv {
  registry: Registry;
  flow: ModuleDef;
  timeZone: string;
  offered: OfferedSchemas;
}

function storedValue(kind: string, value: string, timeZone: string): string {
  if (kind === 'datetime' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return zonedToUtc(value, timeZone) ?? value;
  return value;
}

const normalDate = (date: DateParts): DateParts => (date[1] === 'plus' || date[1] === 'minus' ? [date[0], date[1], date[2], date[3]] : [date[0], 'now', '', '']);

export interface ConditionRow {
  condition_order: number;
  module_path: string;
  field: string;
  operator: string;
  value_type: string;
  value: string;
}

export function conditionRow(env: StorageEnv, d: ConditionDraft): ConditionRow {
  const subject = moduleAt(env.registry, env.flow, d.path);
  const kind = kindOf(subject, d.field);
  let value: string;
  switch (d.type) {
    case 'Value': value = d.operator === 'is_null' ? '' : storedValue(kind, d.value, env.timeZone); break;
    case 'Field': value = d.value; break;
    case 'Any_Change': value = ''; break;
    case 'Date': value = suite(normalDate(d.date)); break;
    case 'Multi': value = encodeMulti(d.multi); break;
    default: value = d.value;
  }
  return { condition_order: d.order, module_path: suite([env.flow.name, ...d.path]), field: d.field, operator: d.operator, value_type: d.type, value };
}

export interface ActionRow {
  action_order: number;
  action: string;
  name: string;
  parameters: string;
}

/** The parameters of an action, shaped exactly as plugins/workflows reads them. */
export function actionParameters(env: StorageEnv, d: ActionDraft): Record<string, unknown> {
  const setters = (target: ModuleDef | undefined) => {
    const rows = d.fields.filter((f) => !f.remove);
    return {
      field: rows.map((f) => f.field),
      value: rows.map((f) => {
        if (f.type === 'Date') return normalDate(f.date);
        if (f.type !== 'Value') return f.value;
        const kind = kindOf(target, f.field);
        return kind === 'multienum' ? encodeMulti(f.multi) : storedValue(kind, f.value, env.timeZone);
      }),
      value_type: rows.map((f) => f.type),
    };
  };
  switch (d.action) {
    case 'ModifyRecord': return { ...d.extra, ...setters(env.flow) };
    case 'CreateRecord': return { ...d.extra, record_type: d.recordType, relate_to_workflow: d.relate ? '1' : '0', ...setters(env.registry.modules.get(d.recordType)) };
    case 'SendSMS': {
      const params: Record<string, unknown> = { ...d.extra, recipient: d.recipient };
      if (d.phoneField && d.recipient !== 'number') params.phone_field = d.phoneField;
      if (d.recipient === 'related') params.link = d.link;
      if (d.recipient === 'number') params.number = d.number;
      if (d.templateId) params.template_id = d.templateId;
      else params.text = d.text;
      return params;
    }
    case 'AddToTargetList':
    case 'RemoveFromTargetList': return { ...d.extra, target_list_id: d.targetListId };
    case 'Delay': return { ...d.extra, amount: d.amount, unit: d.unit };
    default: {
      const schema = env.offered(d.action);
      return schema ? { ...d.extra, ...offeredParameters(schema, d.custom) } : d.extra;
    }
  }
}

export function actionRow(env: StorageEnv, d: ActionDraft, label: (action: string) => string): ActionRow {
  const editable = BUILDER_ACTIONS.includes(d.action) || Boolean(env.offered(d.action));
  const parameters = d.raw !== undefined && !editable ? d.raw : suite(actionParameters(env, d));
  return { action_order: d.order, action: d.action, name: d.name || label(d.action), parameters };
}

/** Serialized columns compare by what they decode to, so an equivalent row written by SuiteCRM is left as it is. */
export function sameStored(column: string, stored: unknown, built: unknown): boolean {
  const a = stored === null || stored === undefined ? '' : String(stored);
  const b = built === null || built === undefined ? '' : String(built);
  if (a === b) return true;
  if (['module_path', 'parameters', 'value'].includes(column)) {
    const x = decodePhpValue(a);
    const y = decodePhpValue(b);
    if (x !== undefined && y !== undefined) return isDeepStrictEqual(normalise(x), normalise(y));
  }
  if (column === 'condition_order' || column === 'action_order') return Number(a) === Number(b);
  return false;
}

/** PHP arrays with keys 0..n-1 as lists, numbers as strings (SuiteCRM posts strings). */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.every(([k], i) => k === String(i))) return entries.map(([, v]) => normalise(v));
    return Object.fromEntries(entries.map(([k, v]) => [k, normalise(v)]).sort(([x], [y]) => String(x).localeCompare(String(y))));
  }
  return value === null || value === undefined ? '' : String(value);
}

/** The columns of a built row that differ from the stored row (empty: nothing to write). */
export function changedColumns<T extends object>(stored: Record<string, unknown>, built: T): Partial<T> {
  const changed: Partial<T> = {};
  for (const [column, value] of Object.entries(built)) if (!sameStored(column, stored[column], value)) (changed as Record<string, unknown>)[column] = value;
  return changed;
}
