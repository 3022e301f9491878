// The built-in workflow engine, written like a third-party plugin: it only uses ctx.
// It reads workflows stored as SuiteCRM stores them (AOW_* modules; parameters, module paths and
// some condition values as base64 of PHP serialize, read and written with ctx.php) and runs them
// on every saved record, as SuiteCRM's after_save hook AOW_WorkFlow::run_bean_flows does.
//
// Ordered delivery: one saved record at a time in commit order, so "run once per record"
// (multiple_runs off) is checked and recorded without races. A redelivered event repeats no action:
// the host remembers each action's call under the delivery, and SMS carry the event id as their
// idempotency key.

const SELF = 'plugin:org.cane.workflows';
/** Sugar's max_logic_depth, across workflows: a change made at this depth of workflow-made changes runs no more actions. */
const MAX_DEPTH = 10;
const MAX = 200;

const find = (ctx, module, filter, orderBy) => ctx.crm.records.find(module, { filter, maxNum: MAX, orderBy });

/** Active workflows of a module that run on save. */
function flowsFor(ctx, module) {
  return find(ctx, 'AOW_WorkFlow', [{ flow_module: module }, { status: 'Active' }, { run_when: { $in: ['Always', 'On_Save'] } }], [{ field: 'date_entered', direction: 'asc' }]);
}

/** SuiteCRM's flow_run_on: All_Records (or '0', its default), New_Records, Modified_Records. */
function runsOn(flow, event) {
  const r = event.record;
  if (flow.flow_run_on === 'New_Records') return !event.isUpdate && String(r.date_entered || '') >= String(flow.date_entered || '');
  if (flow.flow_run_on === 'Modified_Records') return event.isUpdate && String(r.date_modified || '') >= String(flow.date_entered || '');
  return true;
}

// ---------------------------------------------------------------- values and dates

const empty = (v) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
const numeric = (v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)));

function pad(n) { return String(n).padStart(2, '0'); }
function dbDateTime(d) {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
function parseDb(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(String(text || ''));
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0))) : null;
}

const UNIT_MS = { minute: 60e3, hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };

/** The business calendar from the plugin's settings (Mon–Fri 09:00–17:00 UTC by default). */
function calendar(ctx) {
  const s = ctx.settings || {};
  const minutes = (hhmm) => { const [h, m] = String(hhmm).split(':').map(Number); return h * 60 + m; };
  const cal = { days: s.business_days || [1, 2, 3, 4, 5], start: minutes(s.business_start || '09:00'), end: minutes(s.business_end || '17:00'), zone: s.business_timezone || 'UTC' };
  if (!(cal.end > cal.start)) throw new Error('the business day must end after it starts (settings business_start, business_end)');
  return cal;
}

const WEEKDAYS = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function localTime(at, zone) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type) => parts.find((p) => p.type === type).value;
  return { weekday: WEEKDAYS[get('weekday')], minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/**
 * `hours` of business time after `start`: time outside the calendar's days and hours does not
 * count (a step across a daylight-saving change is off by that hour).
 */
function addBusinessHours(ctx, start, hours) {
  const cal = calendar(ctx);
  let t = start.getTime();
  let left = Math.round(hours * 60);
  for (let guard = 0; left > 0 && guard < 5000; guard++) {
    const { weekday, minute } = localTime(new Date(t), cal.zone);
    if (cal.days.includes(weekday) && minute >= cal.start && minute < cal.end) {
      const use = Math.min(left, cal.end - minute);
      t += use * 60e3;
      left -= use;
      continue;
    }
    let wait;
    if (cal.days.includes(weekday) && minute < cal.start) wait = cal.start - minute;
    else {
      let d = 1;
      while (!cal.days.includes((weekday + d) % 7) && d < 8) d++;
      wait = 1440 - minute + (d - 1) * 1440 + cal.start;
    }
    t += wait * 60e3;
  }
  return new Date(t);
}

/** SuiteCRM's date value: [base ('now', 'today' or a field), operator ('plus', 'minus', 'now'), amount, unit]. */
function dateFrom(ctx, parts, record) {
  const [base, operator, amount, unit] = Array.isArray(parts) ? parts : Object.values(parts || {});
  let start;
  if (base === 'now') start = ctx.now();
  else if (base === 'today') { const n = ctx.now(); start = new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate())); }
  else start = parseDb(record[base]);
  if (!start) return null;
  if (operator !== 'plus' && operator !== 'minus') return start;
  const sign = operator === 'minus' ? -1 : 1;
  const n = Number(amount) || 0;
  if (unit === 'month' || unit === 'year') {
    const d = new Date(start);
    d.setUTCMonth(d.getUTCMonth() + sign * n * (unit === 'year' ? 12 : 1));
    return d;
  }
  if (unit === 'business_hours') {
    if (sign < 0) throw new Error('a date before a number of business hours is not available; use hours');
    return addBusinessHours(ctx, start, n);
  }
  if (!UNIT_MS[unit]) throw new Error(`unknown date unit '${unit}'`);
  return new Date(start.getTime() + sign * n * UNIT_MS[unit]);
}

