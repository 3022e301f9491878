import { serialize } from 'php-serialize';
import { SYSTEM } from '../../core/records/actor';
import { pluginDirs } from '../../core/app/plugins';
import { describeSms } from '../helpers/sms';
import { pluginDir } from '../helpers/plugins';

const tagger = pluginDir([{
  manifest: {
    id: 'test.tagger', permissions: ['write:Leads'],
    workflowActions: [{ name: 'TagRecord', label: 'Tag the record', handler: 'tag', parameters: { properties: { tag: { type: 'string', minLength: 1 } }, required: ['tag'], additionalProperties: false } }],
  },
  code: `definePlugin({ hooks: { async tag(ctx) {
    await ctx.crm.records.update(ctx.event.module, ctx.event.id, { description: 'tag: ' + ctx.event.parameters.tag });
    return { tagged: true };
  } } });`,
}]);

/** base64(serialize(value)), as SuiteCRM writes aow_actions.parameters and aow_conditions.module_path. */
const suite = (value: unknown) => Buffer.from(serialize(value), 'utf8').toString('base64');

const SALLY = 'demo-user-sally';
const SALLY_MOBILE = '+14155550121';

describeSms('workflows (AOW) run by the built-in workflows plugin', (get) => {
  const records = () => get().crm.records;
  const settle = async () => { for (let i = 0; i < 6; i++) await get().drain(); };
  const processed = async (workflowId: string) => (await records().list(SYSTEM, 'AOW_Processed', { filter: [{ aow_workflow_id: workflowId }], maxNum: 100, orderBy: [{ field: 'date_entered', direction: 'asc' }] })).records;
  const smsTo = (number: string) => get().fake.sentTo(number).map((m) => m.body);

  async function workflow(fields: Record<string, unknown>, conditions: Array<Record<string, unknown>>, actions: Array<{ action: string; parameters: unknown }>): Promise<string> {
    const flow = await records().create(SYSTEM, 'AOW_WorkFlow', { name: 'Test flow', status: 'Active', run_when: 'On_Save', flow_run_on: 'All_Records', multiple_runs: false, ...fields });
    for (const [i, c] of conditions.entries()) {
      await records().create(SYSTEM, 'AOW_Conditions', { aow_workflow_id: flow.id, condition_order: i + 1, module_path: suite([fields.flow_module]), value_type: 'Value', ...c });
    }
    for (const [i, a] of actions.entries()) {
      await records().create(SYSTEM, 'AOW_Actions', { aow_workflow_id: flow.id, action_order: i + 1, name: a.action, action: a.action, parameters: suite(a.parameters) });
    }
    return flow.id;
  }

  let list: string;
  let onceFlow: string;
  beforeAll(async () => {
    list = (await records().create(SYSTEM, 'ProspectLists', { name: 'Converted leads', list_type: 'default' })).id;
    onceFlow = await workflow(
      { name: 'Converted: tell the owner, add to the list', flow_module: 'Leads' },
      [{ field: 'status', operator: 'Equal_To', value: 'Converted' }],
      [
        { action: 'SendSMS', parameters: { recipient: 'assigned_user', text: 'A lead of yours was converted.' } },
        { action: 'AddToTargetList', parameters: { target_list_id: list } },
      ],
    );
  });

  test('a Lead saved to Converted texts its assigned user once and joins the list, with multiple runs off', async () => {
    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Once', status: 'New', assigned_user_id: SALLY });
    await settle();
    expect(smsTo(SALLY_MOBILE)).toEqual([]);
    await records().update(SYSTEM, 'Leads', lead.id, { status: 'Converted' });
    await settle();
    expect(smsTo(SALLY_MOBILE)).toEqual(['A lead of yours was converted.']);
    const members = await records().listRelated(SYSTEM, 'ProspectLists', list, 'leads', { fields: ['id'] });
    expect(members.records.map((r) => r.id)).toContain(lead.id);
    await records().update(SYSTEM, 'Leads', lead.id, { description: 'saved again' });
    await settle();
    expect(smsTo(SALLY_MOBILE)).toHaveLength(1);
    expect((await processed(onceFlow)).filter((p) => p.parent_id === lead.id).map((p) => p.status)).toEqual(['Complete']);
  });

  test('with multiple runs on, each matching save runs the workflow again', async () => {
    const flow = await workflow(
      { name: 'Every save of a hot lead', flow_module: 'Leads', multiple_runs: true },
      [{ field: 'title', operator: 'Equal_To', value: 'Hot' }],
      [{ action: 'SendSMS', parameters: { recipient: 'number', number: '+14155550777', text: 'Hot lead saved.' } }],
    );
    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Hot', title: 'Hot' });
    await records().update(SYSTEM, 'Leads', lead.id, { description: 'again' });
    await records().update(SYSTEM, 'Leads', lead.id, { description: 'and again' });
    await settle();
    expect(smsTo('+14155550777')).toEqual(['Hot lead saved.', 'Hot lead saved.', 'Hot lead saved.']);
    expect((await processed(flow)).map((p) => p.status)).toEqual(['Complete', 'Complete', 'Complete']);
  });

  test('a workflow row written as SuiteCRM writes it runs unchanged: serialized parameters, module path through a link', async () => {
    const account = await records().create(SYSTEM, 'Accounts', { name: 'Big Customer', industry: 'Banking' });
    const flow = await records().create(SYSTEM, 'AOW_WorkFlow', { name: 'Contacts of banks', flow_module: 'Contacts', status: 'Active', run_when: 'Always', flow_run_on: '0', multiple_runs: false });
    // exactly SuiteCRM's shapes: module_path = base64(serialize(['Contacts', 'accounts'])), parameters with parallel arrays
    await records().create(SYSTEM, 'AOW_Conditions', { aow_workflow_id: flow.id, condition_order: 1, module_path: 'YToyOntpOjA7czo4OiJDb250YWN0cyI7aToxO3M6ODoiYWNjb3VudHMiO30=', field: 'industry', operator: 'Equal_To', value_type: 'Value', value: 'Banking' });
    await records().create(SYSTEM, 'AOW_Actions', {
      aow_workflow_id: flow.id, action_order: 1, action: 'ModifyRecord',
      parameters: suite({ field: { 0: 'title', 1: 'department' }, value: { 0: 'Banking contact', 1: 'last_name' }, value_type: { 0: 'Value', 1: 'Field' } }),
    });
    const outsider = await records().create(SYSTEM, 'Contacts', { last_name: 'Outsider' });
    const contact = await records().create(SYSTEM, 'Contacts', { last_name: 'Banker', account_id: account.id });
    await settle();
    expect(await records().retrieve(SYSTEM, 'Contacts', contact.id)).toMatchObject({ title: 'Banking contact', department: 'Banker' });
    expect((await records().retrieve(SYSTEM, 'Contacts', outsider.id)).title ?? null).toBeNull();
    expect((await processed(flow.id)).map((p) => [p.parent_id, p.status])).toEqual([[contact.id, 'Complete']]);
  });

  test('a failing action records Failed with the reason, and never blocks the save that triggered it', async () => {
    const flow = await workflow(
      { name: 'Broken SMS', flow_module: 'Leads' },
      [{ field: 'lead_source', operator: 'Equal_To', value: 'Web Site' }],
      [{ action: 'SendSMS', parameters: { recipient: 'number', number: 'not a number', text: 'never sent' } }],
    );
    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Broken', lead_source: 'Web Site' });
    expect(lead.id).toBeTruthy();
    await settle();
    const [run] = await processed(flow);
    expect(run).toMatchObject({ parent_id: lead.id, status: 'Failed' });
    expect(String(run.description)).toMatch(/SendSMS \(action 1\): SMS refused: .*not a number/i);
    const state = await get().crm.engine.db.knex('cane_plugin_state').where({ plugin_id: 'org.cane.workflows' });
    expect(state.filter((s: { total_faults: number }) => Number(s.total_faults) > 0)).toEqual([]);
  });

  test('a condition on a record that does not match leaves no trace, and removing from a list works', async () => {
    const flow = await workflow(
      { name: 'Dead leads leave the list', flow_module: 'Leads' },
      [{ field: 'status', operator: 'Equal_To', value: 'Dead' }],
      [{ action: 'RemoveFromTargetList', parameters: { target_list_id: list } }],
    );
    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Leaving', status: 'Converted', assigned_user_id: SALLY });
    await settle();
    expect((await records().listRelated(SYSTEM, 'ProspectLists', list, 'leads', { fields: ['id'] })).records.map((r) => r.id)).toContain(lead.id);
    expect(await processed(flow)).toEqual([]);
    await records().update(SYSTEM, 'Leads', lead.id, { status: 'Dead' });
    await settle();
    expect((await records().listRelated(SYSTEM, 'ProspectLists', list, 'leads', { fields: ['id'] })).records.map((r) => r.id)).not.toContain(lead.id);
    expect((await processed(flow)).map((p) => p.status)).toEqual(['Complete']);
  });

  test('an In_Scheduler workflow over Opportunities closing in the next 3 days runs once per record', async () => {
    const day = (offset: number) => new Date(Date.now() + offset * 86400e3).toISOString().slice(0, 10);
    const opp = (name: string, closes: number) => records().create(SYSTEM, 'Opportunities', { name, amount: 1000, date_closed: day(closes), sales_stage: 'Prospecting' });
    const soon = await opp('Closing soon', 2);
    const later = await opp('Closing later', 10);
    const past = await opp('Closed already', -1);
    const flow = await records().create(SYSTEM, 'AOW_WorkFlow', { name: 'Closing in 3 days', flow_module: 'Opportunities', status: 'Active', run_when: 'In_Scheduler', flow_run_on: '0', multiple_runs: false });
    await records().create(SYSTEM, 'AOW_Conditions', { aow_workflow_id: flow.id, condition_order: 1, module_path: suite(['Opportunities']), field: 'date_closed', operator: 'Less_Than_or_Equal_To', value_type: 'Date', value: suite(['today', 'plus', '3', 'day']) });
    await records().create(SYSTEM, 'AOW_Conditions', { aow_workflow_id: flow.id, condition_order: 2, module_path: suite(['Opportunities']), field: 'date_closed', operator: 'Greater_Than_or_Equal_To', value_type: 'Date', value: suite(['today', 'now', '', '']) });
    await records().create(SYSTEM, 'AOW_Actions', { aow_workflow_id: flow.id, action_order: 1, action: 'ModifyRecord', parameters: suite({ field: ['next_step'], value: ['Call before it closes'], value_type: ['Value'] }) });
    await settle();
    expect(await processed(flow.id)).toEqual([]); // saves do not run an In_Scheduler workflow
    const plugins = get().crm.plugins!;
    const hook = plugins.hook('org.cane.workflows', 'schedule.runScheduled')!;
    await plugins.fireSchedule(hook, new Date('2026-11-30T10:00:00Z'));
    await settle();
    await plugins.fireSchedule(hook, new Date('2026-11-30T10:05:00Z'));
    await settle();
    expect((await processed(flow.id)).map((p) => [p.parent_id, p.status])).toEqual([[soon.id, 'Complete']]);
    expect((await records().retrieve(SYSTEM, 'Opportunities', soon.id)).next_step).toBe('Call before it closes');
    for (const other of [later, past]) expect((await records().retrieve(SYSTEM, 'Opportunities', other.id)).next_step ?? null).toBeNull();
  });

  test('"test on a record" says which conditions hold and what each action would do, and changes nothing', async () => {
    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Dry', status: 'New', assigned_user_id: SALLY });
    await settle();
    const before = get().fake.messages.length;
    const result = await get().crm.plugins!.callPlugin('org.cane.workflows', 'dryRun', { workflowId: onceFlow, recordId: lead.id });
    expect(result).toMatchObject({ ok: true, value: {
      conditions: [{ order: 1, field: 'status', holds: false, detail: 'status is "New"' }],
      actions: [
        { order: 1, action: 'SendSMS', would: expect.stringMatching(/would not run .*send "A lead of yours was converted." to its assigned user \(sally\)/) },
        { order: 2, action: 'AddToTargetList', would: expect.stringMatching(/add it to the target list/) },
      ],
    } });
    await settle();
    expect(get().fake.messages.length).toBe(before);
    expect((await processed(onceFlow)).filter((p) => p.parent_id === lead.id)).toEqual([]);
    // a call the plugin does not offer
    expect(await get().crm.plugins!.callPlugin('org.cane.workflows', 'nothingHere', {})).toEqual({ ok: false, error: "org.cane.workflows is not loaded or offers no call named 'nothingHere'" });
  });

  test('a plugin adds an action type: checked against its schema on save, run by the workflow engine', async () => {
    const flow = await records().create(SYSTEM, 'AOW_WorkFlow', { name: 'Tag converted leads', flow_module: 'Leads', status: 'Active', run_when: 'On_Save', flow_run_on: 'All_Records' });
    const bad = await records().create(SYSTEM, 'AOW_Actions', { aow_workflow_id: flow.id, action_order: 1, action: 'TagRecord', parameters: suite({ colour: 'red' }) }).catch((e) => e);
    expect(bad).toMatchObject({ field: 'parameters', message: 'action 1: TagRecord: tag is required' });
    await records().create(SYSTEM, 'AOW_Actions', { aow_workflow_id: flow.id, action_order: 1, action: 'TagRecord', parameters: suite({ tag: 'vip' }) });
    await records().create(SYSTEM, 'AOW_Conditions', { aow_workflow_id: flow.id, condition_order: 1, module_path: suite(['Leads']), field: 'last_name', operator: 'Equal_To', value_type: 'Value', value: 'Tagged' });
    const lead = await records().create(SYSTEM, 'Leads', { last_name: 'Tagged' });
    await settle();
    expect((await records().retrieve(SYSTEM, 'Leads', lead.id)).description).toBe('tag: vip');
    expect((await processed(flow.id)).map((p) => p.status)).toEqual(['Complete']);
    expect(get().crm.engine.workflowActions.list().map((a) => [a.name, a.label, a.pluginId])).toEqual([['TagRecord', 'Tag the record', 'test.tagger']]);
  });

  test('a Yes/No condition matches the stored 1 and 0 as SuiteCRM writes them', async () => {
    const flow = await workflow(
      { name: 'Do not call', flow_module: 'Leads' },
      [{ field: 'do_not_call', operator: 'Equal_To', value: '1' }],
      [{ action: 'ModifyRecord', parameters: { field: ['description'], value: ['flagged: do not call'], value_type: ['Value'] } }],
    );
    const yes = await records().create(SYSTEM, 'Leads', { last_name: 'Quiet', do_not_call: true });
    const no = await records().create(SYSTEM, 'Leads', { last_name: 'Chatty', do_not_call: false });
    await settle();
    expect((await records().retrieve(SYSTEM, 'Leads', yes.id)).description).toBe('flagged: do not call');
    expect((await records().retrieve(SYSTEM, 'Leads', no.id)).description ?? null).toBeNull();
    expect((await processed(flow)).map((p) => p.parent_id)).toEqual([yes.id]);
  });

  test('workflows start each other on the records they create, and a cycle stops at depth 10 with the reason recorded', async () => {
    const toContact = await workflow(
      { name: 'Ping: lead to contact', flow_module: 'Leads', multiple_runs: true },
      [{ field: 'lead_source', operator: 'Equal_To', value: 'Other' }, { field: 'last_name', operator: 'Starts_With', value: 'Ping' }],
      [{ action: 'CreateRecord', parameters: { record_type: 'Contacts', field: ['last_name', 'lead_source'], value: ['last_name', 'lead_source'], value_type: ['Field', 'Field'] } }],
    );
    const toLead = await workflow(
      { name: 'Pong: contact to lead', flow_module: 'Contacts', multiple_runs: true },
      [{ field: 'last_name', operator: 'Starts_With', value: 'Ping' }],
      [{ action: 'CreateRecord', parameters: { record_type: 'Leads', field: ['last_name', 'lead_source'], value: ['last_name', 'lead_source'], value_type: ['Field', 'Field'] } }],
    );
    await records().create(SYSTEM, 'Leads', { last_name: 'Ping pong', lead_source: 'Other' });
    await settle();
    await settle();
    const leads = (await records().list(SYSTEM, 'Leads', { filter: [{ last_name: 'Ping pong' }], maxNum: 100 })).records;
    const contacts = (await records().list(SYSTEM, 'Contacts', { filter: [{ last_name: 'Ping pong' }], maxNum: 100 })).records;
    // the person's lead (depth 0), then contacts and leads made by workflows at depths 1 to 10; the one at 10 runs nothing
    expect(leads.length + contacts.length).toBe(11);
    const stopped = [...await processed(toContact), ...await processed(toLead)].filter((p) => p.status === 'Failed');
    expect(stopped).toHaveLength(1);
    expect(String(stopped[0].description)).toMatch(/^stopped: this change comes from a chain of 10 workflow-made changes \(the limit is 10/);
  });
}, { plugins: { dirs: [...pluginDirs('/nonexistent').slice(0, 1), { dir: tagger, builtIn: false }] } });
