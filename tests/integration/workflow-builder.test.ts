import { unserialize } from 'php-serialize';
import { pluginDirs } from '../../core/app/plugins';
import { SYSTEM } from '../../core/records/actor';
import { loginWithRole } from '../helpers/crm';
import { pluginDir } from '../helpers/plugins';
import { describeSms } from '../helpers/sms';
import { session } from '../helpers/ui-session';

/** A plugin that offers a workflow action type, for the builder to list and check. */
const tagger = pluginDir([{
  manifest: {
    id: 'test.tagger', permissions: ['write:Leads'],
    workflowActions: [{ name: 'TagRecord', label: 'Tag the record', handler: 'tag', parameters: { properties: { tag: { type: 'string', minLength: 1, title: 'Tag' }, loud: { type: 'boolean', title: 'Loud' } }, required: ['tag'], additionalProperties: false } }],
  },
  code: `definePlugin({ hooks: { async tag(ctx) {
    await ctx.crm.records.update(ctx.event.module, ctx.event.id, { description: 'tag: ' + ctx.event.parameters.tag });
  } } });`,
}]);

/** What SuiteCRM stores as base64(serialize(value)), decoded. */
const decode = (text: unknown) => unserialize(Buffer.from(String(text), 'base64').toString('utf8'));

const SALLY = 'demo-user-sally';
const SALLY_MOBILE = '+14155550121';

type Form = Record<string, string | string[]>;

