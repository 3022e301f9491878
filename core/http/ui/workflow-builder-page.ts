import type Router from '@koa/router';
import type { Context } from 'koa';
import { workflowRowHooks } from '../../../modules/AOW_WorkFlow/workflow-rows';
import { AccessDeniedError, CaneError, ConflictError, HookVeto, NotFoundError, ValidationError } from '../../errors';
import { makeBean } from '../../hooks/hook-registry';
import type { HookDefinition } from '../../hooks/types';
import type { ModuleDef } from '../../metadata/registry';
import type { RecordData } from '../../records/read';
import { parseDateTime } from '../../records/time';
import { DEFAULT_PHONE_FIELD, phoneFields, RECIPIENT_MODULES } from '../../sms/phone-index';
import { describeBody } from '../../sms/segments';
import { compileSmsTemplate, templateFieldProblems, TemplateProblem } from '../../sms/templates';
import { readJson } from '../middleware/body';
import { readFormData } from './forms';
import type { Ui } from './ui-context';
import {
  actionFromRow, actionRow, BUILDER_ACTIONS, changedColumns, conditionFromRow, conditionRow, conditionTypesFor, DATE_UNITS, DELAY_UNITS, disambiguate, emptyAction, emptyCondition,
  emptySetter, kindOf, MAX_FIELD_ROWS, MAX_ROWS, moduleAt, offeredProperties, operatorsFor, pathOf, pickableFields, readBuilderForm, renumber, setterTypesFor, SMS_RECIPIENTS,
  type ActionDraft, type OfferedSchemas, type BuilderDraft, type ConditionDraft, type PickableField, type SetterDraft, type StorageEnv, type ValueDraft,
} from './workflow-builder-form';

/**
 * /ui/AOW_WorkFlow/:id/builder (and /ui/AOW_WorkFlow/builder/new): one page to create, edit,
 * activate and deactivate a workflow — its fields, conditions and actions — and to try it on a record.
 *
 * The page works without JavaScript: choices that change what a row offers (the workflow's module,
 * an action's type, a related module) are applied by "Update form", which re-renders what was typed
 * without saving; ui.js does it on change and re-types value inputs in place.
 *
 * Saving: every row is first run through the same checks the record service's before_save hooks
 * run (modules/AOW_WorkFlow/workflow-rows.ts), without writing, and every refusal is shown beside
 * its row. Only then is anything written, through the record service with the user as actor (so
 * ACL, validation and hooks apply). A new workflow, or one whose module changes, is written first
 * as Inactive (the row checks read the module from the database) and gets its status last. Should a
 * write still be refused, what this request wrote is undone (created rows deleted, changed rows
 * and the workflow put back, deleted rows restored).
 */

const WORKFLOW = 'AOW_WorkFlow';
const PLUGIN_ID = 'org.cane.workflows';

interface Opt { value: string; label: string; selected: boolean; module?: string }

interface RowError { message: string; field?: string }

class Problems {
  workflow: Record<string, string> = {};
  rows: Record<string, RowError> = {};
  general: string[] = [];
  get any() {
    return Object.keys(this.workflow).length > 0 || Object.keys(this.rows).length > 0 || this.general.length > 0;
  }
}

interface DryRunResult {
  conditions: Array<{ order: number; field: string; holds: boolean; detail: string }>;
  actions: Array<{ order: number; action: string; would: string }>;
  error?: string;
}

/** 'condition 2: …' / 'action 1: …' in a refusal: which row it names. */
export function rowNamedIn(message: string): { kind: 'condition' | 'action'; order: number } | undefined {
  const m = /^(condition|action) (\d+):/.exec(message);
  return m ? { kind: m[1] as 'condition' | 'action', order: Number(m[2]) } : undefined;
}

function options(pairs: Array<[string, string]>, selected: string | string[], keepUnknown = true): Opt[] {
  const chosen = new Set(Array.isArray(selected) ? selected : [selected]);
  const list = pairs.map(([value, label]) => ({ value, label, selected: chosen.has(value) }));
  if (keepUnknown) for (const value of chosen) if (value !== '' && !pairs.some(([v]) => v === value)) list.push({ value, label: `${value} (not available here)`, selected: true });
  return list;
}

