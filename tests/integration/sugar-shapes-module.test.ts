import path from 'node:path';
import { syncSchema } from '../../core/db/sync';
import { admin, describeEachEngine } from '../helpers/engine';

const customDir = path.join(__dirname, '..', 'fixtures', 'sugar-shapes');

describeEachEngine('a module written in Sugar’s own shapes', (get) => {
  it('gets its table, saves and reads records, and follows a relationship declared by the other module', async () => {
    const { records, db, registry } = get();
    const columns = await db.dialect.columns(db.knex, 'gadgets');
    expect([...columns.keys()]).toEqual(expect.arrayContaining(['id', 'name', 'serial', 'weight', 'date_end', 'month_made', 'account_id']));
    expect(columns.has('summary')).toBe(false);
    expect(columns.has('tagline')).toBe(false);

    const account = await records.create(admin, 'Accounts', { name: 'Acme' });
    const gadget = await records.create(admin, 'Gadgets', {
      name: 'Sprocket', serial: 'S-1', weight: 7, colour: 'red', month_made: '1', date_start: '2026-01-01', date_end: '2026-02-01', account_id: account.id,
    });
    const read = await records.retrieve(admin, 'Gadgets', gadget.id);
    expect(read).toMatchObject({ name: 'Sprocket', serial: 'S-1', weight: 7, colour: 'red', month_made: '1', account_name: 'Acme' });
    expect(read.summary ?? '').toBe('');

    await records.update(admin, 'Gadgets', gadget.id, { serial: 'S-2' });
    expect((await records.auditLog(admin, 'Gadgets', gadget.id)).map((e) => e.field_name)).toEqual([]);
    expect((await records.listRelated(admin, 'Accounts', account.id, 'gadgets')).records.map((r) => r.name)).toEqual(['Sprocket']);
    expect((await syncSchema(db, registry)).steps).toEqual([]);
  });
}, { customDir });
