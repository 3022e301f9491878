import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatImportReport, importSugar } from '../../core/import/import-sugar';
import { loadRegistry } from '../../core/metadata/registry';
import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

/** Issue 14, item 1: `cane import:sugar` brings a module written in Sugar's PHP shapes into the overlay. */
const fixture = path.join(__dirname, '..', 'fixtures', 'sugar-import');
const tempDir = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cane-sugar-${name}-`));
const snapshot = (dir: string) => Object.fromEntries(
  (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]),
);

describe('cane import:sugar', () => {
  it('writes the module, its relationships, Extension fragments and dropdowns, and reports what it left out with file and line', () => {
    const customDir = tempDir('report');
    const result = importSugar(fixture, { customDir });
    // Modules Cane ships get Extension fragments, never copies of their files.
    expect(result.files.map((f) => [f.file, f.status])).toEqual([
      ['Extension/modules/Accounts/Ext/Language/en_us.account_gadgets.json', 'new'],
      ['Extension/modules/Accounts/Ext/Layoutdefs/account_gadgets_Accounts.json', 'new'],
      ['Extension/modules/Accounts/Ext/Vardefs/sugar_import_links.json', 'new'],
      ['Extension/modules/Contacts/Ext/Language/en_us.gadgets_contacts.json', 'new'],
      ['Extension/modules/Contacts/Ext/Vardefs/gadgets_contacts_Contacts.json', 'new'],
      ['metadata/language/en_us.json', 'new'],
      ['metadata/relationships/gadgets_contacts.json', 'new'],
      ['modules/Gadgets/language/en_us.json', 'new'],
      ['modules/Gadgets/metadata/detailviewdefs.json', 'new'],
      ['modules/Gadgets/metadata/editviewdefs.json', 'new'],
      ['modules/Gadgets/metadata/listviewdefs.json', 'new'],
      ['modules/Gadgets/metadata/searchdefs.json', 'new'],
      ['modules/Gadgets/metadata/subpaneldefs.json', 'new'],
      ['modules/Gadgets/vardefs.json', 'new'],
    ]);
    const report = formatImportReport(result);
    expect(report).toContain("skipped: modules/Gadgets/vardefs.php:34: a call of strtoupper() — 'default' left out of the array");
    expect(report).toContain('skipped: modules/Gadgets/vardefs.php:79: a require of another file — not followed');
    expect(report).toContain('skipped: modules/Gadgets/vardefs.php:81: a conditional (if) — not evaluated; neither branch carried over');
    expect(report).toContain('skipped: include/language/en_us.lang.php:9: a call of get_month_names() — the whole statement left out');
    expect(report).toContain('skipped: custom/Extension/modules/Gadgets/Ext/Language/en_us.customgadgets.php:3: a call of sprintf()');
    expect(report).toContain('subpanel \'related_history\' whose rows come from the PHP function get_gadget_history — left out');
    expect(report).toContain('skipped: modules/Gadgets/metadata/quickcreatedefs.php: not PHP (or does not parse) — file left out');
    expect(report).toMatch(/14 written, 0 unchanged, \d+ constructs skipped, 1 files not PHP/);

    const gadget = JSON.parse(fs.readFileSync(path.join(customDir, 'modules/Gadgets/vardefs.json'), 'utf8')).Gadget;
    expect(gadget.templates).toEqual(['basic', 'assignable', 'security_groups']);
    expect(gadget.fields.serial).toEqual({ name: 'serial', vname: 'LBL_SERIAL', type: 'varchar', len: '60', required: true });
    expect(gadget.fields.never).toBeUndefined();
    expect(gadget.relationships.account_gadgets).toMatchObject({ lhs_module: 'Accounts', rhs_key: 'account_id' });
    expect(gadget.indices).toEqual([{ name: 'idx_gadget_account', type: 'index', fields: ['account_id', 'deleted'] }]);

    const registry = loadRegistry({ customDir });
    const gadgets = registry.module('Gadgets');
    expect(gadgets.columns).toEqual(expect.arrayContaining(['id', 'name', 'assigned_user_id', 'kind', 'price', 'serial', 'account_id']));
    expect(gadgets.links.contacts.relationship.join_table).toBe('gadgets_contacts');
    expect(registry.module('Contacts').links.gadgets.module).toBe('Gadgets');
    expect(registry.module('Accounts').links.gadgets.module).toBe('Gadgets');
    expect(registry.module('Accounts').views.subpanels?.subpanel_setup.gadgets).toMatchObject({ list_fields: ['name', 'kind', 'price'] });
    expect(registry.module('Accounts').views.subpanels?.subpanel_setup.contacts).toBeDefined();
    expect(registry.module('Accounts').strings.LBL_GADGETS_SUBPANEL_TITLE).toBe('Gadgets');
    expect(gadgets.views.list?.KIND).toMatchObject({ default: true });
    expect(gadgets.views.search?.layout.basic_search.name).toEqual({ name: 'name' });
    expect(gadgets.strings.LBL_SERIAL).toBe('Serial No.');
    expect(registry.dropdown('gadget_kind_dom')).toEqual({ tool: 'Tool', toy: 'Toy', gizmo: 'Gizmo' });
    expect(registry.appListStrings.moduleList).toMatchObject({ Accounts: 'Accounts', Gadgets: 'Gadgets' });
  });

  it('changes nothing when the same source is imported twice, and only what changed after a source change', () => {
    const source = tempDir('source');
    fs.cpSync(fixture, source, { recursive: true });
    const customDir = tempDir('again');
    importSugar(source, { customDir });
    const first = snapshot(customDir);
    const again = importSugar(source, { customDir });
    expect(again.files.every((f) => f.status === 'unchanged')).toBe(true);
    expect(snapshot(customDir)).toEqual(first);

    const language = path.join(source, 'modules/Gadgets/language/en_us.lang.php');
    fs.writeFileSync(language, fs.readFileSync(language, 'utf8').replace("'Kind'", "'Gadget Kind'"));
    const changed = importSugar(source, { customDir });
    expect(changed.files.filter((f) => f.status !== 'unchanged').map((f) => [f.file, f.changedKeys])).toEqual([['modules/Gadgets/language/en_us.json', ['/LBL_KIND']]]);
    const after = snapshot(customDir);
    expect(Object.keys(after).filter((f) => after[f] !== first[f])).toEqual(['modules/Gadgets/language/en_us.json']);
  });

  it('writes nothing on a dry run and says what it would write', () => {
    const customDir = path.join(tempDir('dry'), 'custom');
    const result = importSugar(fixture, { customDir, dryRun: true });
    expect(fs.existsSync(customDir)).toBe(false);
    const report = formatImportReport(result);
    expect(report).toContain('would write: modules/Gadgets/vardefs.json (new)');
    expect(report).toMatch(/14 to write, 0 unchanged/);
  });

  it("carries the dropdowns a template's fields use, keeps a field under its key, and leaves out modules on Cane's own tables", () => {
    const source = tempDir('templates');
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
      fs.writeFileSync(path.join(source, file), text);
    };
    write('modules/Tickets/vardefs.php', `<?php