export function workflowBuilderPage(router: Router, ui: Ui): void {
  const { engine, acl } = ui.services;
  const registry = engine.registry;
  // the same checks, with the same action types plugins offer, as the record service's hooks
  const checks = workflowRowHooks(registry, engine.db, engine.workflowActions);
  const dropdown = (name: string): Array<[string, string]> => Object.entries(registry.dropdown(name) ?? {});
  const label = (module: string | undefined, key: string) => ui.label(module, key);
  const offer = (action: string) => (BUILDER_ACTIONS.includes(action) ? undefined : engine.workflowActions.get(action));
  const offered: OfferedSchemas = (action) => offer(action)?.parameters;
  const actionLabel = (action: string) => offer(action)?.label ?? registry.dropdown('aow_actions_list')?.[action] ?? action;
  /** Built-in action types, then those plugins offer, then the row's own type if it is neither. */
  const actionTypes = (current: string): Opt[] => {
    const pairs: Array<[string, string]> = [
      ...dropdown('aow_actions_list').filter(([k]) => BUILDER_ACTIONS.includes(k)),
      ...engine.workflowActions.list().filter((o) => !BUILDER_ACTIONS.includes(o.name)).map((o): [string, string] => [o.name, o.label]),
    ];
    if (current && !pairs.some(([k]) => k === current)) pairs.push([current, `${actionLabel(current)} (not available in Cane)`]);
    return options(pairs, current);
  };
  const fieldCache = new Map<string, PickableField[]>();
  const fieldsOf = (module: ModuleDef | undefined): PickableField[] => {
    if (!module) return [];
    let list = fieldCache.get(module.name);
    if (!list) fieldCache.set(module.name, (list = pickableFields(registry, module, (key) => label(module.name, key))));
    return list;
  };

  async function allowed(ctx: Context, module: string, action: 'view' | 'list' | 'edit' | 'delete', record?: Record<string, unknown>) {
    if (!registry.modules.has(module)) return false;
    try {
      await acl.check(ui.actor(ctx), registry.module(module), action, record);
      return true;
    } catch (err) {
      if (err instanceof AccessDeniedError) return false;
      throw err;
    }
  }

  async function timeZoneOf(ctx: Context) {
    return (await ui.preferences(ui.actor(ctx).id!)).timeZone;
  }

  /** Modules a workflow may run on: aow_moduleList, installed, and visible to the user. */
  async function flowModules(ctx: Context): Promise<string[]> {
    const list: string[] = [];
    for (const name of Object.keys(registry.dropdown('aow_moduleList') ?? {})) if (name && (await allowed(ctx, name, 'view'))) list.push(name);
    return list;
  }

  // ---------------------------------------------------------------- loading

  async function load(ctx: Context, id: string): Promise<{ record: RecordData; draft: BuilderDraft }> {
    const actor = ui.actor(ctx);
    const record = await engine.records.retrieve(actor, WORKFLOW, id);
    await acl.check(actor, registry.module(WORKFLOW), 'edit', record);
    const flow = registry.modules.get(String(record.flow_module ?? ''));
    const timeZone = await timeZoneOf(ctx);
    const conditions = await engine.records.list(actor, 'AOW_Conditions', { filter: [{ aow_workflow_id: id }], orderBy: [{ field: 'condition_order', direction: 'asc' }], maxNum: MAX_ROWS * 2 });
    const actions = await engine.records.list(actor, 'AOW_Actions', { filter: [{ aow_workflow_id: id }], orderBy: [{ field: 'action_order', direction: 'asc' }], maxNum: MAX_ROWS * 2 });
    return {
      record,
      draft: {
        workflow: {
          name: String(record.name ?? ''), flow_module: String(record.flow_module ?? ''), flow_run_on: String(record.flow_run_on ?? '0'), run_when: String(record.run_when ?? 'Always'),
          multiple_runs: record.multiple_runs === true, status: record.status === 'Active' ? 'Active' : 'Inactive', description: String(record.description ?? ''),
        },
        dateModified: String(record.date_modified ?? ''),
        conditions: conditions.records.map((r, i) => conditionFromRow(registry, flow, r, `c${i + 1}`, timeZone)),
        actions: actions.records.map((r, i) => actionFromRow(registry, flow, r, `a${i + 1}`, timeZone, offered)),
        removedConditions: [],
        removedActions: [],
      },
    };
  }

  function newDraft(query: Record<string, unknown>): BuilderDraft {
    const flow = typeof query.flow_module === 'string' ? query.flow_module : '';
    return {
      workflow: { name: '', flow_module: flow, flow_run_on: 'All_Records', run_when: 'On_Save', multiple_runs: false, status: 'Inactive', description: '' },
      dateModified: '', conditions: [], actions: [], removedConditions: [], removedActions: [],
    };
  }

  // ---------------------------------------------------------------- rendering

  interface ViewEnv {
    ctx: Context;
    flow?: ModuleDef;
    flowFields: PickableField[];
    problems: Problems;
  }

  const dateLabels = () => ({
    bases: (env: ViewEnv): Array<[string, string]> => [
      ['now', registry.dropdown('aow_date_options')?.now ?? 'Now'], ['today', registry.dropdown('aow_date_options')?.today ?? 'Today'],
      ...env.flowFields.filter((f) => f.kind === 'date' || f.kind === 'datetime').map((f): [string, string] => [f.name, f.label]),
    ],
    ops: [['now', 'exactly'], ['plus', '+ plus'], ['minus', '− minus']] as Array<[string, string]>,
    units: DATE_UNITS.map((u): [string, string] => [u, registry.dropdown('aow_date_type_list')?.[u] ?? u]),
  });

  /** The value input(s) of a condition or an action field, typed like the field. */
  function valueCell(env: ViewEnv, prefix: string, target: ModuleDef | undefined, fieldName: string, d: ValueDraft, error: boolean) {
    const field = fieldsOf(target).find((f) => f.name === fieldName);
    const kind = field?.kind ?? kindOf(target, fieldName);
    const choices = field?.options ? dropdown(field.options) : undefined;
    const base = { prefix, name: `${prefix}_value`, id: `wf-${prefix}_value`, invalid: error };
    const dl = dateLabels();
    switch (d.type) {
      case 'Any_Change': return { ...base, isNone: true, text: 'any change to the field' };
      case 'Field': return { ...base, isSelect: true, options: [{ value: '', label: '', selected: d.value === '' }, ...options(env.flowFields.map((f) => [f.name, f.label]), d.value)] };
      case 'Date': return {
        ...base, isDate: true, id: `wf-${prefix}_date_base`,
        bases: options(dl.bases(env), d.date[0]), ops: options(dl.ops, d.date[1] === 'plus' || d.date[1] === 'minus' ? d.date[1] : 'now'),
        amount: d.date[2], units: options([['', ''], ...dl.units], d.date[3]),
      };
      case 'Multi': return { ...base, isMulti: true, name: `${prefix}_multi`, id: `wf-${prefix}_multi`, options: options(choices ?? [], d.multi) };
      case 'Value': break;
      default: return { ...base, isText: true, inputType: 'text' };
    }
    if (kind === 'multienum' && choices) return { ...base, isMulti: true, name: `${prefix}_multi`, id: `wf-${prefix}_multi`, options: options(choices, d.multi) };
    if (choices) return { ...base, isSelect: true, options: options([['', ''], ...choices.filter(([k]) => k !== '')], d.value) };
    if (kind === 'bool') return { ...base, isSelect: true, options: options([['', ''], ['1', 'Yes'], ['0', 'No']], d.value) };
    const inputType = { int: 'number', float: 'number', decimal: 'number', date: 'date', datetime: 'datetime-local', time: 'time' }[kind] ?? 'text';
    return { ...base, isText: true, inputType, step: inputType === 'number' ? 'any' : undefined, value: d.value };
  }

  function conditionView(env: ViewEnv, d: ConditionDraft, pathOptions: Opt[]) {
    const subject = moduleAt(registry, env.flow, d.path);
    const fields = fieldsOf(subject);
    const field = fields.find((f) => f.name === d.field);
    const kind = field?.kind ?? kindOf(subject, d.field);
    const error = env.problems.rows[d.key];
    const path = d.path.join('/');
    const ops = dropdown('aow_operator_list').filter(([k]) => operatorsFor(kind).includes(k));
    const types = dropdown('aow_condition_type_list').filter(([k]) => conditionTypesFor(kind, Boolean(field?.options)).includes(k));
    return {
      key: d.key, id: d.id, order: d.order, number: d.order,
      paths: pathOptions.map((o) => ({ ...o, selected: o.value === path })).concat(pathOptions.some((o) => o.value === path) ? [] : [{ value: path, label: `${path} (not available here)`, selected: true }]),
      fields: [{ value: '', label: '', selected: d.field === '' }, ...options(fields.map((f) => [f.name, f.label]), d.field)],
      operators: options(ops, d.operator),
      types: options(types, d.type),
      value: valueCell(env, d.key, subject, d.field, d, error?.field === 'value'),
      error: error?.message,
      invalid: { path: error?.field === 'module_path', field: error?.field === 'field', operator: error?.field === 'operator', type: error?.field === 'value_type' },
    };
  }

  function setterView(env: ViewEnv, target: ModuleDef | undefined, s: SetterDraft) {
    const fields = fieldsOf(target);
    const kind = fields.find((f) => f.name === s.field)?.kind ?? kindOf(target, s.field);
    return {
      key: s.key,
      fields: [{ value: '', label: '', selected: s.field === '' }, ...options(fields.map((f) => [f.name, f.label]), s.field)],
      types: options(setterTypesFor(kind).map((t) => [t, t]), s.type),
      value: valueCell(env, s.key, target, s.field, s, false),
    };
  }

  async function smsPreview(ctx: Context, templateId: string, text: string, recipientModule: string | undefined) {
    let body = text;
    let templateName: string | undefined;
    const problems: string[] = [];
    if (templateId) {
      const template = await engine.records.retrieve(ui.actor(ctx), 'SMSTemplates', templateId).catch((err) => {
        if (err instanceof NotFoundError || err instanceof AccessDeniedError) return undefined;
        throw err;
      });
      if (!template) return { problems: [`no SMS template with id '${templateId}' (or you may not view it)`] };
      body = String(template.body ?? '');
      templateName = String(template.name ?? '');
    }
    if (!body.trim()) return { empty: true, problems };
    try {
      compileSmsTemplate(body);
      problems.push(...templateFieldProblems(registry, body, recipientModule));
    } catch (err) {
      if (!(err instanceof TemplateProblem)) throw err;
      problems.push(err.message);
    }
    const facts = describeBody(body);
    return { body, templateName, problems, ...facts, segmentsLabel: `${facts.segments} ${facts.segments === 1 ? 'segment' : 'segments'}` };
  }

  function recipientModule(env: ViewEnv, d: ActionDraft): string | undefined {
    if (d.recipient === 'assigned_user') return 'Users';
    if (d.recipient === 'number') return undefined;
    if (d.recipient === 'related') return env.flow && Object.hasOwn(env.flow.links, d.link) ? env.flow.links[d.link].module : undefined;
    return env.flow?.name;
  }

  async function actionView(env: ViewEnv, d: ActionDraft, lists: { templates: Array<[string, string]>; targetLists: Array<[string, string]>; recordTypes: Array<[string, string]> }) {
    const error = env.problems.rows[d.key];
    const view: Record<string, unknown> = {
      key: d.key, id: d.id, order: d.order, name: d.name, action: d.action,
      types: actionTypes(d.action),
      error: error?.message, invalidType: error?.field === 'action', invalidParams: Boolean(error) && error?.field !== 'action',
      extra: Object.keys(d.extra).length ? Buffer.from(JSON.stringify(d.extra), 'utf8').toString('base64') : '',
    };
    switch (d.action) {
      case 'ModifyRecord':
      case 'CreateRecord': {
        const target = d.action === 'CreateRecord' ? registry.modules.get(d.recordType) : env.flow;
        Object.assign(view, {
          isSetters: true, isCreate: d.action === 'CreateRecord', relate: d.relate,
          recordTypes: options([['', ''], ...lists.recordTypes], d.recordType),
          setters: d.fields.map((s) => setterView(env, target, s)),
          setterModule: target?.name ?? '',
          canAddField: d.fields.length < MAX_FIELD_ROWS && Boolean(target),
          addField: `add_field:${d.key}`,
        });
        break;
      }
      case 'SendSMS': {
        const module = recipientModule(env, d);
        const moduleDef = module ? registry.modules.get(module) : undefined;
        const links = env.flow ? Object.values(env.flow.links).filter((l) => RECIPIENT_MODULES.includes(l.module)).map((l): [string, string] => [l.name, `${label(env.flow!.name, String(env.flow!.fields[l.name]?.vname ?? l.name))} (${ui.moduleLabel(l.module)})`]) : [];
        const cannotReceive = d.recipient === 'record' && env.flow && !RECIPIENT_MODULES.includes(env.flow.name)
          ? `${ui.moduleLabel(env.flow.name)} records cannot receive SMS; send to their assigned user, a related record or a number.` : undefined;
        Object.assign(view, {
          isSms: true, cannotReceive,
          recipients: options(SMS_RECIPIENTS.map((r): [string, string] => [r, { record: `The ${env.flow ? ui.singular(env.flow.name) : 'record'} itself`, assigned_user: 'Its assigned user', related: 'A related record', number: 'A phone number' }[r]!]), d.recipient),
          isRelated: d.recipient === 'related', isNumber: d.recipient === 'number',
          links: options([['', ''], ...links], d.link),
          phoneFields: moduleDef ? options([['', `Default (${DEFAULT_PHONE_FIELD[moduleDef.name] ?? 'mobile'})`], ...phoneFields(moduleDef).map((f): [string, string] => [f, label(moduleDef.name, String(moduleDef.fields[f].vname ?? f))])], d.phoneField) : [],
          number: d.number,
          templates: options([['', '— write a message —'], ...lists.templates], d.templateId),
          text: d.text, textDisabled: Boolean(d.templateId),
          previewModule: module ?? '',
          preview: await smsPreview(env.ctx, d.templateId, d.text, module),
        });
        break;
      }
      case 'AddToTargetList':
      case 'RemoveFromTargetList':
        Object.assign(view, { isList: true, targetLists: options([['', ''], ...lists.targetLists], d.targetListId) });
        break;
      case 'Delay':
        Object.assign(view, { isDelay: true, amount: d.amount, units: options(DELAY_UNITS.map((u): [string, string] => [u, registry.dropdown('aow_date_type_list')?.[u] ?? u]), d.unit) });
        break;
      default: {
        const plugin = offer(d.action);
        if (!plugin) {
          Object.assign(view, { isRaw: true, raw: d.raw ?? '', rawLabel: actionLabel(d.action) });
          break;
        }
        const properties = offeredProperties(plugin.parameters);
        Object.assign(view, {
          isOffered: true, offerDescription: plugin.description, offerPlugin: plugin.pluginId,
          offerFields: properties.map((p) => {
            const value = d.custom[p.name] ?? (p.def.default === undefined ? '' : typeof p.def.default === 'object' ? JSON.stringify(p.def.default) : String(p.def.default));
            return {
              name: `${d.key}_p_${p.name}`, id: `wf-${d.key}_p_${p.name}`, label: p.def.title ?? p.name, description: p.def.description, required: p.required, value,
              isText: p.kind === 'text', isNumber: p.kind === 'number', isCheckbox: p.kind === 'checkbox', isSelect: p.kind === 'select', isJson: p.kind === 'json',
              checked: p.kind === 'checkbox' && value === '1',
              options: p.kind === 'select' ? options([['', ''], ...(p.def.enum ?? []).map((e): [string, string] => [String(e), String(e)])], value) : [],
            };
          }),
        });
      }
    }
    return view;
  }

  /** What ui.js needs to re-type a row's inputs without a round trip: the fields of each module a row can reach. */
  function schemaOf(env: ViewEnv, modules: Set<string>) {
    const dropdowns: Record<string, Array<[string, string]>> = {};
    const mods: Record<string, Array<[string, string, string, string]>> = {};
    for (const name of modules) {
      const m = registry.modules.get(name);
      if (!m) continue;
      mods[name] = fieldsOf(m).map((f) => {
        if (f.options && !dropdowns[f.options]) dropdowns[f.options] = dropdown(f.options).filter(([k]) => k !== '');
        return [f.name, f.label, f.kind, f.options ?? ''];
      });
    }
    const dl = dateLabels();
    return {
      flow: env.flow?.name ?? '',
      modules: mods,
      dropdowns,
      operators: dropdown('aow_operator_list'),
      conditionTypes: dropdown('aow_condition_type_list'),
      dateBases: dl.bases(env),
      dateOps: dl.ops,
      dateUnits: dl.units,
    };
  }

  async function pathOptions(ctx: Context, flow: ModuleDef | undefined): Promise<Opt[]> {
    if (!flow) return [];
    const list: Opt[] = [{ value: '', label: `This ${ui.singular(flow.name)}`, selected: false, module: flow.name }];
    const links = Object.values(flow.links).filter((l) => registry.modules.has(l.module) && !l.module.startsWith('AOW_'));
    const entries: Opt[] = [];
    for (const link of links) {
      if (!(await allowed(ctx, link.module, 'view'))) continue;
      entries.push({ value: link.name, label: `${label(flow.name, String(flow.fields[link.name]?.vname ?? link.name))} (${ui.moduleLabel(link.module)})`, selected: false, module: link.module });
    }
    return [...list, ...disambiguate(entries, (e) => e.value).sort((a, b) => a.label.localeCompare(b.label))];
  }

  async function choiceLists(ctx: Context) {
    const actor = ui.actor(ctx);
    const quiet = async (module: string, fields: string[]) => (await allowed(ctx, module, 'list'))
      ? (await engine.records.list(actor, module, { maxNum: 200, fields, orderBy: [{ field: 'name', direction: 'asc' }] })).records
      : [];
    const templates = await quiet('SMSTemplates', ['id', 'name', 'template_module', 'template_type']);
    const targetLists = await quiet('ProspectLists', ['id', 'name', 'list_type']);
    return {
      templates: templates.map((t): [string, string] => [t.id, `${String(t.name ?? t.id)}${t.template_module ? ` (${ui.moduleLabel(String(t.template_module))})` : ''}`]),
      targetLists: targetLists.map((l): [string, string] => [l.id, String(l.name ?? l.id)]),
      recordTypes: (await flowModules(ctx)).map((m): [string, string] => [m, ui.moduleLabel(m)]),
    };
  }

  interface RenderOptions {
    id?: string;
    stored?: RecordData;
    problems?: Problems;
    notice?: string;
    focus?: string;
    status?: number;
  }

  async function render(ctx: Context, draft: BuilderDraft, o: RenderOptions = {}) {
    const base = ui.base(ctx);
    const problems = o.problems ?? new Problems();
    const flow = registry.modules.get(draft.workflow.flow_module);
    const env: ViewEnv = { ctx, flow, flowFields: fieldsOf(flow), problems };
    const paths = await pathOptions(ctx, flow);
    const lists = await choiceLists(ctx);
    const modules = new Set<string>(paths.map((p) => p.module!).filter(Boolean));
    for (const a of draft.actions) if (a.action === 'CreateRecord' && registry.modules.has(a.recordType)) modules.add(a.recordType);
    for (const c of draft.conditions) { const m = moduleAt(registry, flow, c.path); if (m) modules.add(m.name); }
    const w = draft.workflow;
    const href = o.id ? `${base}/${WORKFLOW}/${encodeURIComponent(o.id)}/builder` : `${base}/${WORKFLOW}/builder/new`;
    const rowLinks = (kind: 'condition' | 'action', rows: Array<{ key: string; order: number }>) => rows.filter((r) => problems.rows[r.key]).map((r) => ({ href: `#${r.key}`, message: `${kind === 'condition' ? 'Condition' : 'Action'} ${r.order}: ${problems.rows[r.key].message.replace(/^(condition|action) \d+: /, '')}` }));
    const fieldLabels: Record<string, string> = { name: 'Name', flow_module: 'Module', flow_run_on: 'Run on', run_when: 'Run when', multiple_runs: 'Repeated runs', status: 'Status', description: 'Description' };
    const names = new Map<string, string>([...lists.targetLists, ...lists.templates].map(([value, text]) => [value, text]));
    const conditionLabels = new Map(draft.conditions.map((c) => {
      const subject = moduleAt(registry, flow, c.path);
      const fieldLabel = fieldsOf(subject).find((f) => f.name === c.field)?.label ?? c.field;
      const via = c.path.length ? `${paths.find((p) => p.value === c.path.join('/'))?.label ?? c.path.join('/')}: ` : '';
      return [c.order, `${via}${fieldLabel}`];
    }));
    const test = o.id ? await testSection(ctx, o.id, o.stored, href, { names, conditionLabels: o.stored ? conditionLabels : new Map() }) : undefined;
    await ui.render(ctx, 'workflow-builder', {
      title: o.id ? `Workflow builder: ${o.stored?.name ?? w.name}` : 'New workflow',
      moduleName: WORKFLOW,
      listHref: `${base}/${WORKFLOW}`,
      detailHref: o.id ? `${base}/${WORKFLOW}/${encodeURIComponent(o.id)}` : undefined,
      action: href,
      isNew: !o.id,
      focus: o.focus ?? '',
      dateModified: draft.dateModified,
      storedStatus: o.stored ? (o.stored.status === 'Active' ? 'Active' : 'Inactive') : undefined,
      isActive: o.stored?.status === 'Active',
      statusAction: o.id ? `${href}/status` : undefined,
      notice: o.notice,
      problems: [
        ...problems.general.map((message) => ({ message })),
        ...Object.entries(problems.workflow).map(([field, message]) => ({ href: `#wf-${field}`, message: `${fieldLabels[field] ?? field}: ${message}` })),
        ...rowLinks('condition', draft.conditions),
        ...rowLinks('action', draft.actions),
      ],
      workflow: {
        name: w.name,
        description: w.description,
        multipleRuns: w.multiple_runs,
        flowModules: [{ value: '', label: '', selected: !w.flow_module }, ...options((await flowModules(ctx)).map((m) => [m, ui.moduleLabel(m)]), w.flow_module)],
        runOn: options(dropdown('aow_run_on_list').filter(([k]) => k !== '0' || w.flow_run_on === '0'), w.flow_run_on),
        runWhen: options(dropdown('aow_run_when_list'), w.run_when),
        statuses: options(dropdown('aow_status_list'), w.status),
        errors: problems.workflow,
      },
      hasModule: Boolean(flow),
      flowLabel: flow ? ui.singular(flow.name) : '',
      conditions: draft.conditions.map((c) => conditionView(env, c, paths)),
      actions: await Promise.all(draft.actions.map((a) => actionView(env, a, lists))),
      removedConditions: draft.removedConditions,
      removedActions: draft.removedActions,
      canAddCondition: Boolean(flow) && draft.conditions.length < MAX_ROWS,
      canAddAction: Boolean(flow) && draft.actions.length < MAX_ROWS,
      schema: flow ? JSON.stringify(schemaOf(env, modules)) : '',
      previewUrl: `${base}/${WORKFLOW}/builder/sms-preview`,
      test,
    }, o.status ?? 200);
  }

  // ---------------------------------------------------------------- test on a record

  /** `labels`: names of target lists and templates (the plugin speaks in ids) and of the conditions' fields, by order. */
  async function testSection(ctx: Context, id: string, stored: RecordData | undefined, href: string, labels: { names: Map<string, string>; conditionLabels: Map<number, string> }) {
    const module = String(stored?.flow_module ?? '');
    const section: Record<string, unknown> = { action: `${href}#test`, module, moduleLabel: module ? ui.singular(module) : 'record', name: typeof ctx.query.test_name === 'string' ? ctx.query.test_name.slice(0, 100) : '' };
    const plugins = ui.services.plugins;
    if (typeof plugins?.callPlugin !== 'function') return { ...section, unavailable: 'Testing needs the workflows plugin, which is not running in this Cane.' };
    const wanted = typeof ctx.query.test_record === 'string' && ctx.query.test_record ? ctx.query.test_record.slice(0, 36) : '';
    const name = String(section.name ?? '').trim();
    if (!wanted && !name) return section;
    if (!registry.modules.has(module)) return { ...section, message: 'Choose the workflow\'s module and save it first.' };
    const actor = ui.actor(ctx);
    let record: RecordData | undefined;
    // the user must be able to see the record: the plugin reads with its own permissions
    const byId = async (recordId: string) => engine.records.retrieve(actor, module, recordId).catch((err) => {
      if (err instanceof NotFoundError || err instanceof AccessDeniedError) return undefined;
      throw err;
    });
    if (wanted) record = await byId(wanted);
    else {
      record = /^[\w.-]{1,36}$/.test(name) ? await byId(name) : undefined;
      if (!record) {
        const field = registry.module(module).fields.name ? 'name' : 'id';
        const matches = (await engine.records.list(actor, module, { filter: [{ [field]: { $starts: name } }], maxNum: 2, fields: ['id', 'name'] })).records;
        if (matches.length > 1) return { ...section, message: `More than one ${ui.singular(module)} starts with "${name}"; type more of the name.` };
        record = matches[0];
      }
    }
    if (!record) return { ...section, message: `No ${ui.singular(module)} found for "${wanted || name}".` };
    const recordName = String(record.name ?? record.id);
    const answer = await plugins.callPlugin(PLUGIN_ID, 'dryRun', { workflowId: id, recordId: record.id });
    const base = { ...section, name: recordName, recordId: record.id, recordName, recordHref: `${ui.base(ctx)}/${module}/${encodeURIComponent(record.id)}` };
    if (!answer.ok) return { ...base, failed: /offers no call|is not loaded/.test(answer.error) ? `Testing needs the workflows plugin: ${answer.error}` : answer.error };
    const value = (answer.value ?? {}) as Partial<DryRunResult>;
    const named = (text: string) => text.replace(/[\w-]{8,36}/g, (token) => (labels.names.has(token) ? `“${labels.names.get(token)}”` : token));
    const conditions = Array.isArray(value.conditions) ? value.conditions : [];
    const actions = Array.isArray(value.actions) ? value.actions : [];
    return {
      ...base,
      result: {
        conditions: conditions.map((c) => ({ order: Number(c.order), field: labels.conditionLabels.get(Number(c.order)) ?? String(c.field ?? ''), holds: c.holds === true, detail: String(c.detail ?? '') })),
        actions: actions.map((a) => ({ order: Number(a.order), action: actionLabel(String(a.action ?? '')), would: named(String(a.would ?? '')) })),
        allHold: conditions.every((c) => c.holds === true),
        error: value.error ? String(value.error) : undefined,
      },
    };
  }

  // ---------------------------------------------------------------- saving

  function veto(problems: Problems, err: HookVeto | ValidationError, fallback: { kind: 'condition' | 'action'; key: string }, draft: BuilderDraft) {
    if (err instanceof ValidationError) {
      problems.rows[fallback.key] = { message: err.problems.map((p) => `${p.field} ${p.message}`).join('; '), field: err.problems[0]?.field };
      return;
    }
    const named = rowNamedIn(err.message);
    const rows = named?.kind === 'condition' ? draft.conditions : named?.kind === 'action' ? draft.actions : undefined;
    const row = rows?.find((r) => r.order === named!.order);
    problems.rows[row?.key ?? fallback.key] = { message: err.message, field: err.field };
  }

  interface Planned<R> { d: { key: string; id?: string }; row: R; stored?: Record<string, unknown>; changes: Partial<R> }

  async function save(ctx: Context, id: string | undefined, submitted: BuilderDraft) {
    const actor = ui.actor(ctx);
    const records = engine.records;
    const draft = renumber(submitted);
    const problems = new Problems();
    const w = draft.workflow;
    let stored = id ? (await load(ctx, id)).record : undefined;
    const again = (status = 422, extra: Partial<RenderOptions> = {}) => render(ctx, draft, { id, stored, problems, status, ...extra });

    // ---- what the page itself can tell
    if (!w.name.trim()) problems.workflow.name = 'a workflow needs a name';
    if (!w.flow_module || !(await flowModules(ctx)).includes(w.flow_module)) problems.workflow.flow_module = 'choose the module the workflow runs on';
    if (!(await allowed(ctx, 'AOW_Conditions', 'edit')) || !(await allowed(ctx, 'AOW_Actions', 'edit'))) problems.general.push('You may not edit workflow conditions and actions; nothing was saved.');
    if (problems.any) return again();
    const flow = registry.module(w.flow_module);
    const env: StorageEnv = { registry, flow, timeZone: await timeZoneOf(ctx), offered };

    // ---- what to write
    const storedRows = async (module: string) => id
      ? new Map((await records.list(actor, module, { filter: [{ aow_workflow_id: id }], maxNum: MAX_ROWS * 4 })).records.map((r) => [r.id, r as Record<string, unknown>]))
      : new Map<string, Record<string, unknown>>();
    const storedConditions = await storedRows('AOW_Conditions');
    const storedActions = await storedRows('AOW_Actions');
    const plan = <D extends { key: string; id?: string }, R extends object>(rows: D[], build: (d: D) => R, storedMap: Map<string, Record<string, unknown>>): Array<Planned<R>> => rows.map((d) => {
      const row = build(d);
      const before = d.id ? storedMap.get(d.id) : undefined;
      if (d.id && !before) problems.rows[d.key] = { message: 'this row is no longer part of the workflow (someone removed it); remove it here or reload the builder' };
      let changes = before ? changedColumns(before, row) : row;
      if (before && 'module_path' in changes && pathOf(before.module_path, flow.name).join('/') === pathOf((row as { module_path?: string }).module_path, flow.name).join('/')) {
        const { module_path: _same, ...rest } = changes as Record<string, unknown>;
        changes = rest as Partial<R>;
      }
      return { d, row, stored: before, changes };
    });
    const conditions = plan(draft.conditions, (d) => conditionRow(env, d), storedConditions);
    const actions = plan(draft.actions, (d) => actionRow(env, d, actionLabel), storedActions);
    const removed = {
      conditions: draft.removedConditions.filter((r) => storedConditions.has(r)),
      actions: draft.removedActions.filter((r) => storedActions.has(r)),
    };
    if (removed.conditions.length && !(await allowed(ctx, 'AOW_Conditions', 'delete'))) problems.general.push('You may not delete workflow conditions; nothing was saved.');
    if (removed.actions.length && !(await allowed(ctx, 'AOW_Actions', 'delete'))) problems.general.push('You may not delete workflow actions; nothing was saved.');
    if (problems.any) return again();

    const moduleChanged = !stored || stored.flow_module !== flow.name;
    /** The rows' own checks (workflow-rows.ts), run without writing; every refusal goes beside its row. */
    const dryRun = async (workflowId: string) => {
      const run = async <R extends object>(module: string, items: Array<Planned<R>>, kind: 'condition' | 'action') => {
        const hooks = (checks[module] ?? []) as HookDefinition<'before_save'>[];
        for (const item of items) {
          if (!moduleChanged && item.stored && Object.keys(item.changes).length === 0) continue;
          const def = registry.module(module);
          const bean = makeBean(module, def.objectName, { ...(item.stored ?? {}), ...item.row, id: item.d.id ?? 'new', aow_workflow_id: workflowId }, item.stored ?? null);
          try {
            for (const hook of hooks) await hook.handler(bean, 'before_save', { check_notify: false, isUpdate: Boolean(item.stored), submitted: Object.keys(item.row) });
          } catch (err) {
            if (err instanceof HookVeto) veto(problems, err, { kind, key: item.d.key }, draft);
            else throw err;
          }
        }
      };
      await run('AOW_Conditions', conditions, 'condition');
      await run('AOW_Actions', actions, 'action');
    };

    if (stored && !moduleChanged) {
      await dryRun(stored.id);
      if (problems.any) return again();
    }

    // ---- writing, with a journal to undo it
    const undo: Array<{ what: string; run: () => Promise<unknown> }> = [];
    let workflowId = id;
    const wanted = { name: w.name.trim(), flow_module: flow.name, flow_run_on: w.flow_run_on, run_when: w.run_when, multiple_runs: w.multiple_runs, description: w.description };
    const finalStatus = w.status;
    const rollBack = async () => {
      const failed: string[] = [];
      for (const step of undo.reverse()) await step.run().catch((err: Error) => failed.push(`${step.what}: ${err.message}`));
      if (failed.length) {
        ui.services.log.error({ workflow: workflowId, failed }, 'workflow builder: could not undo a refused save');
        problems.general.push(`Some of this save could not be undone (${failed.join('; ')}). Check the workflow before activating it.`);
      }
      // putting the workflow back moved its date_modified: the form goes on from the record as it is now
      if (stored) {
        stored = await records.retrieve(actor, WORKFLOW, stored.id);
        draft.dateModified = String(stored.date_modified ?? '');
      }
    };
    try {
      if (!stored) {
        const created = await records.create(actor, WORKFLOW, { ...wanted, status: 'Inactive' });
        workflowId = created.id;
        undo.push({ what: 'delete the new workflow', run: () => records.delete(actor, WORKFLOW, created.id) });
      } else {
        const before = stored;
        const previous = Object.fromEntries(Object.keys(wanted).map((k) => [k, before[k]])) as Record<string, unknown>;
        const changes = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => String(v ?? '') !== String(before[k] ?? ''))) as Record<string, unknown>;
        // rows are checked against the stored module, and a half-changed workflow must not run
        if (moduleChanged && before.status === 'Active') changes.status = 'Inactive';
        if (Object.keys(changes).length) {
          await records.update(actor, WORKFLOW, before.id, changes, { expectedDateModified: draft.dateModified ? parseDateTime(draft.dateModified) ?? draft.dateModified : undefined });
          undo.push({ what: 'put the workflow back', run: () => records.update(actor, WORKFLOW, before.id, { ...previous, status: before.status }) });
        }
      }
    } catch (err) {
      if (err instanceof ValidationError) for (const p of err.problems) problems.workflow[p.field] = p.message;
      else if (err instanceof HookVeto) (err.field ? (problems.workflow[err.field] = err.message) : problems.general.push(err.message));
      else if (err instanceof ConflictError) problems.general.push(`${err.message}. Reload the builder to see the changes; nothing was saved.`);
      else throw err;
      await rollBack();
      return again(err instanceof ConflictError ? 409 : 422);
    }

    if (moduleChanged) {
      await dryRun(workflowId!);
      if (problems.any) {
        await rollBack();
        return again();
      }
    }

    let current: { kind: 'condition' | 'action'; key: string } = { kind: 'condition', key: '' };
    try {
      for (const [module, ids] of [['AOW_Conditions', removed.conditions], ['AOW_Actions', removed.actions]] as const) {
        for (const rowId of ids) {
          await records.delete(actor, module, rowId);
          undo.push({ what: `restore ${module} ${rowId}`, run: () => records.restore(actor, module, rowId) });
        }
      }
      const write = async <R extends object>(module: string, items: Array<Planned<R>>, kind: 'condition' | 'action') => {
        for (const item of items) {
          current = { kind, key: item.d.key };
          if (!item.stored) {
            const created = await records.create(actor, module, { ...item.row, aow_workflow_id: workflowId });
            undo.push({ what: `delete the new ${kind}`, run: () => records.delete(actor, module, created.id) });
          } else if (Object.keys(item.changes).length) {
            const previous = Object.fromEntries(Object.keys(item.changes).map((k) => [k, item.stored![k]]));
            await records.update(actor, module, item.d.id!, item.changes as Record<string, unknown>);
            undo.push({ what: `put ${kind} ${item.d.key.slice(1)} back`, run: () => records.update(actor, module, item.d.id!, previous) });
          }
        }
      };
      await write('AOW_Conditions', conditions, 'condition');
      await write('AOW_Actions', actions, 'action');
      const now = await records.retrieve(actor, WORKFLOW, workflowId!, { fields: ['id', 'status'] });
      if (now.status !== finalStatus) await records.update(actor, WORKFLOW, workflowId!, { status: finalStatus });
    } catch (err) {
      if (err instanceof HookVeto || err instanceof ValidationError) veto(problems, err, current, draft);
      else if (err instanceof AccessDeniedError) problems.general.push(`${err.message}. Nothing was saved.`);
      else {
        await rollBack();
        throw err;
      }
      await rollBack();
      return again();
    }
    ctx.redirect(`${ui.base(ctx)}/${WORKFLOW}/${encodeURIComponent(workflowId!)}/builder?notice=${encodeURIComponent(stored ? 'Workflow saved.' : 'Workflow created.')}`);
  }

  // ---------------------------------------------------------------- routes

  /** Applies the buttons that change the form without saving: add a row or a field, update the choices. */
  function applyOp(draft: BuilderDraft, op: string): { draft: BuilderDraft; focus?: string } {
    const next = renumber(draft);
    if (op === 'add_condition' && next.conditions.length < MAX_ROWS) {
      const key = `c${next.conditions.length + 1}`;
      next.conditions.push(emptyCondition(key, next.conditions.length + 1));
      return { draft: next, focus: `${key}_path` };
    }
    if (op === 'add_action' && next.actions.length < MAX_ROWS) {
      const key = `a${next.actions.length + 1}`;
      next.actions.push(emptyAction(key, next.actions.length + 1, 'SendSMS'));
      return { draft: next, focus: `${key}_action` };
    }
    const add = /^add_field:(a\d+)$/.exec(op);
    if (add) {
      // the submitted key before renumbering: find the row by its position among the rows kept
      const kept = draft.actions.filter((a) => !a.remove);
      const index = kept.findIndex((a) => a.key === add[1]);
      const row = index >= 0 ? next.actions[index] : undefined;
      if (row && row.fields.length < MAX_FIELD_ROWS) {
        const key = `${row.key}_f${row.fields.length + 1}`;
        row.fields.push(emptySetter(key));
        return { draft: next, focus: `${key}_field` };
      }
    }
    return { draft: next };
  }

  async function editable(ctx: Context) {
    await acl.check(ui.actor(ctx), registry.module(WORKFLOW), 'edit');
  }

  async function checkedForm(ctx: Context) {
    const form = await readFormData(ctx, ui.services.bodyLimit);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token; nothing was changed. Reload the page and try again.', 403);
    return form;
  }

  const notice = (ctx: Context) => (typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 200) : undefined);

  router.get(`/${WORKFLOW}/builder/new`, async (ctx) => {
    await editable(ctx);
    await render(ctx, newDraft(ctx.query));
  });

  router.get(`/${WORKFLOW}/:id/builder`, async (ctx) => {
    const { record, draft } = await load(ctx, ctx.params.id);
    await render(ctx, draft, { id: record.id, stored: record, notice: notice(ctx) });
  });

  const post = (isNew: boolean) => async (ctx: Context) => {
    await editable(ctx);
    const form = await checkedForm(ctx);
    const id = isNew ? undefined : ctx.params.id;
    const draft = readBuilderForm(form);
    const op = form.get('_op') ?? 'save';
    if (op === 'save') return save(ctx, id, draft);
    const stored = id ? (await load(ctx, id)).record : undefined;
    const applied = applyOp(draft, op);
    await render(ctx, applied.draft, { id, stored, focus: applied.focus ?? (form.get('_focus') ?? '').slice(0, 100) });
  };
  router.post(`/${WORKFLOW}/builder/new`, post(true));
  router.post(`/${WORKFLOW}/:id/builder`, post(false));

  router.post(`/${WORKFLOW}/:id/builder/status`, async (ctx) => {
    const form = await checkedForm(ctx);
    const status = form.get('status') === 'Active' ? 'Active' : 'Inactive';
    const record = await engine.records.retrieve(ui.actor(ctx), WORKFLOW, ctx.params.id);
    await acl.check(ui.actor(ctx), registry.module(WORKFLOW), 'edit', record);
    await engine.records.update(ui.actor(ctx), WORKFLOW, record.id, { status });
    ctx.redirect(`${ui.base(ctx)}/${WORKFLOW}/${encodeURIComponent(record.id)}/builder?notice=${encodeURIComponent(status === 'Active' ? 'Workflow activated.' : 'Workflow deactivated.')}`);
  });

  /** The SendSMS preview for ui.js: the text (or template), its segment count and the fields the recipient lacks. */
  router.post(`/${WORKFLOW}/builder/sms-preview`, async (ctx) => {
    const body = (await readJson(ctx, ui.services.bodyLimit)) as Record<string, unknown>;
    if (!ui.sessions.checkCsrf(ctx, typeof body?.csrf === 'string' ? body.csrf : undefined)) throw new CaneError('invalid_parameter', 'No valid security token', 403);
    await editable(ctx);
    const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
    const module = str(body.module, 100);
    ctx.body = await smsPreview(ctx, str(body.template_id, 36), str(body.text, 20_000), registry.modules.has(module) ? module : undefined);
  });
}
