import { openDatabase, type Database } from '../../core/db/connection';

// SQLite prepares a statement again on every run when its LIMIT is bound, so Cane's SQLite client
// writes whole-number limits into the SQL; everything else stays bound.
describe('SQLite client', () => {
  let db: Database;
  beforeAll(async () => {
    db = openDatabase('sqlite::memory:');
    await db.knex.schema.createTable('letters', (t) => { t.string('id').primary(); t.integer('n'); });
    await db.knex('letters').insert(['a', 'b', 'c', 'd'].map((id, n) => ({ id, n })));
  });
  afterAll(() => db.close());

  it('writes a whole-number limit into the SQL and keeps values and offsets bound', async () => {
    const first = db.knex('letters').where('n', '>', 0).orderBy('n').first('id').toSQL();
    expect(first.sql).toBe('select `id` from `letters` where `n` > ? order by `n` asc limit 1');
    expect(first.bindings).toEqual([0]);
    const page = db.knex('letters').orderBy('n').limit(2).offset(1).toSQL();
    expect(page.sql).toBe('select * from `letters` order by `n` asc limit 2 offset ?');
    expect(page.bindings).toEqual([1]);
    expect(await db.knex('letters').orderBy('n').limit(2).offset(1).pluck('id')).toEqual(['b', 'c']);
    expect(await db.knex('letters').where('n', '>', 1).orderBy('n').first('id')).toEqual({ id: 'c' });
  });

  it('does the same inside a transaction', async () => {
    await db.knex.transaction(async (trx) => {
      expect(trx('letters').first().toSQL().sql).toBe('select * from `letters` limit 1');
      expect(await trx('letters').orderBy('n', 'desc').first('id')).toEqual({ id: 'd' });
    });
  });

  it('keeps a zero limit', async () => {
    expect(db.knex('letters').limit(0).toSQL().sql).toBe('select * from `letters` limit 0');
    expect(await db.knex('letters').limit(0)).toEqual([]);
  });
});
