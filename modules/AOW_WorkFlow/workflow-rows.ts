import type { Database } from '../../core/db/connection';
import { HookVeto } from '../../core/errors';
import type { HookDefinition } from '../../core/hooks/types';
import { valueKind } from '../../core/metadata/field-types';
import type { ModuleDef, Registry } from '../../core/metadata/registry';
import { decodePhpValue, phpList } from './php-values';
import { BUILT_IN_WORKFLOW_ACTIONS, WorkflowActionRegistry } from '../../core/plugins/workflow-actions';

/**
 * Workflow rows are checked when they are saved, as the workflow builder would, so a workflow
 * never fails at run time for a mistake its author could have been told about: each condition and
 * action names its row (condition 2, action 1) and the field that is wrong.
 */

const TEXT_OPERATORS = new Set(['Contains', 'Starts_With', 'Ends_With']);
const ORDER_OPERATORS = new Set(['Greater_Than', 'Less_Than', 'Greater_Than_or_Equal_To', 'Less_Than_or_Equal_To']);
const DATE_UNITS = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);
/** Ten years of minutes: beyond it a date offset is a typo, not a plan. */
const MAX_DATE_AMOUNT = 5_256_000;

/** The longest a Delay may wait: a year. */
const MAX_DELAY_MINUTES = 525_600;
const DELAY_MINUTES: Record<string, number> = { minute: 1, hour: 60, day: 1440, week: 10080, business_hours: 252 }; // a year of business hours is about 2,080
const RECIPIENTS = new Set(['record', 'assigned_user', 'related', 'number']);

async function flowModule(db: Database, registry: Registry, workflowId: unknown, row: string): Promise<ModuleDef> {
  const flow = typeof workflowId === 'string' && workflowId ? await db.knex('aow_workflow').where({ id: workflowId, deleted: 0 }).first('flow_module') : undefined;
  if (!flow) throw new HookVeto(`${row}: no workflow with id '${String(workflowId ?? '')}'`, 'aow_workflow_id');
  if (!registry.modules.has(flow.flow_module)) throw new HookVeto(`${row}: the workflow's module '${flow.flow_module}' is not installed`, 'aow_workflow_id');
  return registry.module(flow.flow_module);
}

function fieldOf(module: ModuleDef, name: unknown, row: string, field: string) {
  const def = typeof name === 'string' && Object.hasOwn(module.fields, name) ? module.fields[name] : undefined;
  if (!def || def.type === 'link') throw new HookVeto(`${row}: ${module.name} has no field '${String(name ?? '')}'`, field);
  return def;
}

/** The module a condition's module_path reaches from the workflow's module. */
function pathEnd(registry: Registry, start: ModuleDef, modulePath: unknown, row: string): ModuleDef {
  if (modulePath === null || modulePath === undefined || modulePath === '') return start;
  const decoded = decodePhpValue(modulePath);
  if (decoded === undefined) throw new HookVeto(`${row}: module_path is not a serialized list of links`, 'module_path');
  let links = phpList(decoded).map(String);
  if (links[0] === start.name) links = links.slice(1);
  let module = start;
  for (const link of links) {
    if (!Object.hasOwn(module.links, link)) throw new HookVeto(`${row}: ${module.name} has no link '${link}' (module_path)`, 'module_path');
    module = registry.module(module.links[link].module);
  }
  return module;
}

/** SuiteCRM's date value: [base ('now', 'today' or a field), operator ('now', 'plus', 'minus'), amount, unit]. */
function checkDateValue(parts: unknown[], module: ModuleDef, row: string, field: string) {
  if (parts.length < 2) throw new HookVeto(`${row}: a date value is [base, operator, amount, unit] serialized`, field);
  const [base, operator, amount, unit] = parts.map((p) => (p === null || p === undefined ? '' : String(p)));
  if (base !== 'now' && base !== 'today') fieldOf(module, base, row, field);
  if (!['now', 'plus', 'minus'].includes(operator)) throw new HookVeto(`${row}: date operator '${operator}' is not now, plus or minus`, field);
  if (operator === 'now') return;
  const n = Number(amount);
  if (!Number.isFinite(n) || n < 0 || n > MAX_DATE_AMOUNT || !Number.isInteger(n)) throw new HookVeto(`${row}: date amount '${amount}' must be a whole number from 0 to ${MAX_DATE_AMOUNT}`, field);
  if (unit === 'business_hours' && operator === 'minus') throw new HookVeto(`${row}: a date before a number of business hours is not available; use hours`, field);
  if (!DATE_UNITS.has(unit) && unit !== 'business_hours') throw new HookVeto(`${row}: date unit '${unit}' is not one of ${[...DATE_UNITS].join(', ')}`, field);
}

function checkCondition(registry: Registry, flow: ModuleDef, bean: Record<string, unknown>) {
  const row = `condition ${bean.condition_order ?? '?'}`;
  const subject = pathEnd(registry, flow, bean.module_path, row);
  const field = fieldOf(subject, bean.field, row, 'field');
  const kind = valueKind(field);
  const operator = String(bean.operator ?? '');
  if (TEXT_OPERATORS.has(operator) && !['string', 'text', 'enum'].includes(kind)) throw new HookVeto(`${row}: '${operator}' does not apply to ${subject.name}.${String(bean.field)} (a ${field.type} field)`, 'operator');
  if (ORDER_OPERATORS.has(operator) && !['int', 'float', 'decimal', 'date', 'datetime', 'time', 'string'].includes(kind)) throw new HookVeto(`${row}: '${operator}' does not apply to ${subject.name}.${String(bean.field)} (a ${field.type} field)`, 'operator');
  switch (bean.value_type) {
    case 'Field': fieldOf(flow, bean.value, row, 'value'); break;
    case 'Date':
      if (kind !== 'date' && kind !== 'datetime') throw new HookVeto(`${row}: a Date value needs a date field; ${subject.name}.${String(bean.field)} is ${field.type}`, 'value_type');
      checkDateValue(phpList(decodePhpValue(bean.value)), flow, row, 'value');
      break;
    case 'Value': {
      const options = field.options ? registry.dropdown(field.options) : undefined;
      if (options && operator !== 'is_null' && kind === 'enum' && !Object.hasOwn(options, String(bean.value ?? ''))) throw new HookVeto(`${row}: '${String(bean.value ?? '')}' is not an option of ${subject.name}.${String(bean.field)}`, 'value');
      break;
    }
    case 'SecurityGroup': throw new HookVeto(`${row}: security group conditions are not available in Cane`, 'value_type');
    default: break;
  }
}