/** SuiteCRM's operators, comparing numbers as numbers, dates and text as text. */
function compare(operator, actual, expected) {
  // Yes/No fields come as booleans; SuiteCRM stores their condition values as '1' and '0'.
  if (typeof actual === 'boolean') actual = actual ? '1' : '0';
  const a = actual === null || actual === undefined ? '' : actual;
  const b = expected === null || expected === undefined ? '' : expected;
  const both = numeric(a) && numeric(b);
  const x = both ? Number(a) : String(a);
  const y = both ? Number(b) : String(b);
  switch (operator) {
    case 'Equal_To': return both ? x === y : String(a).toLowerCase() === String(b).toLowerCase();
    case 'Not_Equal_To': return both ? x !== y : String(a).toLowerCase() !== String(b).toLowerCase();
    case 'Greater_Than': return x > y;
    case 'Less_Than': return x < y;
    case 'Greater_Than_or_Equal_To': return x >= y;
    case 'Less_Than_or_Equal_To': return x <= y;
    case 'Contains': return String(a).toLowerCase().includes(String(b).toLowerCase());
    case 'Starts_With': return String(a).toLowerCase().startsWith(String(b).toLowerCase());
    case 'Ends_With': return String(a).toLowerCase().endsWith(String(b).toLowerCase());
    case 'is_null': return empty(actual);
    default: throw new Error(`unknown operator '${operator}'`);
  }
}

/** A multienum as SuiteCRM encodes it ('^a^,^b^'), or a serialized list. */
function listOf(ctx, value) {
  const text = String(value || '');
  if (text.startsWith('^') || text === '') return text.replace(/^\^|\^$/g, '').split('^,^').filter(Boolean);
  const decoded = ctx.php.unserialize(text);
  return Array.isArray(decoded) ? decoded.map(String) : Object.values(decoded || {}).map(String);
}

// ---------------------------------------------------------------- conditions

/** The record a condition looks at: the saved one, or the first record down its module path. */
/** The links a condition follows from the workflow's module (SuiteCRM may start the path with the module itself). */
function pathOf(ctx, cond, module) {
  if (!cond.module_path) return [];
  const decoded = ctx.php.unserialize(cond.module_path);
  const path = (Array.isArray(decoded) ? decoded : Object.values(decoded || {})).map(String);
  return path[0] === module ? path.slice(1) : path;
}

async function subjectOf(ctx, cond, event) {
  const path = pathOf(ctx, cond, event.module);
  let module = event.module;
  let record = event.record;
  for (const link of path) {
    const related = await ctx.crm.records.related(module, record.id, link, { maxNum: 1 });
    if (!related.records.length) return null;
    record = related.records[0];
    module = related.module;
  }
  return record;
}

async function conditionHolds(ctx, cond, event) {
  const record = await subjectOf(ctx, cond, event);
  if (!record) return false;
  const actual = record[cond.field];
  switch (cond.value_type) {
    case 'Value': return compare(cond.operator, actual, cond.value);
    case 'Field': return compare(cond.operator, actual, event.record[cond.value]);
    case 'Any_Change': return event.scheduled ? false : event.isUpdate ? Object.prototype.hasOwnProperty.call(event.changes || {}, cond.field) : !empty(actual);
    case 'Multi': {
      const options = listOf(ctx, cond.value);
      const values = Array.isArray(actual) ? actual.map(String) : listOf(ctx, actual);
      const hit = values.some((v) => options.includes(v));
      return cond.operator === 'Not_Equal_To' ? !hit : hit;
    }
    case 'Date': {
      const when = dateFrom(ctx, ctx.php.unserialize(cond.value), event.record);
      const at = parseDb(actual);
      if (!when || !at) return cond.operator === 'is_null' ? !at : false;
      return compare(cond.operator, dbDateTime(at), dbDateTime(when));
    }
    default: throw new Error(`condition type '${cond.value_type}' is not available in Cane`);
  }
}

