import { loadRegistry } from '../../core/metadata/registry';
import { planSync, syncSchema, formatPlan } from '../../core/db/sync';
import { describeEachDatabase } from '../helpers/databases';
import suite from '../fixtures/suitecrm-7.14-columns.json';

const registry = loadRegistry({ customDir: '/nonexistent' });

describeEachDatabase('schema sync', (get) => {
  it('creates every table, then finds nothing left to do', async () => {
    const { db } = get();
    const first = await syncSchema(db, registry);
    expect(first.steps.filter((s) => s.action === 'create table').map((s) => s.table).sort()).toEqual(registry.tables.map((t) => t.name).sort());
    const second = await planSync(db, registry);
    expect(second.steps).toEqual([]);
    expect(second.notes).toEqual([]);
    expect(formatPlan(second)).toBe('Schema is up to date.');
  });

  it('adds a missing column and index without touching data, and never drops', async () => {
    const { db } = get();
    await db.knex('accounts').insert({ id: 'a1', name: 'Kept', deleted: 0 });
    await db.knex.schema.alterTable('accounts', (t) => t.dropColumn('sic_code'));
    await db.knex.schema.alterTable('accounts', (t) => t.string('legacy_extra', 20));
    const plan = await planSync(db, registry);
    expect(plan.steps.map((s) => `${s.action} ${s.detail}`)).toEqual(['add column sic_code varchar(10)']);
    await syncSchema(db, registry);
    const cols = await db.dialect.columns(db.knex, 'accounts');
    expect(cols.has('sic_code')).toBe(true);
    expect(cols.has('legacy_extra')).toBe(true);
    expect((await db.knex('accounts').where('id', 'a1').first()).name).toBe('Kept');
  });

  it('dry run leaves the database untouched', async () => {
    const { db } = get();
    await db.knex.schema.dropTable('sms_related');
    const plan = await planSync(db, registry);
    expect(plan.steps.map((s) => s.table)).toEqual(['sms_related']);
    expect((await db.dialect.tables(db.knex)).has('sms_related')).toBe(false);
    await syncSchema(db, registry);
  });
});

/** Nullable columns Cane adds to SuiteCRM's tables on purpose (SuiteCRM leaves them alone); nothing else may differ. */
const CANE_COLUMNS: Record<string, string[]> = { prospect_lists: ['dynamic_filter'], aow_processed: ['resume_at', 'resume_from'] };

describeEachDatabase('SuiteCRM 7.14 column compatibility', (get) => {
  it('generates the columns SuiteCRM generates for the core tables', async () => {
    const { db } = get();
    await syncSchema(db, registry);
    const problems: string[] = [];
    for (const [table, expected] of Object.entries(suite.tables)) {
      if (db.dialect.name === 'sqlite') {
        const cols = await db.dialect.columns(db.knex, table);
        for (const col of expected) if (!cols.has(col.name)) problems.push(`${table}.${col.name} missing`);
        continue;
      }
      const rows: Array<{ name: string; type: string; nullable: string; def: string | null; extra: string }> = await db.knex('information_schema.columns')
        .select({ name: 'COLUMN_NAME', type: 'COLUMN_TYPE', nullable: 'IS_NULLABLE', def: 'COLUMN_DEFAULT', extra: 'EXTRA' })
        .whereRaw('table_schema = DATABASE()').andWhere('TABLE_NAME', table).orderBy('ORDINAL_POSITION');
      const actual = new Map(rows.map((r) => [r.name, r]));
      for (const col of expected) {
        const got = actual.get(col.name);
        if (!got) { problems.push(`${table}.${col.name} missing`); continue; }
        const type = got.type.toLowerCase();
        const typeOk = col.type === 'text(100)' ? ['text', 'tinytext'].includes(type) : type === col.type;
        if (!typeOk) problems.push(`${table}.${col.name}: ${type} != ${col.type}`);
        if ((got.nullable === 'NO') !== col.notNull) problems.push(`${table}.${col.name}: nullable ${got.nullable}, expected NOT NULL=${col.notNull}`);
        const def = got.def === null || got.def === 'NULL' ? null : got.def.replace(/^'(.*)'$/, '$1');
        if (def !== col.default) problems.push(`${table}.${col.name}: default ${def} != ${col.default}`);
        if (col.autoIncrement !== /auto_increment/i.test(got.extra)) problems.push(`${table}.${col.name}: auto_increment mismatch`);
      }
      const extra = rows.map((r) => r.name).filter((n) => !expected.some((c) => c.name === n) && !(CANE_COLUMNS[table] ?? []).includes(n));
      if (extra.length) problems.push(`${table}: extra columns ${extra.join(', ')}`);
      const order = rows.map((r) => r.name).filter((n) => expected.some((c) => c.name === n));
      if (order.join() !== expected.map((c) => c.name).join()) problems.push(`${table}: column order differs`);
    }
    expect(problems).toEqual([]);
  });
});
