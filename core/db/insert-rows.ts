import type { Knex } from 'knex';

/** SQLite takes at most 500 rows in one compound insert (knex writes it as SELECT … UNION ALL) and 32,766 parameters; MySQL 65,535. */
const MAX_ROWS = 500;
const MAX_PARAMETERS = 20_000;

/** Inserts rows with many-row INSERTs, as few as the databases' statement limits allow. Rows should share their columns. */
export async function insertRows(knex: Knex, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  if (!rows.length) return;
  const columns = Math.max(1, Object.keys(rows[0]).length);
  const size = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / columns)));
  for (let i = 0; i < rows.length; i += size) await knex(table).insert(rows.slice(i, i + size));
}