$dictionary['Ticket'] = array('table' => 'tickets', 'fields' => array(
  'odd' => array('name' => 'other', 'type' => 'varchar', 'len' => 20),
  'channel' => array('name' => 'channel', 'type' => 'enum', 'options' => 'ticket_channel_dom', 'len' => 20),
  'origin' => array('name' => 'origin', 'type' => 'enum', 'options' => 'ticket_origin_dom', 'len' => 20),
));
VardefManager::createVardef('Tickets', 'Ticket', array('default', 'issue'));`);
    // Dropdowns a module's own language file holds: Sugar's translate() finds them there.
    write('modules/Tickets/language/en_us.lang.php', `<?php
$mod_strings = array('LBL_CHANNEL' => 'Channel', 'ticket_channel_dom' => array('web' => 'Web', 'phone' => 'Phone'));
$app_list_strings['ticket_origin_dom'] = array('inside' => 'Inside', 'outside' => 'Outside');`);
    // Cells and columns naming no field of the module (another edition's team_name, a copy-paste): Sugar shows nothing there.
    write('modules/Tickets/metadata/detailviewdefs.php', `<?php
$viewdefs['Tickets']['DetailView'] = array('panels' => array('default' => array(array('name', 'team_name'), array(array('name' => 'odd'), array('name' => 'js', 'customCode' => '<b>x</b>')))));`);
    write('modules/Tickets/metadata/listviewdefs.php', `<?php
$listViewDefs['Tickets'] = array('NAME' => array('label' => 'LBL_NAME', 'default' => true), 'ANNUAL_REVENUE' => array('label' => 'LBL_REVENUE', 'default' => true));`);
    // A module whose dictionary PHP copies from another module's (SuiteCRM's Employees from Users).
    write('modules/Staff/vardefs.php', `<?php
if (empty($dictionary['User'])) { include('modules/Users/vardefs.php'); }
$dictionary['Staff'] = $dictionary['User'];
$dictionary['Staff']['fields']['status']['massupdate'] = false;`);
    write('modules/Configs/vardefs.php', "<?php\n$dictionary['Config'] = array('table' => 'config', 'fields' => array());");
    write('include/language/en_us.lang.php', `<?php
