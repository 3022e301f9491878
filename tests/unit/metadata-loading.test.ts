import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetadataError } from '../../core/errors';
import { loadRegistry } from '../../core/metadata/registry';
import { checkMetadata } from '../../core/metadata/metadata-check';
import { applyTemplates } from '../../core/metadata/templates';
import type { TemplateDef } from '../../core/metadata/types';

const registry = loadRegistry({ customDir: '/nonexistent' });

function customDir(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-custom-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

function loadError(files: Record<string, unknown>): MetadataError {
  try {
    loadRegistry({ customDir: customDir(files) });
  } catch (err) {
    expect(err).toBeInstanceOf(MetadataError);
    return err as MetadataError;
  }
  throw new Error('expected the metadata to be refused');
}

describe('shipped metadata', () => {
  it('declares the modules of the foundation', () => {
    expect([...registry.modules.keys()].sort()).toEqual(['ACLActions', 'ACLRoles', 'AOW_Actions', 'AOW_Conditions', 'AOW_Processed', 'AOW_WorkFlow', 'Accounts', 'ActivityLog', 'Alerts', 'Calls', 'CampaignLog', 'Campaigns', 'Contacts', 'Leads', 'Meetings', 'Notes', 'Opportunities', 'ProspectLists', 'Prospects', 'SMS', 'SMSTemplates', 'Schedulers', 'SchedulersJobs', 'Tasks', 'Users']);
    for (const m of registry.modules.values()) {
      expect(Object.keys(m.views).sort()).toEqual(expect.arrayContaining(['detail', 'edit', 'list', 'quickcreate', 'search']));
      expect(m.strings.LBL_MODULE_NAME).toBeTruthy();
    }
  });

  it('applies templates as VardefManager does: module wins, later template wins, basic columns first', () => {
    const accounts = registry.module('Accounts');
    expect(accounts.dictionary.templates).toEqual({ basic: 'basic', assignable: 'assignable', security_groups: 'security_groups', company: 'company' });
    expect(accounts.fields.name).toMatchObject({ len: 150, audited: true });
    expect(accounts.fields.account_type).toMatchObject({ type: 'enum', options: 'account_type_dom' });
    expect(accounts.columns.slice(0, 10)).toEqual(['id', 'name', 'date_entered', 'date_modified', 'modified_user_id', 'created_by', 'description', 'deleted', 'assigned_user_id', 'account_type']);
    expect(registry.module('Opportunities').fields.name.len).toBe(50);
    expect(registry.module('Contacts').fields.name).toMatchObject({ source: 'non-db', db_concat_fields: ['first_name', 'last_name'] });
    expect(registry.module('Leads').fields.department.len).toBe(100);
    expect(registry.module('ProspectLists').columns[0]).toBe('assigned_user_id');
    expect(registry.module('Campaigns').columns).not.toContain('description');
    expect(registry.relationships.get('accounts_assigned_user')).toMatchObject({ lhs_module: 'Users', rhs_table: 'accounts', rhs_key: 'assigned_user_id' });
  });

  it('merges template lists exactly like array_merge', () => {
    const first: TemplateDef = { fields: { a: { name: 'a', type: 'varchar', len: 1 }, b: { name: 'b', type: 'varchar' } }, indices: [{ name: 'i1', type: 'index', fields: ['a'] }] };
    const second: TemplateDef = { fields: { a: { name: 'a', type: 'varchar', len: 2 }, c: { name: 'c', type: 'int' } }, indices: [{ name: 'i2', type: 'index', fields: ['c'] }] };
    const merged = applyTemplates({ table: 't', templates: ['first', 'second'], fields: { c: { name: 'c', type: 'bool' }, d: { name: 'd', type: 'text' } } },
      { module: 'Things', objectName: 'Thing', table: 't' }, (n) => (n === 'first' ? first : second));
    expect(Object.keys(merged.fields!)).toEqual(['a', 'b', 'c', 'd']);
    expect(merged.fields!.a.len).toBe(2);
    expect(merged.fields!.c.type).toBe('bool');
    expect(merged.indices!.map((i) => i.name)).toEqual(['i1', 'i2']);
  });

  it('links relationships from both sides', () => {
    expect(registry.module('Contacts').links.accounts).toMatchObject({ side: 'rhs', module: 'Accounts', one: true });
    expect(registry.module('Accounts').links.contacts).toMatchObject({ side: 'lhs', module: 'Contacts', one: false });
    expect(registry.module('Accounts').links.member_of).toMatchObject({ side: 'rhs', one: true });
    expect(registry.module('Accounts').links.members).toMatchObject({ side: 'lhs', one: false });
    expect(registry.module('Opportunities').links.contacts.relationship.relFields).toEqual(['contact_role']);
    expect(registry.module('Campaigns').fields.campaign_type).toMatchObject({ options: 'campaign_type_dom' });
    expect(registry.dropdown('campaign_type_dom')).toHaveProperty('SMS');
  });
});

describe('invalid metadata stops start-up, naming file, pointer and rule', () => {
  it('bad JSON: file and line', () => {
    const err = loadError({ 'modules/Widgets/vardefs.json': '{\n  "Widget": {\n    "table": "widgets",\n  }\n}' });
    expect(err.file).toMatch(/modules\/Widgets\/vardefs\.json$/);
    expect(err.rule).toBe('json');
    expect(err.message).toMatch(/line 4/);
  });

  it('schema violations: pointer and keyword', () => {
    const err = loadError({ 'modules/Widgets/vardefs.json': { Widget: { table: 'widgets', fields: { size: { name: 'size', type: 'integer' } } } } });
    expect(err.pointer).toBe('/Widget/fields/size/type');
    expect(err.rule).toBe('enum');
    const typo = loadError({ 'modules/Widgets/vardefs.json': { Widget: { table: 'widgets', feilds: {} } } });
    expect(typo.message).toContain("unknown key 'feilds'");
    expect(typo.rule).toBe('additionalProperties');
  });

  it('loads, as Sugar does, a field naming an unknown dropdown or relationship, with a note that metadata:check reports', () => {
    const notes: string[] = [];
    const loaded = loadRegistry({ warn: (m) => notes.push(m), customDir: customDir({ 'modules/Accounts/vardefs.json': { Account: { fields: {
      tier_c: { type: 'enum', options: 'nope_dom' }, things: { type: 'link', relationship: 'account_things' },
    } } } }) });
    expect(notes).toEqual(expect.arrayContaining([
      "Accounts.tier_c: dropdown 'nope_dom' is not defined in app_list_strings; its values are not checked",
      'Accounts.things: relationship account_things is not declared by any module; link disabled',
    ]));
    expect(loaded.module('Accounts').fields.tier_c.options).toBeUndefined();
    expect(loaded.module('Accounts').links.things).toBeUndefined();
    expect(checkMetadata(loaded).filter((p) => p.rule === 'unknown_relationship').map((p) => p.message)).toEqual(["Accounts.things: relationship 'account_things' is declared by no module; the link is disabled"]);
  });

  it('unknown templates, fields in layouts and index columns', () => {
    const template = loadError({ 'modules/Widgets/vardefs.json': { Widget: { table: 'widgets', templates: ['basic', 'gadget'] } } });
    expect(template.rule).toBe('enum');
    const layout = loadError({ 'modules/Accounts/metadata/listviewdefs.json': { Accounts: { NAME: { label: 'LBL_NAME' }, NMAE: { label: 'x' } } } });
    expect([layout.pointer, layout.rule]).toEqual(['/Accounts/NMAE', 'field']);
    const detail = loadError({ 'modules/Accounts/metadata/detailviewdefs.json': { Accounts: { DetailView: { panels: { default: [['name', 'phone_ofice']] } } } } });
    expect(detail.pointer).toBe('/Accounts/DetailView/panels/default/0/1');
    const index = loadError({ 'modules/Widgets/vardefs.json': { Widget: { table: 'widgets', templates: ['basic'], indices: [{ name: 'idx_w', type: 'index', fields: ['colour'] }] } } });
    expect(index.message).toContain("uses 'colour', which is not a column of widgets");
    const newField = loadError({ 'modules/Accounts/vardefs.json': { Account: { fields: { typeless_c: { len: 3 } } } } });
    expect(newField.message).toContain("new field 'typeless_c' needs a 'type'");
    const duplicate = loadError({ 'modules/Widgets/vardefs.json': { Widget: { table: 'accounts', templates: ['basic'] } } });
    expect(duplicate.message).toContain("table 'accounts' is already declared");
  });
});

describe('sale and issue templates', () => {
  it('substitute the object name as Sugar does ($_object_name)', () => {
    const dir = customDir({
      'modules/Bugs/vardefs.json': { Bug: { table: 'bugs', audited: true, templates: ['default', 'assignable', 'issue'], fields: { found_in_release: { type: 'varchar', len: 255 } } } },
      'modules/Deals/vardefs.json': { Deal: { table: 'deals', templates: ['default', 'assignable', 'sale'], fields: {} } },
      'metadata/language/en_us.json': { app_list_strings: {
        bug_type_dom: { Defect: 'Defect', Feature: 'Feature' }, bug_status_dom: { New: 'New' }, bug_priority_dom: { High: 'High' }, bug_resolution_dom: { Fixed: 'Fixed' },
        deal_type_dom: { New: 'New' },
      } },
    });
    const reg = loadRegistry({ customDir: dir });
    const bugs = reg.module('Bugs');
    expect(bugs.fields.bug_number).toMatchObject({ type: 'int', auto_increment: true });
    expect(bugs.fields.type.options).toBe('bug_type_dom');
    expect(bugs.indices.map((i) => [i.name, i.type, i.fields])).toEqual([['bugspk', 'primary', ['id']], ['bugsnumk', 'unique', ['bug_number']]]);
    expect(bugs.fields.name).toMatchObject({ vname: 'LBL_SUBJECT', audited: true });
    const deals = reg.module('Deals');
    expect(deals.fields.deal_type.options).toBe('deal_type_dom');
    expect(deals.fields.probability.validation).toEqual({ type: 'range', min: 0, max: 100 });
    expect(deals.fields.amount).toMatchObject({ type: 'currency', dbType: 'double', required: true });
    expect(reg.relationships.get('deals_assigned_user')?.rhs_table).toBe('deals');
  });
});