// ---------------------------------------------------------------- actions

/** Field values of a ModifyRecord/CreateRecord: value types Value, Field (of the saved record) and Date. */
function valuesOf(ctx, params, record) {
  const fields = Object.values(params.field || {});
  const values = Object.values(params.value || {});
  const types = Object.values(params.value_type || {});
  const data = {};
  fields.forEach((field, i) => {
    const type = types[i] || 'Value';
    if (type === 'Value') data[field] = values[i];
    else if (type === 'Field') data[field] = record[values[i]];
    else if (type === 'Date') { const d = dateFrom(ctx, values[i], record); data[field] = d ? dbDateTime(d) : null; }
    else throw new Error(`value type '${type}' for ${field} is not available in Cane`);
  });
  return data;
}

/**
 * Relates a created record to the one the workflow runs on, through the link named after the
 * created record's module (Sugar's convention: Leads → 'leads', Contacts → 'contacts').
 */
async function relate(ctx, fromModule, fromId, toModule, toId) {
  const names = [toModule.toLowerCase(), toModule.toLowerCase().replace(/s$/, '')];
  let lastError = null;
  for (const link of names) {
    try {
      await ctx.crm.records.link(fromModule, fromId, link, toId);
      return;
    } catch (err) { lastError = err; }
  }
  throw new Error(`no link from ${fromModule} to ${toModule} (${lastError && lastError.message})`);
}

const ACTIONS = {
  async ModifyRecord(ctx, params, event) {
    const data = valuesOf(ctx, params, event.record);
    if (Object.keys(data).length) await ctx.crm.records.update(event.module, event.id, data);
  },
  async CreateRecord(ctx, params, event) {
    const module = params.record_type;
    if (!module) throw new Error('CreateRecord needs record_type');
    const created = await ctx.crm.records.create(module, valuesOf(ctx, params, event.record));
    if (params.relate_to_workflow && params.relate_to_workflow !== '0') await relate(ctx, event.module, event.id, module, created.id);
  },
  async SendSMS(ctx, params, event, action) {
    const content = params.template_id ? { template_id: String(params.template_id) } : params.text ? { body: String(params.text) } : null;
    if (!content) throw new Error('SendSMS needs a template or a text');
    const key = { idempotency_key: `${ctx.event.eventId}:${action.id}:${event.id}` };
    const r = event.record;
    let request;
    switch (params.recipient || 'record') {
      case 'record': request = { parent_type: event.module, parent_id: event.id, ...(params.phone_field ? { phone_field: String(params.phone_field) } : {}) }; break;
      case 'assigned_user':
        if (!r.assigned_user_id) throw new Error('the record has no assigned user');
        request = { parent_type: 'Users', parent_id: String(r.assigned_user_id), phone_field: String(params.phone_field || 'phone_mobile') };
        break;
      case 'related': {
        const related = await ctx.crm.records.related(event.module, event.id, String(params.link), { maxNum: 1, fields: ['id'] });
        if (!related.records.length) throw new Error(`no related record through ${params.link}`);
        request = { parent_type: related.module, parent_id: related.records[0].id, ...(params.phone_field ? { phone_field: String(params.phone_field) } : {}) };
        break;
      }
      case 'number': request = { to: String(params.number || '') }; break;
      default: throw new Error(`unknown SMS recipient '${params.recipient}'`);
    }
    const result = await ctx.crm.sms.send({ ...request, ...content, ...key });
    const refused = (result && result.refused) || [];
    if (refused.length && !(result.sent || []).length) throw new Error(`SMS refused: ${refused.map((x) => x.reason).join('; ')}`);
  },
  async AddToTargetList(ctx, params, event) {
    if (!params.target_list_id) throw new Error('AddToTargetList needs target_list_id');
    await ctx.crm.lists.addMembers(String(params.target_list_id), [{ module: event.module, id: event.id }]);
  },
  async RemoveFromTargetList(ctx, params, event) {
    if (!params.target_list_id) throw new Error('RemoveFromTargetList needs target_list_id');
    await ctx.crm.lists.removeMembers(String(params.target_list_id), [{ module: event.module, id: event.id }]);
  },
};