$app_list_strings['ticket_type_dom'] = array('a' => 'A');
$app_list_strings['ticket_status_dom'] = array('new' => 'New');
$app_list_strings['ticket_priority_dom'] = array('P1' => 'High');
$app_list_strings['ticket_resolution_dom'] = array('' => '', 'fixed' => 'Fixed');`);
    const customDir = tempDir('templates-out');
    const report = formatImportReport(importSugar(source, { customDir }));
    expect(report).toContain("skipped: modules/Tickets/vardefs.php: field 'odd' whose 'name' is 'other' — kept as 'odd' (the key Sugar uses)");
    expect(report).toContain("skipped: modules/Configs: module Configs, whose table 'config' is one of Cane's own tables — not imported");
    const registry = loadRegistry({ customDir });
    expect(registry.module('Tickets').fields.odd.name).toBe('odd');
    expect(registry.module('Tickets').fields.status.options).toBe('ticket_status_dom');
    expect(registry.dropdown('ticket_resolution_dom')).toEqual({ '': '', fixed: 'Fixed' });
    expect(registry.dropdown('ticket_channel_dom')).toEqual({ web: 'Web', phone: 'Phone' });
    expect(registry.dropdown('ticket_origin_dom')).toEqual({ inside: 'Inside', outside: 'Outside' });
    expect(registry.module('Tickets').strings.LBL_CHANNEL).toBe('Channel');
    expect(report).not.toContain('ticket_channel_dom');
    expect(registry.modules.has('Configs')).toBe(false);
    expect(report).toContain("skipped: modules/Tickets/metadata/detailviewdefs.php: the DetailView cell 'team_name', which names no field of Tickets — left out (Sugar shows nothing there)");
    expect(report).toContain("skipped: modules/Tickets/metadata/listviewdefs.php: the list column 'ANNUAL_REVENUE', which names no field of Tickets — left out (Sugar shows it empty)");
    expect(registry.module('Tickets').views.detail?.panels.default).toEqual([['name', ''], [{ name: 'odd' }, { name: 'js', customCode: '<b>x</b>' }]]);
    expect(Object.keys(registry.module('Tickets').views.list ?? {})).toEqual(['NAME']);
    expect(report).toContain("skipped: modules/Staff/vardefs.php: module Staff, whose $dictionary names no table (PHP builds it from another module's) — module not imported");
    expect(registry.modules.has('Staff')).toBe(false);
  });

  it('imports a single modules/<Module> folder', () => {
    const customDir = tempDir('one');
    const result = importSugar(path.join(fixture, 'modules', 'Gadgets'), { customDir });
    expect(result.files.map((f) => f.file)).toEqual(expect.arrayContaining(['modules/Gadgets/vardefs.json', 'modules/Gadgets/metadata/editviewdefs.json']));
    expect(result.files.map((f) => f.file).some((f) => f.startsWith('modules/Accounts'))).toBe(false);
  });
});

const importedDir = tempDir('crm');
importSugar(fixture, { customDir: importedDir });

describeEachServer('a module imported from Sugar PHP', (get) => {
  it('has its tables, and works through REST v10 and the list, detail and edit pages', async () => {
    const server = get();
    const { db } = server.crm.engine;
    expect((await db.dialect.columns(db.knex, 'gadgets')).has('serial')).toBe(true);
    expect((await db.dialect.columns(db.knex, 'gadgets_contacts')).has('gadget_id')).toBe(true);

    const token = await server.login('admin', 'secret-admin');
    const account = (await server.call('POST', '/rest/v10/Accounts', { token, body: { name: 'Acme' } })).body;
    const contact = (await server.call('POST', '/rest/v10/Contacts', { token, body: { last_name: 'Jones' } })).body;
    const created = await server.call('POST', '/rest/v10/Gadgets', { token, body: { name: 'Sprocket', kind: 'toy', price: '12.50', serial: 'S-1', account_id: account.id } });
    expect(created.status).toBe(200);
    const bad = await server.call('POST', '/rest/v10/Gadgets', { token, body: { name: 'Odd', kind: 'weapon', serial: 'S-2' } });
    expect(bad.status).toBe(422);
    const read = (await server.call('GET', `/rest/v10/Gadgets/${created.body.id}`, { token })).body;
    expect(read).toMatchObject({ name: 'Sprocket', kind: 'toy', serial: 'S-1', account_name: 'Acme' });
    expect(Number(read.price)).toBe(12.5);
    expect((await server.call('POST', `/rest/v10/Gadgets/${read.id}/link/contacts/${contact.id}`, { token })).status).toBe(200);
    const related = (await server.call('GET', `/rest/v10/Contacts/${contact.id}/link/gadgets`, { token })).body;
    expect(related.records.map((r: { name: string }) => r.name)).toEqual(['Sprocket']);
    const ofAccount = (await server.call('GET', `/rest/v10/Accounts/${account.id}/link/gadgets`, { token })).body;
    expect(ofAccount.records.map((r: { name: string }) => r.name)).toEqual(['Sprocket']);

    const ui = session(server.url);
    await ui.login('admin', 'secret-admin');
    const list = await ui.request('GET', '/ui/Gadgets');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Sprocket');
    const detail = await ui.request('GET', `/ui/Gadgets/${read.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('Serial No.');
    expect(detail.text).toContain('Toy');
    const edit = await ui.request('GET', `/ui/Gadgets/${read.id}/edit`);
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('name="kind"');
    expect(edit.text).toContain('name="serial"');
    const accountPage = await ui.request('GET', `/ui/Accounts/${account.id}`);
    expect(accountPage.text).toContain('Sprocket');
  });
}, { customDir: importedDir });
