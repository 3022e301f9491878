import path from 'node:path';
import { loadRegistry } from '../../core/metadata/registry';
import { syncSchema } from '../../core/db/sync';
import { ValidationError } from '../../core/errors';
import { admin, describeEachEngine } from '../helpers/engine';

const customDir = path.join(__dirname, '..', 'fixtures', 'custom-projects');

describe('overlay folder', () => {
  it('adds a module, fields, labels and dropdowns without touching shipped files', () => {
    const registry = loadRegistry({ customDir });
    const projects = registry.module('Projects');
    expect(projects.custom).toBe(true);
    expect(projects.table).toBe('projects');
    expect(projects.columns.slice(0, 9)).toEqual(['id', 'name', 'date_entered', 'date_modified', 'modified_user_id', 'created_by', 'description', 'deleted', 'assigned_user_id']);
    expect(registry.tables.map((t) => t.name)).toEqual(expect.arrayContaining(['projects', 'projects_audit']));
    const accounts = registry.module('Accounts');
    expect(accounts.fields.name.len).toBe(200);
    expect(accounts.fields.name.audited).toBe(true);
    expect(accounts.links.projects.module).toBe('Projects');
    expect(accounts.strings.LBL_LIST_ACCOUNT_NAME).toBe('Organisation');
    expect(accounts.strings.LBL_PHONE_OFFICE).toBe('Office Phone');
    expect(registry.appListStrings.moduleList).toEqual({ Projects: 'Projects' });
    expect(registry.appListStrings.industry_dom.Banking).toBe('Banking');
    expect(loadRegistry({ customDir: '/nonexistent' }).module('Accounts').fields.name.len).toBe(150);
  });
});

describeEachEngine('a module added through the overlay folder alone', (get) => {
  it('syncs, validates, relates, audits and filters end to end', async () => {
    const { records, db, registry } = get();
    const cols = await db.dialect.columns(db.knex, 'accounts');
    if (db.dialect.name === 'mysql') expect(cols.get('name')?.type).toBe('varchar(200)');
    // An overlay field named *_c on a shipped module is a custom field: kept in accounts_cstm, as Studio keeps it.
    expect(cols.has('loyalty_tier_c')).toBe(false);
    expect((await db.dialect.columns(db.knex, 'accounts_cstm')).has('loyalty_tier_c')).toBe(true);

    const account = await records.create(admin, 'Accounts', { name: 'N'.repeat(180), loyalty_tier_c: 'gold' });
    const project = await records.create(admin, 'Projects', { name: 'Migration', budget: '12000.50', account_id: account.id });
    expect(project).toMatchObject({ status: 'planned', budget: '12000.500000', account_name: 'N'.repeat(180) });

    const bad = await records.create(admin, 'Projects', { name: 'Bad', status: 'someday' }).catch((e) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.problems).toEqual([{ field: 'status', rule: 'enum', message: "'someday' is not an option of project_status_dom" }]);

    await records.update(admin, 'Projects', project.id, { status: 'active' });
    expect((await records.auditLog(admin, 'Projects', project.id)).map((e) => [e.field_name, e.before_value, e.after_value])).toEqual([['status', 'planned', 'active']]);

    expect((await records.listRelated(admin, 'Accounts', account.id, 'projects')).records.map((r) => r.name)).toEqual(['Migration']);
    expect((await records.list(admin, 'Projects', { filter: [{ status: { $in: ['active'] } }] })).records).toHaveLength(1);
    expect(registry.module('Projects').views.list?.STATUS).toMatchObject({ default: true });

    // Running sync again changes nothing.
    expect((await syncSchema(db, registry)).steps).toEqual([]);
  });
}, { customDir });
