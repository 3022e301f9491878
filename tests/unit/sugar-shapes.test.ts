import path from 'node:path';
import { loadRegistry } from '../../core/metadata/registry';
import { MetadataError } from '../../core/errors';

const customDir = path.join(__dirname, '..', 'fixtures', 'sugar-shapes');

describe("Sugar's own shapes, as a mechanical PHP→JSON conversion writes them", () => {
  const notes: string[] = [];
  const registry = loadRegistry({ customDir, warn: (m) => notes.push(m) });
  const gadgets = registry.module('Gadgets');

  it('vardefs: empty PHP arrays, keyed rows, 0/1 flags, every Sugar key kept', () => {
    expect(gadgets.dictionary.relationships).toEqual(expect.any(Object));
    expect(gadgets.audited).toBe(true);
    expect(gadgets.indices.map((i) => [i.name, i.fields])).toEqual(expect.arrayContaining([['idx_gadget_serial', ['serial']], ['idx_gadget_account', ['account_id']]]));
    expect(gadgets.fields.serial).toMatchObject({ length: 40, id: 'Gadgetsserial', Importable: 'true', db_encrypted: false, sort_on2: 'name', 'api-visible': true, studio: {} });
    expect(gadgets.fields.weight.min).toBeUndefined();
    expect(gadgets.fields.weight.validation).toEqual({ type: 'range' });
    expect(gadgets.fields.date_end.validation).toEqual({ type: 'isbefore', compareto: 'date_start', blank: true });
  });

  it("source 'function' is a virtual field; a non-db field may have any type", () => {
    expect(gadgets.fields.summary).toMatchObject({ source: 'non-db', sugar_source: 'function', function_class: 'GadgetHelper' });
    expect(gadgets.columns).not.toContain('summary');
    expect(gadgets.columns).not.toContain('tagline');
    expect(gadgets.columns).toEqual(expect.arrayContaining(['serial', 'weight', 'date_start', 'date_end', 'colour', 'month_made', 'account_id']));
  });

  it("a relationship declared in another module's vardefs links both sides", () => {
    expect(gadgets.links.account).toMatchObject({ module: 'Accounts', side: 'rhs', one: true });
    expect(registry.module('Accounts').links.gadgets).toMatchObject({ module: 'Gadgets', side: 'lhs', one: false });
  });

  it('list view: lower-case keys and 0/1/string flags read as PHP reads them', () => {
    expect(Object.keys(gadgets.views.list!)).toEqual(['NAME', 'SERIAL', 'WEIGHT', 'ACCOUNT_NAME']);
    expect(Object.values(gadgets.views.list!).map((c) => c.default)).toEqual([true, true, false, false]);
    expect(gadgets.views.list!.NAME.link).toBe(true);
    expect(gadgets.views.list!.ACCOUNT_NAME.related_fields).toEqual(['account_id']);
  });

  it('search: list-shaped layouts keyed by field name; SearchFields-only entries left out with a note', () => {
    const layout = gadgets.views.search!.layout;
    expect(Object.keys(layout.basic_search)).toEqual(['name', 'current_user_only']);
    expect(Object.keys(layout.advanced_search)).toEqual(['name', 'serial']);
    expect(layout.advanced_search.serial.default).toBe(true);
    expect(notes).toEqual(expect.arrayContaining([expect.stringContaining("'address_street' is not a field of Gadgets")]));
  });

  it('detail layout: keyed rows and cells, a bare-cell row, customCode cells', () => {
    const rows = gadgets.views.detail!.panels.default;
    expect(rows[0]).toEqual(['name', 'serial']);
    expect(rows[2]).toEqual(['account_name']);
    expect(rows[3][0]).toMatchObject({ name: 'gadget_badge' });
    expect(gadgets.views.detail!.templateMeta!.widths).toHaveLength(2);
  });

  it('subpanels: collections keep their link sources, function sources are left out with a note', () => {
    const setup = gadgets.views.subpanels!.subpanel_setup;
    expect(Object.keys(setup)).toEqual(['history']);
    expect(setup.history).toMatchObject({ order: 10, sort_order: 'desc', type: 'collection' });
    expect(Object.keys(setup.history.collection_list as object)).toEqual(['accounts']);
    expect(notes).toEqual(expect.arrayContaining([
      expect.stringContaining("'function:get_gadget_notes' is PHP code Cane does not run"),
      expect.stringContaining("'function:get_emails_by_assign_or_link' is PHP code Cane does not run"),
    ]));
  });

  it('language: array values are not labels; PHP-list dropdowns get keys "0", "1", …', () => {
    expect(gadgets.strings.LBL_SERIAL).toBe('Serial');
    expect(gadgets.strings.LBL_GADGET_LIST).toBeUndefined();
    expect(gadgets.strings.LBL_COUNT).toBe('3');
    expect(registry.appStrings.LBL_GADGET).toBe('Gadget');
    expect(registry.appStrings.LBL_GADGET_ARRAY).toBeUndefined();
    expect(registry.dropdown('month_names_dom')).toMatchObject({ 0: '', 1: 'January', 12: 'December' });
    expect(registry.dropdown('gadget_empty_dom')).toEqual({});
    expect(registry.dropdown('gadget_scalar')).toBeUndefined();
  });
});