// ---------------------------------------------------------------- one workflow on one record

/** Ran already, or is still running (a run paused by a Delay counts: it goes on by itself). */
async function alreadyDone(ctx, flow, event) {
  const done = await ctx.crm.records.find('AOW_Processed', { filter: [{ aow_workflow_id: flow.id }, { parent_id: event.id }, { status: { $in: ['Complete', 'Pending', 'Running'] } }], maxNum: 1, fields: ['id'] });
  return done.length > 0;
}

async function runFlow(ctx, flow, event, preloaded) {
  if (!event.scheduled) {
    if (!runsOn(flow, event)) return;
    const multiple = flow.multiple_runs === true || flow.multiple_runs === 1 || flow.multiple_runs === '1';
    if (!multiple && (await alreadyDone(ctx, flow, event))) return;
  }
  const conditions = preloaded || await find(ctx, 'AOW_Conditions', [{ aow_workflow_id: flow.id }], [{ field: 'condition_order', direction: 'asc' }]);
  let problem = null;
  try {
    for (const cond of conditions) if (!(await conditionHolds(ctx, cond, event))) return;
  } catch (err) {
    problem = `condition: ${err.message}`;
  }
  // Sugar's max_logic_depth: workflows whose actions keep starting workflows stop here, saying why.
  if (!problem && (event.depth || 0) >= MAX_DEPTH) problem = `stopped: this change comes from a chain of ${event.depth} workflow-made changes (the limit is ${MAX_DEPTH}; workflows may be starting each other in a cycle)`;
  const processed = await ctx.crm.records.create('AOW_Processed', { aow_workflow_id: flow.id, parent_type: event.module, parent_id: event.id, status: problem ? 'Failed' : 'Running', description: problem });
  if (problem) return;
  await runActions(ctx, flow, event, processed.id, 0);
}

/**
 * The workflow's actions from `fromOrder` on, then the run's final status. A Delay stops here and
 * leaves the run Pending with the time and the action it goes on from (resumeDelayed picks it up).
 */
async function runActions(ctx, flow, event, processedId, fromOrder) {
  const filter = [{ aow_workflow_id: flow.id }, ...(fromOrder > 0 ? [{ action_order: { $gte: fromOrder } }] : [])];
  const actions = await find(ctx, 'AOW_Actions', filter, [{ field: 'action_order', direction: 'asc' }]);
  let problem = null;
  for (const [i, action] of actions.entries()) {
    if (action.action === 'Delay') {
      const next = actions[i + 1];
      if (!next) break;
      const params = action.parameters ? ctx.php.unserialize(action.parameters) : {};
      const business = params.unit === 'business_hours';
      const minutes = Number(params.amount) * (business ? 60 : ({ minute: 1, hour: 60, day: 1440, week: 10080 }[params.unit] || NaN));
      if (!(minutes > 0)) { problem = `${action.name || 'Delay'} (action ${action.action_order}): a delay needs a positive amount and a unit`; break; }
      const at = dbDateTime(business ? addBusinessHours(ctx, ctx.now(), Number(params.amount)) : new Date(ctx.now().getTime() + minutes * 60e3));
      await ctx.crm.records.update('AOW_Processed', processedId, { status: 'Pending', resume_at: at, resume_from: Number(next.action_order) });
      return;
    }
    try {
      const params = action.parameters ? ctx.php.unserialize(action.parameters) : {};
      const run = Object.prototype.hasOwnProperty.call(ACTIONS, action.action) ? ACTIONS[action.action] : null;
      // Anything else is an action type another plugin offers; the host runs it (or says nobody does).
      if (run) await run(ctx, params || {}, event, action);
      else await ctx.crm.workflows.runAction(action.action, params || {}, { module: event.module, id: event.id, record: event.record });
    } catch (err) {
      problem = `${action.name || action.action} (action ${action.action_order}): ${err.message}`;
      break;
    }
  }
  await ctx.crm.records.update('AOW_Processed', processedId, { status: problem ? 'Failed' : 'Complete', description: problem, resume_at: null, resume_from: null });
  if (problem) ctx.log.warn(`workflow ${flow.name} on ${event.module} ${event.id} failed: ${problem}`);
}