async function checkAction(db: Database, registry: Registry, offered: WorkflowActionRegistry, flow: ModuleDef, bean: Record<string, unknown>) {
  const row = `action ${bean.action_order ?? '?'}`;
  const action = String(bean.action ?? '');
  const offer = offered.get(action);
  const known = [...BUILT_IN_WORKFLOW_ACTIONS, ...offered.list().map((o) => o.name)];
  if (!BUILT_IN_WORKFLOW_ACTIONS.includes(action) && !offer) throw new HookVeto(`${row}: the action '${action}' is not available in Cane (${known.join(', ')})`, 'action');
  const params = decodePhpValue(bean.parameters) ?? (bean.parameters ? undefined : {});
  if (params === undefined || typeof params !== 'object' || params === null) throw new HookVeto(`${row}: parameters are not a serialized PHP array`, 'parameters');
  if (offer) {
    const problem = offered.problem(offer, params);
    if (problem) throw new HookVeto(`${row}: ${action}: ${problem}`, 'parameters');
    return;
  }
  const p = params as Record<string, unknown>;
  const fieldValues = (module: ModuleDef) => {
    const fields = phpList(p.field);
    const values = phpList(p.value);
    const types = phpList(p.value_type);
    fields.forEach((name, i) => {
      fieldOf(module, name, row, 'parameters');
      const type = String(types[i] ?? 'Value');
      if (type === 'Field') fieldOf(flow, values[i], row, 'parameters');
      else if (type === 'Date') checkDateValue(phpList(values[i]), flow, row, 'parameters');
      else if (type !== 'Value') throw new HookVeto(`${row}: value type '${type}' for ${String(name)} is not available in Cane`, 'parameters');
    });
  };
  switch (action) {
    case 'ModifyRecord': fieldValues(flow); break;
    case 'CreateRecord': {
      const type = String(p.record_type ?? '');
      if (!registry.modules.has(type)) throw new HookVeto(`${row}: record_type '${type}' is not a module`, 'parameters');
      fieldValues(registry.module(type));
      break;
    }
    case 'SendSMS': {
      if (!p.template_id && !p.text) throw new HookVeto(`${row}: SendSMS needs a template or a text`, 'parameters');
      if (p.template_id && !(await db.knex('sms_templates').where({ id: String(p.template_id), deleted: 0 }).first('id'))) throw new HookVeto(`${row}: no SMS template with id '${String(p.template_id)}'`, 'parameters');
      const recipient = String(p.recipient ?? 'record');
      if (!RECIPIENTS.has(recipient)) throw new HookVeto(`${row}: SMS recipient '${recipient}' is not one of ${[...RECIPIENTS].join(', ')}`, 'parameters');
      if (recipient === 'number' && !String(p.number ?? '').trim()) throw new HookVeto(`${row}: SendSMS to a number needs the number`, 'parameters');
      if (recipient === 'related' && !Object.hasOwn(flow.links, String(p.link ?? ''))) throw new HookVeto(`${row}: ${flow.name} has no link '${String(p.link ?? '')}'`, 'parameters');
      break;
    }
    case 'Delay': {
      const unit = String(p.unit ?? '');
      if (!Object.hasOwn(DELAY_MINUTES, unit)) throw new HookVeto(`${row}: delay unit '${unit}' is not one of ${Object.keys(DELAY_MINUTES).join(', ')}`, 'parameters');
      const amount = Number(p.amount);
      if (!Number.isInteger(amount) || amount < 1 || amount * DELAY_MINUTES[unit] > MAX_DELAY_MINUTES) throw new HookVeto(`${row}: a delay is a whole number of ${unit === 'business_hours' ? 'business hours' : `${unit}s`} from 1 up to a year, not '${String(p.amount ?? '')}'`, 'parameters');
      break;
    }
    default: {
      const list = String(p.target_list_id ?? '');
      if (!list || !(await db.knex('prospect_lists').where({ id: list, deleted: 0 }).first('id'))) throw new HookVeto(`${row}: no target list with id '${list}'`, 'parameters');
    }
  }
}

export function workflowRowHooks(registry: Registry, db: Database, offered: WorkflowActionRegistry = new WorkflowActionRegistry()): Record<string, HookDefinition[]> {
  return {
    AOW_Conditions: [{
      event: 'before_save', order: 1, label: 'Check the condition against the workflow module',
      handler: async (bean) => checkCondition(registry, await flowModule(db, registry, bean.aow_workflow_id, `condition ${bean.condition_order ?? '?'}`), bean),
    } satisfies HookDefinition<'before_save'> as HookDefinition],
    AOW_Actions: [{
      event: 'before_save', order: 1, label: 'Check the action and its parameters',
      handler: async (bean) => checkAction(db, registry, offered, await flowModule(db, registry, bean.aow_workflow_id, `action ${bean.action_order ?? '?'}`), bean),
    } satisfies HookDefinition<'before_save'> as HookDefinition],
  };
}
