import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRegistry } from '../../core/metadata/registry';
import { SYSTEM } from '../../core/records/actor';
import { describeEachServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

const customDir = path.join(__dirname, '..', 'fixtures', 'custom-extensions');

describe('Extension fragments (custom/Extension/modules/<Module>/Ext)', () => {
  it('add fields, labels, layout rows and subpanels to a shipped module, after custom/modules', () => {
    const contacts = loadRegistry({ customDir }).module('Contacts');
    // Shipped, then custom/modules, then Extension fragments in file-name order: the later one wins.
    expect(contacts.fields.loyalty_c).toMatchObject({ type: 'varchar', len: 80, vname: 'LBL_LOYALTY', source: 'custom_fields' });
    expect(contacts.fields.nickname_c).toMatchObject({ type: 'varchar', len: 60, source: 'custom_fields' });
    expect(contacts.customColumns).toEqual(expect.arrayContaining(['loyalty_c', 'nickname_c']));
    expect(contacts.strings.LBL_LOYALTY).toBe('Loyalty Level');
    expect(contacts.strings.LBL_LOYALTY_OLD).toBe('Old loyalty label');
    expect(contacts.strings.LBL_FIRST_NAME).toBe('First Name');
    const edit = contacts.views.edit!.panels.lbl_contact_information;
    expect(edit.at(-1)).toEqual(['loyalty_c', 'nickname_c']);
    expect(edit.length).toBeGreaterThan(1);
    expect(contacts.views.detail!.panels.lbl_contact_information.at(-1)).toEqual(['loyalty_c', 'nickname_c']);
    expect(contacts.views.list!.LOYALTY_C).toEqual({ label: 'LBL_LOYALTY', default: false });
    expect(contacts.views.subpanels!.subpanel_setup.accounts).toMatchObject({ get_subpanel_data: 'accounts', title_key: 'LBL_ACCOUNTS_SUBPANEL_TITLE' });
    expect(contacts.views.subpanels!.subpanel_setup.opportunities).toBeDefined();
    // The shipped module is unchanged without the overlay.
    expect(loadRegistry({ customDir: '/nonexistent' }).module('Contacts').fields.loyalty_c).toBeUndefined();
  });

  describe('a bad fragment is refused naming file, pointer and rule', () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['Vardefs', 'a.json', { field: {} }, "at /field: unknown key 'field'; a Vardefs fragment has fields, relationships and indices (additionalProperties)"],
      ['Vardefs', 'a.json', { fields: { new_c: { len: 5 } } }, "at /fields/new_c: new field 'new_c' needs a 'type' (required)"],
      ['Vardefs', 'a.json', { fields: { name: { len: 'long' } } }, 'at /fields/name/len:'],
      ['Language', 'loyalty.json', { LBL_X: 'x' }, ": a Language fragment is named '<language>.<name>.json'"],
      ['Viewdefs', 'a.json', { EditView: { panels: { lbl_contact_information: { append: [['no_such_field']] } } } }, "at /EditView/panels/lbl_contact_information/append/0/0: 'no_such_field' is not a field of Contacts (field)"],
      ['Viewdefs', 'a.json', { EditView: { panels: { lbl_nowhere: { append: [['title']] } } } }, "at /EditView/panels/lbl_nowhere/append: EditView of Contacts has no panel 'lbl_nowhere'"],
      ['Viewdefs', 'a.json', { SearchView: {} }, "at /SearchView: unknown view 'SearchView'"],
      ['Layoutdefs', 'a.json', { subpanel_setup: { x: { module: 'Accounts', get_subpanel_data: 'title' } } }, "at /subpanel_setup/x/get_subpanel_data: 'title' is not a link of Contacts (link)"],
    ];
    it.each(cases)('%s/%s %j', (kind, name, fragment, message) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-ext-'));
      const folder = path.join(dir, 'Extension', 'modules', 'Contacts', 'Ext', kind);
      fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(path.join(folder, name), JSON.stringify(fragment));
      expect(() => loadRegistry({ customDir: dir })).toThrow(`${path.join(folder, name)}${message.startsWith(':') ? '' : ' '}${message}`);
    });
  });

  it('read fragments written in Sugar\'s PHP shapes as Sugar reads them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-ext-'));
    const write = (kind: string, name: string, data: unknown) => {
      fs.mkdirSync(path.join(dir, 'Extension', 'modules', 'Contacts', 'Ext', kind), { recursive: true });
      fs.writeFileSync(path.join(dir, 'Extension', 'modules', 'Contacts', 'Ext', kind, name), JSON.stringify(data));
    };
    // What a mechanical PHP→JSON conversion writes: [] for an empty map, keyed rows, 0/1 flags, numbers as labels, arrays among labels.
    write('Vardefs', 'shoe.json', {
      fields: { shoe_size_c: { name: 'shoe_size_c', type: 'int', min: false, max: false, vname: 'LBL_SHOE_SIZE' } },
      relationships: [],
      indices: { 0: { name: 'idx_shoe_size', type: 'index', fields: 'shoe_size_c' } },
    });
    write('Language', 'en_us.shoe.json', { LBL_SHOE_SIZE: 'Shoe size', LBL_ANSWER: 42, shoe_sizes: ['S', 'M'] });
    write('Layoutdefs', 'shoe.json', { subpanel_setup: { shoes: { order: '120', sort_order: 'DESC', module: 'Accounts', get_subpanel_data: 'accounts', top_buttons: { 0: { widget_class: 'SubPanelTopSelectButton' } } } } });
    write('Viewdefs', 'shoe.json', { EditView: { panels: { lbl_contact_information: { append: { 0: { 0: 'shoe_size_c' } } } } }, ListView: { shoe_size_c: { label: 'LBL_SHOE_SIZE', default: 0 } } });
    const contacts = loadRegistry({ customDir: dir }).module('Contacts');
    expect(contacts.fields.shoe_size_c).toMatchObject({ type: 'int', source: 'custom_fields' });
    expect(contacts.fields.shoe_size_c.min).toBeUndefined();
    expect(contacts.strings).toMatchObject({ LBL_SHOE_SIZE: 'Shoe size', LBL_ANSWER: '42' });
    expect(contacts.strings.shoe_sizes).toBeUndefined();
    expect(contacts.views.subpanels!.subpanel_setup.shoes).toMatchObject({ order: 120, sort_order: 'desc', top_buttons: [{ widget_class: 'SubPanelTopSelectButton' }] });
    expect(contacts.views.edit!.panels.lbl_contact_information.at(-1)).toEqual(['shoe_size_c']);
    expect(contacts.views.list!.SHOE_SIZE_C).toEqual({ label: 'LBL_SHOE_SIZE', default: false });
  });

  it('add single dropdown options and labels application-wide (custom/Extension/application/Ext/Language)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-ext-'));
    const folder = path.join(dir, 'Extension', 'application', 'Ext', 'Language');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'en_us.fintech.json'), JSON.stringify({ app_list_strings: { industry_dom: { Fintech: 'Fintech' }, region_dom: { north: 'North' } }, app_strings: { LBL_REGION: 'Region' } }));
    fs.writeFileSync(path.join(folder, 'en_us.later.json'), JSON.stringify({ app_list_strings: { industry_dom: { Fintech: 'Financial technology' } } }));
    fs.writeFileSync(path.join(folder, 'fr_fr.fintech.json'), JSON.stringify({ app_list_strings: { industry_dom: { Fintech: 'Technologie financière' } } }));
    const shipped = loadRegistry({ customDir: '/nonexistent' }).dropdown('industry_dom')!;
    const registry = loadRegistry({ customDir: dir });
    // the shipped options stay, the new one comes after them, the later file wins
    expect(registry.dropdown('industry_dom')).toEqual({ ...shipped, Fintech: 'Financial technology' });
    expect(registry.dropdown('region_dom')).toEqual({ north: 'North' });
    expect(registry.appStrings.LBL_REGION).toBe('Region');
    fs.writeFileSync(path.join(folder, 'regions.json'), '{}');
    expect(() => loadRegistry({ customDir: dir })).toThrow(`${path.join(folder, 'regions.json')}: an application Language fragment is named '<language>.<name>.json'`);
  });

  it('names an Extension folder of a module that does not exist', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-ext-'));
    fs.mkdirSync(path.join(dir, 'Extension', 'modules', 'Contactz', 'Ext', 'Vardefs'), { recursive: true });
    const warnings: string[] = [];
    loadRegistry({ customDir: dir, warn: (w) => warnings.push(w) });
    expect(warnings).toContain(`${path.join(dir, 'Extension', 'modules', 'Contactz', 'Ext')}: module Contactz is not defined; its Extension fragments are ignored`);
  });
});