describe('what would really break is still refused, naming file, pointer and rule', () => {
  const fixtures = (files: Record<string, unknown>) => {
    const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
    const os = jest.requireActual<typeof import('node:os')>('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-sugar-'));
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), JSON.stringify(content));
    }
    return dir;
  };
  const refused = (files: Record<string, unknown>) => {
    try {
      loadRegistry({ customDir: fixtures(files) });
    } catch (err) {
      expect(err).toBeInstanceOf(MetadataError);
      return err as MetadataError;
    }
    throw new Error('expected the metadata to be refused');
  };

  it('a stored field of a type Cane cannot store', () => {
    const err = refused({ 'modules/Widgets/vardefs.json': { Widget: { table: 'widgets', templates: ['basic'], fields: { where: { type: 'address' } } } } });
    expect([err.pointer, err.rule]).toEqual(['/Widget/fields/where/type', 'enum']);
    const db = refused({ 'modules/Widgets/vardefs.json': { Widget: { table: 'widgets', templates: ['basic'], fields: { where: { type: 'address', dbType: 'geometry' } } } } });
    expect([db.pointer, db.rule]).toEqual(['/Widget/fields/where/dbType', 'type']);
  });

  it('a layout cell or subpanel naming nothing of the module', () => {
    const cell = refused({ 'modules/Accounts/metadata/detailviewdefs.json': { Accounts: { DetailView: { panels: { default: { 0: { 0: 'name', 1: 'nope' } } } } } } });
    expect([cell.pointer, cell.rule]).toEqual(['/Accounts/DetailView/panels/default/0/1', 'field']);
    const member = refused({ 'modules/Accounts/metadata/subpaneldefs.json': { Accounts: { subpanel_setup: { history: { module: 'History', type: 'collection', collection_list: { x: { module: 'Notes', get_subpanel_data: 'sticky_notes' } } } } } } });
    expect([member.pointer, member.rule]).toEqual(['/Accounts/subpanel_setup/history/collection_list/x/get_subpanel_data', 'link']);
  });

  it('a validation type Sugar does not have, and unknown keys', () => {
    const err = refused({ 'modules/Accounts/vardefs.json': { Account: { fields: { name: { validation: { type: 'isbefor' } } } } } });
    expect([err.pointer, err.rule]).toEqual(['/Account/fields/name/validation/type', 'enum']);
    const key = refused({ 'modules/Accounts/vardefs.json': { Account: { fields: { name: { lenght: 3 } } } } });
    expect(key.message).toContain("unknown key 'lenght'");
  });
});
