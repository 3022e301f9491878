import { serialize } from 'php-serialize';
import { syncSchema } from '../../core/db/sync';
import { loadRegistry } from '../../core/metadata/registry';
import { SYSTEM } from '../../core/records/actor';
import { describeEachDatabase } from '../helpers/databases';
import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

const registry = loadRegistry({ customDir: '/nonexistent' });

/**
 * SuiteCRM 7.14's AOW tables as docs/reference/sugar-reference.md §5.5 lists them: columns
 * ("name type [NOT NULL] [default 'x']", bool is tinyint(1)) in order, then indices.
 */
const REFERENCE: Record<string, { columns: string; indices: string }> = {
  aow_workflow: {
    columns: "id char(36) NOT NULL; name varchar(255); date_entered datetime; date_modified datetime; modified_user_id char(36); created_by char(36); description text; deleted bool default '0'; assigned_user_id char(36); flow_module varchar(100); flow_run_on varchar(100) default '0'; status varchar(100) default 'Active'; run_when varchar(100) default 'Always'; multiple_runs bool default '0'; run_on_import bool default '0'",
    indices: 'aow_workflowpk primary (id); aow_workflow_index_status index (status)',
  },
  aow_conditions: {
    columns: "id char(36) NOT NULL; name varchar(255); date_entered datetime; date_modified datetime; modified_user_id char(36); created_by char(36); description text; deleted bool default '0'; aow_workflow_id char(36); condition_order int(255); module_path longtext; field varchar(100); operator varchar(100); value_type varchar(255); value varchar(255)",
    indices: 'aow_conditionspk primary (id); aow_conditions_index_workflow_id index (aow_workflow_id)',
  },
  aow_actions: {
    columns: "id char(36) NOT NULL; name varchar(255); date_entered datetime; date_modified datetime; modified_user_id char(36); created_by char(36); description text; deleted bool default '0'; aow_workflow_id char(36); action_order int(255); action varchar(100); parameters longtext",
    indices: 'aow_actionspk primary (id); aow_action_index_workflow_id index (aow_workflow_id)',
  },
  aow_processed: {
    columns: "id char(36) NOT NULL; name varchar(255); date_entered datetime; date_modified datetime; modified_user_id char(36); created_by char(36); description text; deleted bool default '0'; aow_workflow_id char(36); parent_id char(36); parent_type varchar(100); status varchar(100) default 'Pending'",
    indices: 'aow_processedpk primary (id); aow_processed_index_workflow index (aow_workflow_id,status,parent_id,deleted); aow_processed_index_status index (status); aow_processed_index_workflow_id index (aow_workflow_id)',
  },
  aow_processed_aow_actions: {
    columns: "id varchar(36) NOT NULL; aow_processed_id varchar(36); aow_action_id varchar(36); status varchar(36) default 'Pending'; date_modified datetime; deleted bool default '0'",
    indices: 'aow_processed_aow_actionsspk primary (id); idx_aow_processed_aow_actions alternate_key (aow_processed_id,aow_action_id); idx_actid_del_freid index (aow_action_id,deleted,aow_processed_id)',
  },
};

interface Column { name: string; type: string; notNull: boolean; default: string | null }

function parseColumns(spec: string): Column[] {
  return spec.split('; ').map((part) => {
    const m = /^(\w+) (\S+)( NOT NULL)?(?: default '(.*)')?$/.exec(part);
    if (!m) throw new Error(`unreadable reference column: ${part}`);
    return { name: m[1], type: m[2] === 'bool' ? 'tinyint(1)' : m[2], notNull: Boolean(m[3]), default: m[4] ?? null };
  });
}

function parseIndices(spec: string): Array<{ name: string; type: string; fields: string[] }> {
  return spec.split('; ').map((part) => {
    const m = /^(\w+) (\w+) \(([\w,]+)\)$/.exec(part)!;
    return { name: m[1], type: m[2], fields: m[3].split(',') };
  });
}

const unquote = (value: unknown) => (value === null || value === undefined || value === 'NULL' ? null : String(value).replace(/^'(.*)'$/, '$1'));