describeEachServer('a field added by an Extension fragment', (get) => {
  it('has a column, is saved and read, and is on the edit and detail pages with its label and subpanel', async () => {
    const { crm } = get();
    const columns = await crm.engine.db.dialect.columns(crm.engine.db.knex, 'contacts_cstm');
    expect(columns.has('loyalty_c')).toBe(true);
    expect(columns.has('nickname_c')).toBe(true);
    const contact = await crm.records.create(SYSTEM, 'Contacts', { last_name: 'Extended', loyalty_c: 'gold', nickname_c: 'Exy' });
    expect(await crm.records.retrieve(SYSTEM, 'Contacts', contact.id)).toMatchObject({ loyalty_c: 'gold', nickname_c: 'Exy' });

    const ui = session(get().url);
    const csrf = await ui.login('admin', 'secret-admin');
    const detail = await ui.request('GET', `/ui/Contacts/${contact.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('Loyalty Level');
    expect(detail.text).toContain('gold');
    expect(detail.text).toContain('Nickname');
    expect(detail.text).toContain('Organisations');
    // No raw label keys: a key with no string (LBL_REFERRAL_CODE, panel lbl_referral) shows as words.
    expect(detail.text.replace(/<[^>]*>/g, ' ')).not.toMatch(/\bLBL_[A-Za-z_]+\b|\blbl_[a-z_]+\b/);
    expect(detail.text).toContain('Referral Code');
    expect(detail.text).toMatch(/>\s*Referral\s*</);
    expect(detail.text).toContain('Create Account');
    const list = await ui.request('GET', '/ui/Contacts');
    expect(list.text).toMatch(/>Create Contact</);
    expect(list.text).not.toContain('Create Contacts');
    expect((await ui.request('GET', '/ui/Contacts/new')).text).toContain('New Contact');
    const edit = await ui.request('GET', `/ui/Contacts/${contact.id}/edit`);
    expect(edit.text).toMatch(/name="loyalty_c"[^>]*value="gold"|value="gold"[^>]*name="loyalty_c"/);
    const saved = await ui.request('POST', `/ui/Contacts/${contact.id}/edit`, { csrf, last_name: 'Extended', loyalty_c: 'platinum', date_modified: String((await crm.records.retrieve(SYSTEM, 'Contacts', contact.id)).date_modified) });
    expect(saved.status).toBe(302);
    expect((await crm.records.retrieve(SYSTEM, 'Contacts', contact.id)).loyalty_c).toBe('platinum');
  });
}, { customDir });