/** Runs paused by a Delay whose time has come go on from their next action, on the record as it is now. */
async function resumeDelayed(ctx) {
  const due = await find(ctx, 'AOW_Processed', [{ status: 'Pending' }, { resume_at: { $lte: dbDateTime(ctx.now()) } }], [{ field: 'resume_at', direction: 'asc' }]);
  for (const run of due.slice(0, SCHEDULED_BATCH)) {
    await ctx.crm.records.update('AOW_Processed', run.id, { status: 'Running', resume_at: null });
    const finish = (reason) => ctx.crm.records.update('AOW_Processed', run.id, { status: 'Failed', description: reason, resume_from: null });
    const [flow] = await find(ctx, 'AOW_WorkFlow', [{ id: run.aow_workflow_id }]);
    if (!flow) { await finish('the workflow was deleted while the run waited'); continue; }
    let record;
    try {
      record = await ctx.crm.records.get(run.parent_type, run.parent_id);
    } catch (err) {
      await finish(`the record is gone: ${err.message}`);
      continue;
    }
    await runActions(ctx, flow, { module: run.parent_type, id: run.parent_id, record, isUpdate: true, changes: {}, scheduled: true }, run.id, Number(run.resume_from));
  }
}

// ---------------------------------------------------------------- the scheduler

/** Records to look at per workflow and firing; the rest wait for the next firing (each host call counts). */
const SCHEDULED_BATCH = 50;

const FILTER_OPERATORS = { Equal_To: '$equals', Not_Equal_To: '$not_equals', Greater_Than: '$gt', Less_Than: '$lt', Greater_Than_or_Equal_To: '$gte', Less_Than_or_Equal_To: '$lte', Contains: '$contains', Starts_With: '$starts', Ends_With: '$ends' };

/**
 * The part of a scheduled workflow's conditions the database can check (Value conditions on the
 * module's own fields, and the run-on dates); every condition is still checked on each record.
 */
function prefilter(ctx, flow, conditions) {
  const filter = [];
  for (const c of conditions) {
    if (c.value_type !== 'Value' || pathOf(ctx, c, flow.flow_module).length) continue;
    if (c.operator === 'is_null') filter.push({ [c.field]: { $empty: true } });
    else if (FILTER_OPERATORS[c.operator]) filter.push({ [c.field]: { [FILTER_OPERATORS[c.operator]]: c.value } });
  }
  if (flow.flow_run_on === 'New_Records') filter.push({ date_entered: { $gte: flow.date_entered } });
  if (flow.flow_run_on === 'Modified_Records') filter.push({ date_modified: { $gte: flow.date_entered } });
  return filter;
}

/** SuiteCRM's processAOW_Workflow: each In_Scheduler (or Always) workflow over the records that match, once per record unless multiple_runs. */
async function runScheduledFlow(ctx, flow) {
  const conditions = await find(ctx, 'AOW_Conditions', [{ aow_workflow_id: flow.id }], [{ field: 'condition_order', direction: 'asc' }]);
  const multiple = flow.multiple_runs === true || flow.multiple_runs === 1 || flow.multiple_runs === '1';
  let ran = 0;
  for (let offset = 0; ran < SCHEDULED_BATCH; offset += MAX) {
    const page = await ctx.crm.records.find(flow.flow_module, { filter: prefilter(ctx, flow, conditions), maxNum: MAX, offset, orderBy: [{ field: 'date_entered', direction: 'asc' }] });
    for (const record of page) {
      const event = { module: flow.flow_module, id: record.id, isUpdate: true, record, changes: {}, scheduled: true };
      if (!multiple && (await alreadyDone(ctx, flow, event))) continue;
      await runFlow(ctx, flow, event, conditions);
      if (++ran >= SCHEDULED_BATCH) break;
    }
    if (page.length < MAX) break;
  }
}

// ---------------------------------------------------------------- test on a record (the builder)