describe('AOW metadata', () => {
  it('declares the four modules as SuiteCRM does, with the run-on default readable', () => {
    expect(registry.module('AOW_WorkFlow')).toMatchObject({ objectName: 'AOW_WorkFlow', table: 'aow_workflow', audited: true, optimisticLocking: true });
    expect(registry.module('AOW_WorkFlow').dictionary.templates).toEqual({ basic: 'basic', assignable: 'assignable', security_groups: 'security_groups' });
    expect(registry.module('AOW_Conditions')).toMatchObject({ objectName: 'AOW_Condition', table: 'aow_conditions' });
    expect(registry.module('AOW_Actions')).toMatchObject({ objectName: 'AOW_Action', table: 'aow_actions' });
    expect(registry.module('AOW_Processed')).toMatchObject({ objectName: 'AOW_Processed', table: 'aow_processed', appendOnly: null });
    expect(registry.dropdown('aow_run_on_list')).toMatchObject({ 0: 'All Records', All_Records: 'All Records', New_Records: 'New Records', Modified_Records: 'Modified Records' });
    expect(Object.keys(registry.dropdown('aow_condition_type_list')!)).toEqual(['Value', 'Field', 'Any_Change', 'SecurityGroup', 'Date', 'Multi']);
    expect(Object.keys(registry.dropdown('aow_actions_list')!)).toEqual(['CreateRecord', 'ModifyRecord', 'ComputeField', 'SendEmail', 'SendSMS', 'AddToTargetList', 'RemoveFromTargetList', 'Delay']);
    for (const module of Object.keys(registry.dropdown('aow_moduleList')!).filter(Boolean)) expect(registry.modules.has(module)).toBe(true);
    expect(registry.module('AOW_WorkFlow').links).toMatchObject({ aow_conditions: { module: 'AOW_Conditions' }, aow_actions: { module: 'AOW_Actions' }, aow_processed: { module: 'AOW_Processed' } });
    expect(registry.module('AOW_Processed').links.aow_actions.relationship.relFields).toEqual(['status']);
    for (const module of ['Accounts', 'Contacts', 'Leads', 'Opportunities']) {
      expect(registry.module(module).links.aow_processed.relationship).toMatchObject({ rhs_key: 'parent_id', relationship_role_column: 'parent_type', relationship_role_column_value: module });
      expect(registry.module(module).views.subpanels?.subpanel_setup.aow_processed).toMatchObject({ get_subpanel_data: 'aow_processed' });
    }
  });

  it('labels every field, layout panel and subpanel of the four modules', () => {
    for (const name of ['AOW_WorkFlow', 'AOW_Conditions', 'AOW_Actions', 'AOW_Processed']) {
      const m = registry.module(name);
      const missing: string[] = [];
      for (const field of Object.values(m.fields)) if (field.vname && registry.label(name, field.vname) === field.vname) missing.push(field.vname);
      for (const layout of [m.views.detail, m.views.edit]) for (const panel of Object.keys(layout?.panels ?? {})) if (registry.label(name, panel) === panel) missing.push(panel);
      for (const panel of Object.values(m.views.subpanels?.subpanel_setup ?? {})) if (registry.label(name, String(panel.title_key)) === panel.title_key) missing.push(String(panel.title_key));
      expect([name, missing.filter((k) => k !== 'LBL_SECURITYGROUPS')]).toEqual([name, []]);
    }
  });
});

