import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yazl from 'yazl';
import { formatImportReport, importSugar, importSugarSource } from '../../core/import/import-sugar';
import { loadRegistry } from '../../core/metadata/registry';
import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

/** Issue 14: a Module Builder package (.zip from "Publish") imports as Sugar's Module Loader would install it. */
const fixture = path.join(__dirname, '..', 'fixtures', 'module-builder-package');
const tempDir = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cane-mb-${name}-`));

/** Zips a folder's files under `prefix` in the archive. */
async function zipFolder(dir: string, zipFile: string, prefix = ''): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const file of (fs.readdirSync(dir, { recursive: true }) as string[]).sort()) {
    if (fs.statSync(path.join(dir, file)).isFile()) zip.addFile(path.join(dir, file), prefix + file.split(path.sep).join('/'));
  }
  zip.end();
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(fs.createWriteStream(zipFile)).on('close', resolve).on('error', reject));
  return zipFile;
}

const EXPECTED_FILES = [
  'Extension/modules/Contacts/Ext/Language/en_us.AcmeWidgets.json',
  'Extension/modules/Contacts/Ext/Layoutdefs/acme_widgets_contacts_Contacts.json',
  'Extension/modules/Contacts/Ext/Vardefs/acme_widgets_contacts_Contacts.json',
  'metadata/language/en_us.json',
  'metadata/relationships/acme_widgets_contacts.json',
  'modules/acme_Widgets/language/en_us.json',
  'modules/acme_Widgets/metadata/detailviewdefs.json',
  'modules/acme_Widgets/metadata/editviewdefs.json',
  'modules/acme_Widgets/metadata/listviewdefs.json',
  'modules/acme_Widgets/metadata/searchdefs.json',
  'modules/acme_Widgets/metadata/subpaneldefs.json',
  'modules/acme_Widgets/vardefs.json',
];

describe('cane import:sugar with a Module Builder package', () => {
  it('installs the package as Sugar would: module copied, relationship, fields, subpanels and labels as Extension fragments', async () => {
    const zip = await zipFolder(fixture, path.join(tempDir('zip'), 'AcmeWidgets.zip'));
    const customDir = tempDir('out');
    const result = await importSugarSource(zip, { customDir });
    expect(result.files.map((f) => [f.file, f.status])).toEqual(EXPECTED_FILES.map((f) => [f, 'new']));
    const report = formatImportReport(result);
    // Named as the package holds them, never run.
    expect(report).toContain("skipped: manifest.php: the installdefs section 'post_execute' — left out: Cane does not install PHP code, scripts or hooks from packages");
    expect(report).toContain('skipped: SugarModules/modules/acme_Widgets/vardefs.php:128: a conditional (if)');
    expect(report).not.toContain('layoutfields');

    const registry = loadRegistry({ customDir });
    const widgets = registry.module('acme_Widgets');
    expect(widgets.table).toBe('acme_widgets');
    expect(widgets.columns).toEqual(expect.arrayContaining(['id', 'name', 'assigned_user_id', 'widget_kind', 'currency_id', 'unit_price', 'account_id_c']));
    expect(widgets.fields.related_account).toMatchObject({ type: 'relate', module: 'Accounts', id_name: 'account_id_c' });
    expect(registry.dropdown('widget_kind_list')).toEqual({ small: 'Small', large: 'Large', custom: 'Made to order' });
    expect(registry.appListStrings.moduleListSingular).toMatchObject({ acme_Widgets: 'Widget' });
    expect(widgets.links.acme_widgets_contacts.relationship.join_table).toBe('acme_widgets_contacts_c');
    const contacts = registry.module('Contacts');
    expect(contacts.links.acme_widgets_contacts.module).toBe('acme_Widgets');
    expect(contacts.views.subpanels?.subpanel_setup.acme_widgets_contacts).toMatchObject({ module: 'acme_Widgets', list_fields: ['name', 'widget_kind', 'unit_price'] });
    expect(contacts.strings.LBL_ACME_WIDGETS_CONTACTS_FROM_ACME_WIDGETS_TITLE).toBe('Widgets');
  });

  it('reads the unpacked package folder and an archive wrapping it in one folder alike; a second import changes nothing', async () => {
    const wrapped = await zipFolder(fixture, path.join(tempDir('wrapped'), 'wrapped.zip'), 'AcmeWidgets/');
    const customDir = tempDir('again');
    await importSugarSource(wrapped, { customDir });
    const again = await importSugarSource(fixture, { customDir });
    expect(again.files.map((f) => f.status)).toEqual(EXPECTED_FILES.map(() => 'unchanged'));
  });

  it('refuses what is not a package with a clear message, and writes nothing', async () => {
    const dir = tempDir('bad');
    const customDir = path.join(dir, 'custom');
    const text = path.join(dir, 'notes.zip');
    fs.writeFileSync(text, 'this is not a zip');
    await expect(importSugarSource(text, { customDir })).rejects.toThrow(/notes\.zip is not a readable zip archive/);
    const noManifest = path.join(dir, 'empty');
    fs.mkdirSync(path.join(noManifest, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(noManifest, 'docs', 'readme.txt'), 'hello');
    const zip = await zipFolder(noManifest, path.join(dir, 'no-manifest.zip'));
    await expect(importSugarSource(zip, { customDir })).rejects.toThrow(/no-manifest\.zip holds no manifest\.php: not a Sugar module package/);
    const logic = path.join(dir, 'logic');
    fs.mkdirSync(logic);
    fs.writeFileSync(path.join(logic, 'manifest.php'), "<?php\n$installdefs = build_installdefs();\n");
    await expect(importSugarSource(logic, { customDir })).rejects.toThrow(/manifest\.php has no literal \$installdefs array/);
    fs.writeFileSync(path.join(logic, 'manifest.php'), "<?php\n$installdefs = array('id' => 'x', 'copy' => array(array('from' => '/etc', 'to' => 'modules/x'), array('from' => '<basepath>/../outside', 'to' => 'modules/y')));\n");
    const report = formatImportReport(await importSugarSource(logic, { customDir }));
    expect(report).toContain("skipped: manifest.php: a 'copy' entry whose 'from' is not inside the package (\"/etc\")");
    expect(report).toContain("skipped: manifest.php: a 'copy' entry naming <basepath>/../outside, which the package does not hold");
    expect(fs.existsSync(customDir)).toBe(false);
  });
});

// The servers load their metadata as they start, so this import (of the unpacked package) happens first.
const importedDir = tempDir('crm');
importSugar(fixture, { customDir: importedDir });

describeEachServer('a module imported from a Module Builder package', (get) => {
  it('has its tables and works through REST v10 and the list, detail and edit pages', async () => {
    const server = get();
    const { db } = server.crm.engine;
    expect((await db.dialect.columns(db.knex, 'acme_widgets')).has('unit_price')).toBe(true);
    expect((await db.dialect.columns(db.knex, 'acme_widgets_contacts_c')).has('acme_widgets_contactscontacts_idb')).toBe(true);

    const token = await server.login('admin', 'secret-admin');
    const account = (await server.call('POST', '/rest/v10/Accounts', { token, body: { name: 'Blue Finch Bank' } })).body;
    const contact = (await server.call('POST', '/rest/v10/Contacts', { token, body: { last_name: 'Okafor' } })).body;
    const created = await server.call('POST', '/rest/v10/acme_Widgets', { token, body: { name: 'Flange', widget_kind: 'custom', unit_price: '19.95', currency_id: '-99', account_id_c: account.id } });
    expect(created.status).toBe(200);
    const refused = await server.call('POST', '/rest/v10/acme_Widgets', { token, body: { name: 'Odd', widget_kind: 'tiny', unit_price: '1' } });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('widget_kind');
    const missingPrice = await server.call('POST', '/rest/v10/acme_Widgets', { token, body: { name: 'Free' } });
    expect(missingPrice.status).toBe(422);
    expect(JSON.stringify(missingPrice.body)).toContain('unit_price');
    const read = (await server.call('GET', `/rest/v10/acme_Widgets/${created.body.id}`, { token })).body;
    expect(read).toMatchObject({ name: 'Flange', widget_kind: 'custom', account_id_c: account.id, related_account: 'Blue Finch Bank' });
    expect(Number(read.unit_price)).toBe(19.95);
    expect((await server.call('POST', `/rest/v10/acme_Widgets/${read.id}/link/acme_widgets_contacts/${contact.id}`, { token })).status).toBe(200);
    const related = (await server.call('GET', `/rest/v10/Contacts/${contact.id}/link/acme_widgets_contacts`, { token })).body;
    expect(related.records.map((r: { name: string }) => r.name)).toEqual(['Flange']);

    // Labels never show a raw key: Module Builder leaves the id field of a relate without a string.
    const v4Session = await server.v4Login('admin', 'secret-admin');
    const described = await server.v4('get_module_fields', { session: v4Session, module_name: 'acme_Widgets', fields: ['account_id_c', 'unit_price', 'acme_widgets_contacts'] });
    expect(described.module_fields.account_id_c.label).toBe('Account');
    expect(described.module_fields.unit_price).toMatchObject({ type: 'currency', label: 'Unit Price', required: 1 });
    expect(described.link_fields.acme_widgets_contacts).toMatchObject({ module: 'Contacts', relationship: 'acme_widgets_contacts' });

    const ui = session(server.url);
    await ui.login('admin', 'secret-admin');
    const list = await ui.request('GET', '/ui/acme_Widgets');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Flange');
    expect(list.text).toContain('Made to order');
    const detail = await ui.request('GET', `/ui/acme_Widgets/${read.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('Pricing');
    expect(detail.text).toContain('Blue Finch Bank');
    expect(detail.text).toContain('Unit Price');
    const edit = await ui.request('GET', `/ui/acme_Widgets/${read.id}/edit`);
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('name="widget_kind"');
    expect(edit.text).toContain('name="unit_price"');
    const contactPage = await ui.request('GET', `/ui/Contacts/${contact.id}`);
    expect(contactPage.text).toContain('Widgets');
    expect(contactPage.text).toContain('Flange');
  });
}, { customDir: importedDir });