/** What an action would do, in words, without doing it. */
function wouldDo(ctx, action, event) {
  const params = action.parameters ? ctx.php.unserialize(action.parameters) : {};
  const p = params || {};
  switch (action.action) {
    case 'ModifyRecord': return 'set ' + Object.entries(valuesOf(ctx, p, event.record)).map(([f, v]) => `${f} to ${JSON.stringify(v)}`).join(', ');
    case 'CreateRecord': return `create a ${p.record_type} record with ` + Object.entries(valuesOf(ctx, p, event.record)).map(([f, v]) => `${f} ${JSON.stringify(v)}`).join(', ') + (p.relate_to_workflow && p.relate_to_workflow !== '0' ? ', related to this record' : '');
    case 'SendSMS': {
      const what = p.template_id ? `the SMS template ${p.template_id}` : `"${p.text}"`;
      const to = { record: `this ${event.module} record`, assigned_user: `its assigned user (${event.record.assigned_user_name || event.record.assigned_user_id || 'nobody'})`, related: `the record related through ${p.link}`, number: String(p.number) }[p.recipient || 'record'];
      return `send ${what} to ${to}`;
    }
    case 'AddToTargetList': return `add it to the target list ${p.target_list_id}`;
    case 'RemoveFromTargetList': return `remove it from the target list ${p.target_list_id}`;
    case 'Delay': return `wait ${p.amount} ${p.unit}(s), then go on`;
    default: return `run ${action.action} (an action a plugin offers) with ${JSON.stringify(p)}`;
  }
}

async function dryRun(ctx) {
  const { workflowId, recordId } = ctx.event;
  const [flow] = await find(ctx, 'AOW_WorkFlow', [{ id: String(workflowId || '') }]);
  if (!flow) return { conditions: [], actions: [], error: `no workflow with id '${workflowId}'` };
  let record;
  try {
    record = await ctx.crm.records.get(flow.flow_module, String(recordId || ''));
  } catch (err) {
    return { conditions: [], actions: [], error: `no ${flow.flow_module} record '${recordId}': ${err.message}` };
  }
  const event = { module: flow.flow_module, id: record.id, record, isUpdate: true, changes: {}, scheduled: false };
  const conditions = [];
  for (const cond of await find(ctx, 'AOW_Conditions', [{ aow_workflow_id: flow.id }], [{ field: 'condition_order', direction: 'asc' }])) {
    try {
      const holds = await conditionHolds(ctx, cond, event);
      const detail = cond.value_type === 'Any_Change' ? 'Any_Change depends on the save; a stored record has no changes' : `${cond.field} is ${JSON.stringify((await subjectOf(ctx, cond, event) || {})[cond.field] ?? null)}`;
      conditions.push({ order: Number(cond.condition_order), field: cond.field, holds, detail });
    } catch (err) {
      conditions.push({ order: Number(cond.condition_order), field: cond.field, holds: false, detail: err.message });
    }
  }
  const all = conditions.every((c) => c.holds);
  const actions = [];
  for (const action of await find(ctx, 'AOW_Actions', [{ aow_workflow_id: flow.id }], [{ field: 'action_order', direction: 'asc' }])) {
    let would;
    try { would = (all ? '' : 'would not run (a condition fails); else: ') + wouldDo(ctx, action, event); } catch (err) { would = `would fail: ${err.message}`; }
    actions.push({ order: Number(action.action_order), action: action.action, would });
  }
  return { conditions, actions };
}

definePlugin({
  hooks: {
    dryRun,
    async resumeDelayed(ctx) {
      await resumeDelayed(ctx);
    },
    async runScheduled(ctx) {
      const flows = await find(ctx, 'AOW_WorkFlow', [{ status: 'Active' }, { run_when: { $in: ['Always', 'In_Scheduler'] } }], [{ field: 'date_entered', direction: 'asc' }]);
      for (const flow of flows) {
        try {
          await runScheduledFlow(ctx, flow);
        } catch (err) {
          ctx.log.warn(`scheduled workflow ${flow.name} stopped: ${err.message}`);
        }
      }
    },
    async onSave(ctx) {
      const event = ctx.event;
      if (event.module.startsWith('AOW_')) return;
      // A workflow's change to the record it runs on does not run workflows on it again (SuiteCRM's
      // processed flag); records its actions create or change elsewhere do, down to MAX_DEPTH.
      const self = event.origin === SELF && event.causedBy && event.causedBy.module === event.module && event.causedBy.id === event.id;
      if (self) return;
      const flows = await flowsFor(ctx, event.module);
      for (const flow of flows) await runFlow(ctx, flow, event);
    },
  },
});