describeEachDatabase('AOW tables match SuiteCRM 7.14', (get) => {
  it('creates the columns and indices of sugar-reference §5.5', async () => {
    const { db } = get();
    await syncSchema(db, registry);
    const problems: string[] = [];
    for (const [table, spec] of Object.entries(REFERENCE)) {
      const expected = parseColumns(spec.columns);
      let actual: Column[];
      if (db.dialect.name === 'sqlite') {
        const rows: Array<{ name: string; type: string; notnull: number; dflt_value: unknown }> = await db.knex.raw(`PRAGMA table_info("${table}")`);
        actual = rows.map((r) => ({ name: r.name, type: r.type.toLowerCase(), notNull: r.notnull === 1, default: unquote(r.dflt_value) }));
      } else {
        const rows: Array<{ name: string; type: string; nullable: string; def: string | null }> = await db.knex('information_schema.columns')
          .select({ name: 'COLUMN_NAME', type: 'COLUMN_TYPE', nullable: 'IS_NULLABLE', def: 'COLUMN_DEFAULT' })
          .whereRaw('table_schema = DATABASE()').andWhere('TABLE_NAME', table).orderBy('ORDINAL_POSITION');
        actual = rows.map((r) => ({ name: r.name, type: r.type.toLowerCase(), notNull: r.nullable === 'NO', default: unquote(r.def) }));
      }
      // SuiteCRM's columns first, in its order; then only the columns Cane adds on purpose.
      const own = actual.filter((c) => !(CANE_COLUMNS[table] ?? []).includes(c.name));
      if (own.map((c) => c.name).join() !== expected.map((c) => c.name).join()) problems.push(`${table}: columns ${actual.map((c) => c.name).join(',')}`);
      if (actual.slice(own.length).map((c) => c.name).join() !== (CANE_COLUMNS[table] ?? []).join()) problems.push(`${table}: Cane's extra columns ${actual.slice(own.length).map((c) => c.name).join(',')}`);
      for (const col of expected) {
        const got = actual.find((c) => c.name === col.name);
        if (!got) continue;
        if (got.type !== col.type) problems.push(`${table}.${col.name}: ${got.type} != ${col.type}`);
        if (got.notNull !== col.notNull) problems.push(`${table}.${col.name}: NOT NULL ${got.notNull} != ${col.notNull}`);
        if (got.default !== col.default) problems.push(`${table}.${col.name}: default ${got.default} != ${col.default}`);
      }

      for (const index of parseIndices(spec.indices)) {
        let columns: string[];
        if (db.dialect.name === 'sqlite') {
          if (index.type === 'primary') {
            const rows: Array<{ name: string; pk: number }> = await db.knex.raw(`PRAGMA table_info("${table}")`);
            columns = rows.filter((r) => r.pk > 0).sort((a, b) => a.pk - b.pk).map((r) => r.name);
          } else {
            const rows: Array<{ name: string }> = await db.knex.raw(`PRAGMA index_info("${db.dialect.indexName(table, index.name)}")`);
            columns = rows.map((r) => r.name);
          }
        } else {
          const rows: Array<{ col: string }> = await db.knex('information_schema.statistics').select({ col: 'COLUMN_NAME' })
            .whereRaw('table_schema = DATABASE()').andWhere({ TABLE_NAME: table, INDEX_NAME: index.type === 'primary' ? 'PRIMARY' : index.name }).orderBy('SEQ_IN_INDEX');
          columns = rows.map((r) => r.col);
        }
        if (columns.join() !== index.fields.join()) problems.push(`${table}: index ${index.name} (${columns.join()}) != (${index.fields.join()})`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/** Columns Cane adds to SuiteCRM's tables (after SuiteCRM's own; SuiteCRM ignores them). */
const CANE_COLUMNS: Record<string, string[]> = { aow_processed: ['resume_at', 'resume_from'] };

/** base64 of PHP's serialize(), as SuiteCRM stores module_path and parameters. */
const suite = (value: unknown) => Buffer.from(serialize(value), 'utf8').toString('base64');

describeEachServer('AOW workflows through REST v10', (get) => {
  let token = '';
  beforeAll(async () => { token = await get().login('admin', 'secret-admin'); });
  const api = (method: string, path: string, body?: unknown) => get().call(method, `/rest/v10${path}`, { token, body });

  it('creates a workflow with a condition and an action and reads them back through its links', async () => {
    const flow = await api('POST', '/AOW_WorkFlow', { name: 'Welcome new leads', flow_module: 'Leads', run_when: 'On_Save' });
    expect(flow.status).toBe(200);
    expect(flow.body).toMatchObject({ name: 'Welcome new leads', flow_module: 'Leads', flow_run_on: '0', status: 'Active', run_when: 'On_Save', multiple_runs: false, run_on_import: false, _module: 'AOW_WorkFlow' });
    const modulePath = suite(['Leads']);
    const condition = await api('POST', '/AOW_Conditions', { aow_workflow_id: flow.body.id, condition_order: 1, module_path: modulePath, field: 'status', operator: 'Equal_To', value_type: 'Value', value: 'New' });
    expect(condition.status).toBe(200);
    expect(condition.body).toMatchObject({ aow_workflow_id: flow.body.id, aow_workflow_name: 'Welcome new leads', condition_order: 1, module_path: modulePath });
    const list = await api('POST', '/ProspectLists', { name: 'Newsletter', list_type: 'default' });
    const parameters = suite({ target_list_id: list.body.id });
    const action = await api('POST', '/AOW_Actions', { aow_workflow_id: flow.body.id, action_order: 1, action: 'AddToTargetList', name: 'Add to newsletter', parameters });
    expect(action.status).toBe(200);

    const conditions = await api('GET', `/AOW_WorkFlow/${flow.body.id}/link/aow_conditions`);
    expect(conditions.body.records).toMatchObject([{ id: condition.body.id, field: 'status', operator: 'Equal_To', value_type: 'Value', value: 'New', module_path: modulePath }]);
    const actions = await api('GET', `/AOW_WorkFlow/${flow.body.id}/link/aow_actions`);
    expect(actions.body.records).toMatchObject([{ id: action.body.id, action: 'AddToTargetList', action_order: 1, parameters }]);
    expect((await api('GET', `/AOW_Conditions/${condition.body.id}/link/aow_workflow`)).body.records).toMatchObject([{ id: flow.body.id }]);
    const filtered = await api('GET', `/AOW_WorkFlow?filter=${encodeURIComponent(JSON.stringify([{ flow_module: 'Leads' }, { status: 'Active' }]))}&fields=name`);
    expect(filtered.body.records.map((r: { name: string }) => r.name)).toEqual(['Welcome new leads']);
  });

  it('refuses conditions and actions a workflow could not run, naming the row and the field', async () => {
    const flow = await api('POST', '/AOW_WorkFlow', { name: 'Checked', flow_module: 'Leads', run_when: 'On_Save' });
    const condition = (fields: Record<string, unknown>) => api('POST', '/AOW_Conditions', { aow_workflow_id: flow.body.id, condition_order: 2, module_path: suite(['Leads']), operator: 'Equal_To', value_type: 'Value', ...fields });
    const action = (action: string, parameters: unknown) => api('POST', '/AOW_Actions', { aow_workflow_id: flow.body.id, action_order: 3, action, parameters: suite(parameters) });
    const refused = (res: { status: number; body: any }) => [res.status, res.body.field, res.body.error_message];
    expect(refused(await condition({ field: 'nope', value: 'x' }))).toEqual([422, 'field', "condition 2: Leads has no field 'nope'"]);
    expect(refused(await condition({ field: 'do_not_call', operator: 'Contains', value: '1' }))).toEqual([422, 'operator', "condition 2: 'Contains' does not apply to Leads.do_not_call (a bool field)"]);
    expect(refused(await condition({ field: 'status', value: 'Sleeping' }))).toEqual([422, 'value', "condition 2: 'Sleeping' is not an option of Leads.status"]);
    expect(refused(await condition({ module_path: suite(['Leads', 'spaceship']), field: 'name', value: 'x' }))).toEqual([422, 'module_path', "condition 2: Leads has no link 'spaceship' (module_path)"]);
    expect(refused(await condition({ field: 'birthdate', operator: 'Less_Than', value_type: 'Date', value: suite(['today', 'minus', '-3', 'day']) }))).toEqual([422, 'value', "condition 2: date amount '-3' must be a whole number from 0 to 5256000"]);
    expect(refused(await action('SendSMS', { recipient: 'assigned_user' }))).toEqual([422, 'parameters', 'action 3: SendSMS needs a template or a text']);
    expect(refused(await action('ModifyRecord', { field: ['colour'], value: ['red'], value_type: ['Value'] }))).toEqual([422, 'parameters', "action 3: Leads has no field 'colour'"]);
    expect(refused(await action('AddToTargetList', { target_list_id: 'no-such-list' }))).toEqual([422, 'parameters', "action 3: no target list with id 'no-such-list'"]);
    expect(refused(await action('Delay', { amount: '-2', unit: 'day' }))).toEqual([422, 'parameters', "action 3: a delay is a whole number of days from 1 up to a year, not '-2'"]);
    expect(refused(await action('Delay', { amount: '400', unit: 'day' }))).toEqual([422, 'parameters', "action 3: a delay is a whole number of days from 1 up to a year, not '400'"]);
    expect(refused(await action('Delay', { amount: '2', unit: 'fortnight' }))).toEqual([422, 'parameters', "action 3: delay unit 'fortnight' is not one of minute, hour, day, week, business_hours"]);
    expect(refused(await action('Delay', { amount: '3000', unit: 'business_hours' }))).toEqual([422, 'parameters', "action 3: a delay is a whole number of business hours from 1 up to a year, not '3000'"]);
    expect(refused(await action('ComputeField', {}))).toEqual([422, 'action', "action 3: the action 'ComputeField' is not available in Cane (ModifyRecord, CreateRecord, SendSMS, AddToTargetList, RemoveFromTargetList, Delay)"]);
    // nothing half-applied: none of the refused rows exists
    expect((await api('GET', `/AOW_WorkFlow/${flow.body.id}/link/aow_conditions`)).body.records).toEqual([]);
    expect((await api('GET', `/AOW_WorkFlow/${flow.body.id}/link/aow_actions`)).body.records).toEqual([]);
    expect((await condition({ field: 'birthdate', operator: 'Less_Than', value_type: 'Date', value: suite(['today', 'minus', '3', 'day']) })).status).toBe(200);
  });

  it('refuses bad dropdown values, naming each field', async () => {
    const flow = await api('POST', '/AOW_WorkFlow', { name: 'Bad', flow_module: 'Spaceships', flow_run_on: 'Some_Records', status: 'Paused', run_when: 'Sometimes' });
    expect(flow).toMatchObject({ status: 422, body: { error: 'invalid_parameter' } });
    expect(flow.body.fields.map((f: { field: string; rule: string }) => `${f.field}:${f.rule}`).sort()).toEqual(['flow_module:enum', 'flow_run_on:enum', 'run_when:enum', 'status:enum']);
    expect((await api('POST', '/AOW_WorkFlow', { name: 'No module' })).body.fields).toMatchObject([{ field: 'flow_module', rule: 'required' }]);
    const condition = await api('POST', '/AOW_Conditions', { field: 'name', operator: 'Looks_Like', value_type: 'Guess' });
    expect(condition.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(['operator', 'value_type']);
    const action = await api('POST', '/AOW_Actions', { action: 'LaunchRocket' });
    // action is free text as in SuiteCRM (plugins add action types); the row check names the problem
    expect(action).toMatchObject({ status: 422, body: { field: 'aow_workflow_id', error_message: "action ?: no workflow with id ''" } });
  });

  it('keeps processed runs read-only for users while the engine writes them', async () => {
    const { crm } = get();
    const flow = (await api('POST', '/AOW_WorkFlow', { name: 'Audit me', flow_module: 'Accounts' })).body;
    const action = (await api('POST', '/AOW_Actions', { aow_workflow_id: flow.id, action_order: 1, action: 'ModifyRecord' })).body;
    const account = (await api('POST', '/Accounts', { name: 'Processed Co' })).body;
    // The workflow engine (a plugin, so a system actor) records the run and then updates it.
    const run = await crm.records.create(SYSTEM, 'AOW_Processed', { aow_workflow_id: flow.id, parent_type: 'Accounts', parent_id: account.id, status: 'Running' });
    await crm.records.link(SYSTEM, 'AOW_Processed', run.id, 'aow_actions', action.id, { status: 'Complete' });
    await crm.records.update(SYSTEM, 'AOW_Processed', run.id, { status: 'Complete' });

    expect((await api('GET', `/AOW_Processed/${run.id}`)).body).toMatchObject({ status: 'Complete', parent_name: 'Processed Co', aow_workflow: 'Audit me' });
    expect((await api('GET', `/AOW_WorkFlow/${flow.id}/link/aow_processed`)).body.records).toMatchObject([{ id: run.id, status: 'Complete' }]);
    expect((await api('GET', `/Accounts/${account.id}/link/aow_processed`)).body.records).toMatchObject([{ id: run.id, parent_type: 'Accounts' }]);
    expect((await api('GET', `/Contacts/${account.id}/link/aow_processed`)).status).toBe(404);
    expect((await api('GET', `/AOW_Processed/${run.id}/link/aow_actions`)).body.records).toMatchObject([{ id: action.id, action: 'ModifyRecord', status: 'Complete' }]);
    await expect(crm.records.link(SYSTEM, 'AOW_Processed', run.id, 'aow_actions', action.id, { status: 'Done' })).rejects.toMatchObject({ problems: [{ field: 'status', rule: 'enum' }] });

    // Users, admins included, may read the runs but not write them.
    expect(await api('POST', '/AOW_Processed', { aow_workflow_id: flow.id, status: 'Pending' })).toMatchObject({ status: 403 });
    expect(await api('PUT', `/AOW_Processed/${run.id}`, { status: 'Failed' })).toMatchObject({ status: 403 });
    expect(await api('DELETE', `/AOW_Processed/${run.id}`)).toMatchObject({ status: 403 });
    expect((await api('GET', '/me')).body.current_user.acl.AOW_Processed).toEqual({ view: 'yes', list: 'yes', edit: 'no', delete: 'no', import: 'no', export: 'yes', massupdate: 'no' });
    expect((await api('GET', '/me')).body.current_user.acl.AOW_WorkFlow).toMatchObject({ edit: 'yes', delete: 'yes' });
    expect((await api('GET', `/AOW_Processed/${run.id}`)).body.status).toBe('Complete');
  });

  it('shows the workflow in the menu with its conditions, actions and runs as subpanels, and runs on the records', async () => {
    const { crm } = get();
    const ui = session(get().url);
    const csrf = await ui.login('admin', 'secret-admin');
    const home = await ui.request('GET', '/ui');
    expect(home.text).toContain('href="/ui/AOW_WorkFlow"');
    // A workflow's conditions and actions are reached from it; its runs also from Admin › Process Audit, as in SuiteCRM.
    for (const child of ['AOW_Conditions', 'AOW_Actions']) expect(home.text).not.toContain(`href="/ui/${child}"`);
    expect(home.text).toMatch(/<summary>Admin<\/summary>[\s\S]*href="\/ui\/AOW_Processed"/);

    const form = await ui.request('GET', '/ui/AOW_WorkFlow/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('<option value="0" selected>All Records</option>');
    const created = await ui.request('POST', '/ui/AOW_WorkFlow/new', { csrf, name: 'From the form', flow_module: 'Opportunities', flow_run_on: 'New_Records', status: 'Inactive', run_when: 'In_Scheduler' });
    expect(created.status).toBe(302);
    const saved = (await api('GET', `/AOW_WorkFlow?filter=${encodeURIComponent(JSON.stringify([{ name: 'From the form' }]))}`)).body.records[0];
    expect(saved).toMatchObject({ flow_module: 'Opportunities', flow_run_on: 'New_Records', status: 'Inactive', run_when: 'In_Scheduler', multiple_runs: false });

    const flow = (await api('POST', '/AOW_WorkFlow', { name: 'Shown flow', flow_module: 'Contacts' })).body;
    await api('POST', '/AOW_Conditions', { aow_workflow_id: flow.id, condition_order: 1, field: 'last_name', operator: 'Starts_With', value_type: 'Value', value: 'Sh' });
    const contact = (await api('POST', '/Contacts', { last_name: 'Shown' })).body;
    const run = await crm.records.create(SYSTEM, 'AOW_Processed', { aow_workflow_id: flow.id, parent_type: 'Contacts', parent_id: contact.id, status: 'Complete' });

    const detail = await ui.request('GET', `/ui/AOW_WorkFlow/${flow.id}`);
    expect(detail.status).toBe(200);
    for (const id of ['subpanel-aow_conditions', 'subpanel-aow_actions', 'subpanel-aow_processed']) expect(detail.text).toContain(`id="${id}"`);
    expect(detail.text).toContain('Starts With');
    expect(detail.text).toContain('>Shown<');

    const onContact = await ui.request('GET', `/ui/Contacts/${contact.id}`);
    const panel = onContact.text.slice(onContact.text.indexOf('id="subpanel-aow_processed"'));
    expect(panel).toContain('Processed Workflows');
    expect(panel).toContain(`href="/ui/AOW_Processed/${run.id}"`);
    expect(panel.slice(0, panel.indexOf('</section>'))).not.toContain('Remove');

    const runPage = await ui.request('GET', `/ui/AOW_Processed/${run.id}`);
    expect(runPage.status).toBe(200);
    expect(runPage.text).not.toContain(`/AOW_Processed/${run.id}/edit`);
    expect(runPage.text).not.toContain(`/AOW_Processed/${run.id}/delete`);
    expect((await ui.request('GET', `/ui/AOW_Processed/${run.id}/edit`)).status).toBe(403);
    expect((await ui.request('GET', '/ui/AOW_Processed')).text).not.toContain('href="/ui/AOW_Processed/new"');
  });
});