describeSms('workflow builder: the POST handler stores SuiteCRM\'s shapes through the record service', (get) => {
  const records = () => get().crm.records;
  const knex = () => get().crm.engine.db.knex;
  const settle = async () => { for (let i = 0; i < 6; i++) await get().drain(); };
  let ui: ReturnType<typeof session>;
  let csrf = '';
  let list = '';
  let otherList = '';

  const workflowFields = (extra: Form = {}): Form => ({ csrf, name: 'Converted leads', flow_module: 'Leads', run_when: 'On_Save', flow_run_on: 'All_Records', status: 'Active', ...extra });
  const rows = async (table: 'aow_conditions' | 'aow_actions', workflowId: string) => knex()(table).where({ aow_workflow_id: workflowId, deleted: 0 }).orderBy(table === 'aow_conditions' ? 'condition_order' : 'action_order');
  const idFrom = (location: string) => /AOW_WorkFlow\/([^/]+)\/builder/.exec(location)?.[1] ?? '';

  beforeAll(async () => {
    ui = session(get().server.url);
    csrf = await ui.login('admin', 'secret-admin');
    list = (await records().create(SYSTEM, 'ProspectLists', { name: 'Converted (builder)', list_type: 'default' })).id;
    otherList = (await records().create(SYSTEM, 'ProspectLists', { name: 'Old leads (builder)', list_type: 'default' })).id;
  });

  let converted = '';

  test('a workflow saved by the builder is stored as SuiteCRM stores it and runs: a matching Lead texts its owner and joins the list', async () => {
    const res = await ui.request('POST', '/ui/AOW_WorkFlow/builder/new', workflowFields({
      c1_order: '1', c1_path: '', c1_field: 'status', c1_operator: 'Equal_To', c1_value_type: 'Value', c1_value: 'Converted',
      a1_order: '1', a1_action: 'SendSMS', a1_recipient: 'assigned_user', a1_phone_field: '', a1_template_id: '', a1_text: 'A lead of yours converted.',
      a2_order: '2', a2_action: 'AddToTargetList', a2_target_list_id: list,
    }));
    expect([res.status, res.text.slice(0, 0)]).toEqual([302, '']);
    converted = idFrom(res.location);
    expect(res.location).toContain('notice=Workflow%20created.');

    const flow = await knex()('aow_workflow').where({ id: converted }).first();
    expect(flow).toMatchObject({ name: 'Converted leads', flow_module: 'Leads', run_when: 'On_Save', flow_run_on: 'All_Records', status: 'Active', deleted: 0 });
    const [condition] = await rows('aow_conditions', converted);
    expect(condition).toMatchObject({ condition_order: 1, field: 'status', operator: 'Equal_To', value_type: 'Value', value: 'Converted' });
    expect(condition.module_path).toBe(Buffer.from('a:1:{i:0;s:5:"Leads";}').toString('base64'));
    const actions = await rows('aow_actions', converted);
    expect(actions.map((a: Record<string, unknown>) => [a.action_order, a.action, a.name])).toEqual([[1, 'SendSMS', 'Send SMS'], [2, 'AddToTargetList', 'Add to Target List']]);
    expect(Buffer.from(actions[0].parameters, 'base64').toString('utf8')).toBe('a:2:{s:9:"recipient";s:13:"assigned_user";s:4:"text";s:26:"A lead of yours converted.";}');
    expect(decode(actions[1].parameters)).toEqual({ target_list_id: list });

    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Builder', status: 'Converted', assigned_user_id: SALLY });
    await records().create(SYSTEM, 'Leads', { last_name: 'Not yet', status: 'New', assigned_user_id: SALLY });
    await settle();
    const processed = await records().list(SYSTEM, 'AOW_Processed', { filter: [{ aow_workflow_id: converted }], maxNum: 10 });
    expect(processed.records.map((p) => [p.parent_id, p.status])).toEqual([[lead.id, 'Complete']]);
    expect(get().fake.sentTo(SALLY_MOBILE).map((m) => m.body)).toEqual(['A lead of yours converted.']);
    expect((await records().listRelated(SYSTEM, 'ProspectLists', list, 'leads', { fields: ['id'] })).records.map((r) => r.id)).toEqual([lead.id]);
  });

  test('the page shows the stored rows back: condition, SMS text with its segment count, target list', async () => {
    const page = await ui.request('GET', `/ui/AOW_WorkFlow/${converted}/builder`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<select id="wf-c1_field" name="c1_field"[^>]*>.*<option value="status" selected>Status<\/option>/s);
    // an enum field's value is a dropdown of its options
    expect(page.text).toMatch(/<select id="wf-c1_value" name="c1_value">.*<option value="Converted" selected>Converted<\/option>/s);
    expect(page.text).toContain('A lead of yours converted.</textarea>');
    expect(page.text).toMatch(/GSM-7 · 1 segment · 26 characters/);
    expect(page.text).toMatch(new RegExp(`<option value="${list}" selected>Converted \\(builder\\)</option>`));
    // ordering operators are not offered for an enum, text operators are not offered for a number
    const operators = /<select id="wf-c1_operator"[^>]*>(.*?)<\/select>/s.exec(page.text)![1];
    expect(operators).not.toContain('Greater_Than');
  });

  test('every condition and action shape is SuiteCRM\'s: module path through a link, Date, Multi, Field, Any_Change; ModifyRecord, CreateRecord, SendSMS with a template, Delay, RemoveFromTargetList', async () => {
    const res = await ui.request('POST', '/ui/AOW_WorkFlow/builder/new', workflowFields({
      name: 'Every shape', status: 'Inactive', run_when: 'Always', flow_run_on: 'New_Records', multiple_runs: '1',
      c1_order: '1', c1_path: 'accounts', c1_field: 'industry', c1_operator: 'Equal_To', c1_value_type: 'Value', c1_value: 'Banking',
      c2_order: '2', c2_path: '', c2_field: 'date_entered', c2_operator: 'Less_Than', c2_value_type: 'Date', c2_date_base: 'today', c2_date_op: 'plus', c2_date_amount: '3', c2_date_unit: 'day',
      c3_order: '3', c3_path: '', c3_field: 'status', c3_operator: 'Equal_To', c3_value_type: 'Multi', c3_multi: ['New', 'Assigned'],
      c4_order: '4', c4_path: '', c4_field: 'title', c4_operator: 'Not_Equal_To', c4_value_type: 'Field', c4_value: 'department',
      c5_order: '5', c5_path: '', c5_field: 'lead_source', c5_operator: 'Equal_To', c5_value_type: 'Any_Change',
      c6_order: '6', c6_path: '', c6_field: 'birthdate', c6_operator: 'Greater_Than', c6_value_type: 'Date', c6_date_base: 'now', c6_date_op: 'now', c6_date_amount: '9', c6_date_unit: 'week',
      a1_order: '1', a1_action: 'ModifyRecord',
      a1_f1_field: 'title', a1_f1_value_type: 'Value', a1_f1_value: 'Hot',
      a1_f2_field: 'department', a1_f2_value_type: 'Field', a1_f2_value: 'last_name',
      a1_f3_field: 'date_reviewed', a1_f3_value_type: 'Date', a1_f3_date_base: 'now', a1_f3_date_op: 'plus', a1_f3_date_amount: '2', a1_f3_date_unit: 'hour',
      a2_order: '2', a2_action: 'CreateRecord', a2_record_type: 'Contacts', a2_relate: '1',
      a2_f1_field: 'last_name', a2_f1_value_type: 'Field', a2_f1_value: 'last_name',
      a2_f2_field: 'lead_source', a2_f2_value_type: 'Value', a2_f2_value: 'Web Site',
      a3_order: '3', a3_action: 'SendSMS', a3_recipient: 'record', a3_phone_field: 'phone_work', a3_template_id: 'demo-template-followup', a3_text: 'ignored: the template wins',
      a4_order: '4', a4_action: 'Delay', a4_amount: '2', a4_unit: 'hour',
      a5_order: '5', a5_action: 'RemoveFromTargetList', a5_target_list_id: otherList,
      a6_order: '6', a6_action: 'SendSMS', a6_recipient: 'number', a6_number: '+14155550188', a6_text: 'Hi',
    }));
    expect(res.status).toBe(302);
    const id = idFrom(res.location);
    expect(await knex()('aow_workflow').where({ id }).first()).toMatchObject({ status: 'Inactive', run_when: 'Always', flow_run_on: 'New_Records' });
    expect((await records().retrieve(SYSTEM, 'AOW_WorkFlow', id)).multiple_runs).toBe(true);

    const conditions = await rows('aow_conditions', id);
    expect(conditions.map((c: Record<string, unknown>) => [c.condition_order, decode(c.module_path), c.field, c.operator, c.value_type])).toEqual([
      [1, ['Leads', 'accounts'], 'industry', 'Equal_To', 'Value'],
      [2, ['Leads'], 'date_entered', 'Less_Than', 'Date'],
      [3, ['Leads'], 'status', 'Equal_To', 'Multi'],
      [4, ['Leads'], 'title', 'Not_Equal_To', 'Field'],
      [5, ['Leads'], 'lead_source', 'Equal_To', 'Any_Change'],
      [6, ['Leads'], 'birthdate', 'Greater_Than', 'Date'],
    ]);
    expect(conditions[0].value).toBe('Banking');
    expect(Buffer.from(conditions[1].value, 'base64').toString('utf8')).toBe('a:4:{i:0;s:5:"today";i:1;s:4:"plus";i:2;s:1:"3";i:3;s:3:"day";}');
    expect(conditions[2].value).toBe('^New^,^Assigned^');
    expect(conditions[3].value).toBe('department');
    expect(conditions[4].value ?? '').toBe('');
    expect(decode(conditions[5].value)).toEqual(['now', 'now', '', '']);

    const actions = await rows('aow_actions', id);
    expect(actions.map((a: Record<string, unknown>) => a.action)).toEqual(['ModifyRecord', 'CreateRecord', 'SendSMS', 'Delay', 'RemoveFromTargetList', 'SendSMS']);
    expect(decode(actions[0].parameters)).toEqual({ field: ['title', 'department', 'date_reviewed'], value: ['Hot', 'last_name', ['now', 'plus', '2', 'hour']], value_type: ['Value', 'Field', 'Date'] });
    expect(decode(actions[1].parameters)).toEqual({ record_type: 'Contacts', relate_to_workflow: '1', field: ['last_name', 'lead_source'], value: ['last_name', 'Web Site'], value_type: ['Field', 'Value'] });
    expect(decode(actions[2].parameters)).toEqual({ recipient: 'record', phone_field: 'phone_work', template_id: 'demo-template-followup' });
    expect(decode(actions[3].parameters)).toEqual({ amount: '2', unit: 'hour' });
    expect(decode(actions[4].parameters)).toEqual({ target_list_id: otherList });
    expect(decode(actions[5].parameters)).toEqual({ recipient: 'number', number: '+14155550188', text: 'Hi' });

    // saving again without changes rewrites nothing
    const page = await ui.request('GET', `/ui/AOW_WorkFlow/${id}/builder`);
    const before = [...(await rows('aow_conditions', id)), ...(await rows('aow_actions', id))].map((r: Record<string, unknown>) => [r.id, r.date_modified]);
    const again = await ui.request('POST', `/ui/AOW_WorkFlow/${id}/builder`, formOf(page.text));
    expect(again.status).toBe(302);
    const after = [...(await rows('aow_conditions', id)), ...(await rows('aow_actions', id))].map((r: Record<string, unknown>) => [r.id, r.date_modified]);
    expect(after).toEqual(before);
  });

  test('a refused row is shown beside its row, with what was typed, and nothing is written', async () => {
    const page = await ui.request('GET', `/ui/AOW_WorkFlow/${converted}/builder`);
    const form = { ...formOf(page.text), name: 'Renamed (never saved)', a3_order: '3', a3_action: 'Delay', a3_amount: '-1', a3_unit: 'day', c1_operator: 'Equal_To' };
    const before = { flow: await knex()('aow_workflow').where({ id: converted }).first(), conditions: await rows('aow_conditions', converted), actions: await rows('aow_actions', converted) };
    const res = await ui.request('POST', `/ui/AOW_WorkFlow/${converted}/builder`, form);
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/<fieldset class="wf-row wf-has-error" id="a3"[^>]*>\s*<legend>Action 3<\/legend>.*?<p class="field-error" id="a3-error" data-wf-row-error>action 3: a delay is a whole number of days from 1 up to a year, not &#x27;-1&#x27;<\/p>/s);
    expect(res.text).toContain('value="Renamed (never saved)"');
    expect(res.text).toMatch(/name="a3_amount" type="number" step="1" min="1" value="-1"/);
    expect(await knex()('aow_workflow').where({ id: converted }).first()).toEqual(before.flow);
    expect(await rows('aow_conditions', converted)).toEqual(before.conditions);
    expect(await rows('aow_actions', converted)).toEqual(before.actions);

    // an operator that does not fit the field, on a new workflow: no workflow is left behind
    const count = async () => (await knex()('aow_workflow').where({ deleted: 0 }).count({ n: '*' }))[0].n;
    const workflows = Number(await count());
    const bad = await ui.request('POST', '/ui/AOW_WorkFlow/builder/new', workflowFields({
      name: 'Never saved',
      c1_order: '1', c1_path: '', c1_field: 'status', c1_operator: 'Greater_Than', c1_value_type: 'Value', c1_value: 'Converted',
      c2_order: '2', c2_path: '', c2_field: 'last_name', c2_operator: 'Equal_To', c2_value_type: 'Value', c2_value: 'x',
    }));
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/id="c1-error" data-wf-row-error>condition 1: &#x27;Greater_Than&#x27; does not apply to Leads.status \(a enum field\)/);
    expect(bad.text).not.toContain('id="c2-error"');
    expect(bad.text).toMatch(/id="wf-c1_operator" name="c1_operator" data-wf-operator aria-invalid="true"/);
    expect(Number(await count())).toBe(workflows);
    expect(await knex()('aow_conditions').where({ field: 'last_name', value: 'x', deleted: 0 }).first()).toBeUndefined();
  });

  test('a write refused after the checks is undone: the workflow is put back and no row is left', async () => {
    const page = await ui.request('GET', `/ui/AOW_WorkFlow/${converted}/builder`);
    const before = { flow: await knex()('aow_workflow').where({ id: converted }).first(), conditions: await rows('aow_conditions', converted) };
    // passes the row checks (any text is a valid Value for a text field) but not the column's length
    const res = await ui.request('POST', `/ui/AOW_WorkFlow/${converted}/builder`, {
      ...formOf(page.text), name: 'Renamed, then put back', run_when: 'Always',
      c2_order: '2', c2_path: '', c2_field: 'last_name', c2_operator: 'Equal_To', c2_value_type: 'Value', c2_value: 'x'.repeat(300),
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="c2-error" data-wf-row-error>value /);
    const flow = await knex()('aow_workflow').where({ id: converted }).first();
    expect([flow.name, flow.run_when, flow.status]).toEqual([before.flow.name, before.flow.run_when, before.flow.status]);
    expect(await rows('aow_conditions', converted)).toEqual(before.conditions);
    // the form goes on from the workflow as it is now: fixed and saved again, no false "changed by someone else"
    const fixed = await ui.request('POST', `/ui/AOW_WorkFlow/${converted}/builder`, { ...formOf(res.text), c2_remove: '1', name: before.flow.name, run_when: before.flow.run_when });
    expect(fixed.status).toBe(302);
  });

  test('rows are reordered by their numbers and removed with their checkbox; Update form writes nothing', async () => {
    const create = await ui.request('POST', '/ui/AOW_WorkFlow/builder/new', workflowFields({
      name: 'Reorder me', status: 'Inactive',
      a1_order: '1', a1_action: 'AddToTargetList', a1_target_list_id: list,
      a2_order: '2', a2_action: 'Delay', a2_amount: '1', a2_unit: 'day',
      a3_order: '3', a3_action: 'RemoveFromTargetList', a3_target_list_id: otherList,
    }));
    const id = idFrom(create.location);
    const [add, , remove] = await rows('aow_actions', id);
    const page = await ui.request('GET', `/ui/AOW_WorkFlow/${id}/builder`);
    const form = { ...formOf(page.text), a1_order: '9', a3_order: '1', a2_remove: '1' };
    const refresh = await ui.request('POST', `/ui/AOW_WorkFlow/${id}/builder`, { ...form, _op: 'refresh' });
    expect(refresh.status).toBe(200);
    expect((await rows('aow_actions', id)).length).toBe(3);
    // after Update form the removed stored row travels as a hidden input and the rows are renumbered
    expect(refresh.text).toMatch(/name="removed_action" value="[^"]+"/);
    const res = await ui.request('POST', `/ui/AOW_WorkFlow/${id}/builder`, formOf(refresh.text));
    expect(res.status).toBe(302);
    const after = await rows('aow_actions', id);
    expect(after.map((a: Record<string, unknown>) => [a.id, a.action_order, a.action])).toEqual([[remove.id, 1, 'RemoveFromTargetList'], [add.id, 2, 'AddToTargetList']]);
  });

  test('Activate and Deactivate change only the status', async () => {
    const off = await ui.request('POST', `/ui/AOW_WorkFlow/${converted}/builder/status`, { csrf, status: 'Inactive' });
    expect([off.status, decodeURIComponent(off.location)]).toEqual([302, expect.stringContaining('Workflow deactivated.')]);
    expect((await knex()('aow_workflow').where({ id: converted }).first()).status).toBe('Inactive');
    const page = await ui.request('GET', `/ui/AOW_WorkFlow/${converted}/builder`);
    expect(page.text).toMatch(/<span class="tag" data-wf-status>Inactive<\/span>/);
    expect(page.text).toMatch(/<button type="submit" class="primary">Activate<\/button>/);
    const on = await ui.request('POST', `/ui/AOW_WorkFlow/${converted}/builder/status`, { csrf, status: 'Active' });
    expect(on.status).toBe(302);
    expect((await knex()('aow_workflow').where({ id: converted }).first()).status).toBe('Active');
  });

  test('the SMS preview answers the segment count and the fields the recipient lacks', async () => {
    const res = await ui.json('/ui/AOW_WorkFlow/builder/sms-preview', { csrf, text: 'Hi {{first_name}} {{nope}} 😀', module: 'Leads' });
    expect(res.body).toMatchObject({ body: 'Hi {{first_name}} {{nope}} 😀', encoding: 'UCS-2', segments: 1, problems: ['{{nope}} is not a field of Leads'] });
    const template = await ui.json('/ui/AOW_WorkFlow/builder/sms-preview', { csrf, template_id: 'demo-template-followup', module: 'Users' });
    expect(template.body).toMatchObject({ encoding: 'GSM-7', segments: 1, templateName: expect.any(String) });
    expect((await ui.json('/ui/AOW_WorkFlow/builder/sms-preview', { text: 'no token' })).status).toBe(403);
  });

  test('test on a record: which conditions hold on a Lead and what each action would do, without doing it', async () => {
    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Tested', status: 'Converted', assigned_user_id: SALLY });
    const other = await records().create(SYSTEM, 'Leads', { last_name: 'Untested', status: 'New' });
    const sent = get().fake.messages.length;
    const page = await ui.request('GET', `/ui/AOW_WorkFlow/${converted}/builder?test_record=${lead.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('every condition holds');
    expect(page.text).toMatch(/<tr data-holds="yes"><td class="num">1<\/td><td>Status<\/td><td><span class="wf-holds">holds<\/span><\/td><td>status is &quot;Converted&quot;<\/td><\/tr>/);
    expect(page.text).toMatch(/<td class="num">1<\/td><td>Send SMS<\/td><td>send &quot;A lead of yours converted.&quot; to its assigned user/);
    expect(page.text).toContain('<td class="num">2</td><td>Add to Target List</td><td>add it to the target list “Converted (builder)”</td>');
    // by name, and a record the conditions do not match
    const byName = await ui.request('GET', `/ui/AOW_WorkFlow/${converted}/builder?test_name=Untested`);
    expect(byName.text).toContain('not every condition holds');
    expect(byName.text).toMatch(/<tr data-holds="no"><td class="num">1<\/td>/);
    expect(byName.text).toContain(`href="/ui/Leads/${other.id}"`);
    expect((await ui.request('GET', `/ui/AOW_WorkFlow/${converted}/builder?test_name=Nobody-by-that-name`)).text).toContain('No Lead found for &quot;Nobody-by-that-name&quot;.');
    await settle();
    expect(get().fake.messages.length - sent).toBe(1); // the Lead saved as Converted ran the workflow; the tests sent nothing
    expect((await records().list(SYSTEM, 'AOW_Processed', { filter: [{ aow_workflow_id: converted }, { parent_id: other.id }] })).records).toEqual([]);
  });

  test('an action type a plugin offers is listed, its parameters form follows its schema, and its refusals show beside the row', async () => {
    const fields = workflowFields({ name: 'Tag leads', status: 'Inactive', a1_order: '1', a1_action: 'TagRecord', a1_was: 'TagRecord', a1_p_tag: '' });
    const bad = await ui.request('POST', '/ui/AOW_WorkFlow/builder/new', fields);
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/id="a1-error" data-wf-row-error>action 1: TagRecord: tag is required/);
    expect(bad.text).toMatch(/<option value="TagRecord" selected>Tag the record<\/option>/);
    const ok = await ui.request('POST', '/ui/AOW_WorkFlow/builder/new', { ...fields, a1_p_tag: 'vip', a1_p_loud: '1' });
    expect(ok.status).toBe(302);
    const [action] = await rows('aow_actions', idFrom(ok.location));
    expect([action.action, action.name, decode(action.parameters)]).toEqual(['TagRecord', 'Tag the record', { tag: 'vip', loud: true }]);
    const page = await ui.request('GET', ok.location.replace(/\?.*$/, ''));
    expect(page.text).toMatch(/name="a1_p_tag" value="vip"/);
    expect(page.text).toMatch(/name="a1_p_loud" value="1" checked/);
  });

  test('refused without a CSRF token, or without edit rights on workflows', async () => {
    const res = await ui.request('POST', `/ui/AOW_WorkFlow/${converted}/builder`, { name: 'x', flow_module: 'Leads' });
    expect(res.status).toBe(403);
    await loginWithRole(get().server, { name: 'wfviewer', password: 'wfviewer-pw' }, 'Workflow viewer', [['AOW_WorkFlow', 'edit', 'none']]);
    const viewer = session(get().server.url);
    const viewerCsrf = await viewer.login('wfviewer', 'wfviewer-pw');
    expect((await viewer.request('GET', `/ui/AOW_WorkFlow/${converted}/builder`)).status).toBe(403);
    expect((await viewer.request('GET', '/ui/AOW_WorkFlow/builder/new')).status).toBe(403);
    expect((await viewer.request('POST', `/ui/AOW_WorkFlow/${converted}/builder/status`, { csrf: viewerCsrf, status: 'Inactive' })).status).toBe(403);
    const detail = await viewer.request('GET', `/ui/AOW_WorkFlow/${converted}`);
    expect(detail.text).not.toContain('/builder');
    const admin = await ui.request('GET', `/ui/AOW_WorkFlow/${converted}`);
    expect(admin.text).toContain(`href="/ui/AOW_WorkFlow/${converted}/builder"`);
    expect((await ui.request('GET', '/ui/AOW_WorkFlow')).text).toContain('href="/ui/AOW_WorkFlow/builder/new"');
  });
}, { plugins: { dirs: [...pluginDirs('/nonexistent').slice(0, 1), { dir: tagger, builtIn: false }] } });

/** The fields a browser would post for the builder form in `html` (selected options, checked boxes, text). */
function formOf(html: string): Form {
  const form = /<form method="post" action="[^"]*\/builder"[^>]*data-wf-builder[\s\S]*?<\/form>/.exec(html)![0];
  const out: Form = {};
  const add = (name: string, value: string) => {
    const current = out[name];
    out[name] = current === undefined ? value : Array.isArray(current) ? [...current, value] : [current, value];
  };
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#x3D;/g, '=').replace(/&#x60;/g, '`').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  for (const m of form.matchAll(/<input([^>]*)>/g)) {
    const attrs = m[1];
    const name = /name="([^"]+)"/.exec(attrs)?.[1];
    if (!name || name === '_op') continue;
    if (/type="checkbox"/.test(attrs) && !/ checked/.test(attrs)) continue;
    add(name, unescape(/value="([^"]*)"/.exec(attrs)?.[1] ?? (/type="checkbox"/.test(attrs) ? 'on' : '')));
  }
  for (const m of form.matchAll(/<select([^>]*)>([\s\S]*?)<\/select>/g)) {
    const name = /name="([^"]+)"/.exec(m[1])?.[1];
    if (!name) continue;
    const selected = [...m[2].matchAll(/<option value="([^"]*)"[^>]*?( selected)?>/g)];
    const chosen = selected.filter((o) => o[2]);
    if (/ multiple/.test(m[1])) chosen.forEach((o) => add(name, unescape(o[1])));
    else add(name, unescape((chosen[0] ?? selected[0])?.[1] ?? ''));
  }
  for (const m of form.matchAll(/<textarea([^>]*)>([\s\S]*?)<\/textarea>/g)) {
    const name = /name="([^"]+)"/.exec(m[1])?.[1];
    if (name) add(name, unescape(m[2]));
  }
  return out;
}
